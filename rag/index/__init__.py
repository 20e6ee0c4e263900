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
    INDEX_FORMAT,
    PAYLOAD_KEYWORDS,
    RRF_K,
    SPARSE,
    UPSERT_BATCH,
    Embedder,
    IndexSpec,
    Manifest,
    PageEntry,
    ScoredChunk,
    SearchIndex,
    WritePlan,
    ingest_hint,
)
from .edge import EdgeIndex, edge_version
from .factory import get_index, reset_index
from .generations import READERS_LOCK
from .server import ServerIndex
from .status import degraded_answers, index_status, note_degraded_answer

__all__ = [
    "DENSE", "INDEX_FORMAT", "PAYLOAD_KEYWORDS", "READERS_LOCK", "RRF_K", "SPARSE", "UPSERT_BATCH",
    "EdgeIndex", "Embedder", "IndexSpec", "Manifest", "PageEntry", "ScoredChunk", "SearchIndex",
    "ServerIndex", "WritePlan", "degraded_answers", "edge_version", "get_index", "index_status",
    "ingest_hint", "note_degraded_answer", "reset_index",
]
