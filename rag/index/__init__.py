"""The search index: one interface, two backends with the same points and the same queries.

- ``base``: the ``SearchIndex`` interface and the values it takes and returns.
- ``edge``: ``EdgeIndex``, Qdrant Edge in-process (default, no ``QDRANT_URL``), stored in
  generations managed by ``generations``.
- ``server``: ``ServerIndex``, a Qdrant server or Qdrant Cloud (``QDRANT_URL`` set).
- ``points``: what both store and ask (points, scope filters, RRF fusion), decided once.
- ``factory``: ``get_index()``, the one accessor, reset when its settings change.
- ``status``: the index status and degraded-answer count for GET /chat and /readyz.

Callers import from ``rag.index``; the names below are the public ones.
"""

from .base import (
    DENSE,
    SPARSE,
    Calibrator,
    Embedder,
    IndexSpec,
    Manifest,
    PageEntry,
    ScoredChunk,
    SearchIndex,
    WritePlan,
)
from .edge import EdgeIndex, edge_version
from .factory import get_index, reset_index
from .server import ServerIndex
from .status import degraded_answers, index_status, note_degraded_answer

__all__ = [
    "DENSE", "SPARSE", "Calibrator", "EdgeIndex", "Embedder", "IndexSpec", "Manifest", "PageEntry",
    "ScoredChunk", "SearchIndex", "ServerIndex", "WritePlan", "degraded_answers", "edge_version",
    "get_index", "index_status", "note_degraded_answer", "reset_index",
]
