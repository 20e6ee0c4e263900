"""What both backends store and ask, decided once: points, scope filters, hybrid fusion.

Each backend only translates these plain values into its client's types (``qdrant_edge`` in
``rag.index.edge``, ``qdrant_client.models`` in ``rag.index.server``), so the two always hold
the same points and run the same queries: a sparse vector ``sparse`` (BM25 term weights from
``rag.sparse``, IDF applied by Qdrant) and, when embeddings are configured, a dense vector
``dense``; a query with both fuses two prefetches with RRF (``RRF_K``), otherwise it is sparse
only; ``version`` / ``locale`` become exact-match conditions on the payload.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..chunking import Chunk
from ..sparse import SparseVector, encode_document
from .base import UPSERT_BATCH, PageEntry, ScoredChunk


def sparse_parts(vector: SparseVector) -> tuple[list[int], list[float]]:
    return list(vector.indices), [float(v) for v in vector.values]


@dataclass(frozen=True)
class QueryPlan:
    """One search: sparse, optionally fused with dense, restricted by payload conditions."""

    sparse: tuple[list[int], list[float]]
    dense: list[float] | None
    limit: int
    conditions: tuple[tuple[str, str], ...]  # (payload key, exact value); all must match

    @property
    def fused(self) -> bool:
        return self.dense is not None

    @property
    def prefetch_limit(self) -> int:
        """Candidates each side of an RRF fusion contributes."""
        return max(self.limit * 4, 40)


def plan_query(*, sparse: SparseVector, dense: list[float] | None, limit: int,
               version: str | None, locale: str | None) -> QueryPlan:
    conditions = tuple((key, value) for key, value in (("version", version), ("locale", locale)) if value)
    return QueryPlan(sparse_parts(sparse), dense, limit, conditions)


@dataclass
class PointData:
    """One chunk as a point: id, sparse parts, dense vector (or None), payload."""

    id: str
    sparse: tuple[list[int], list[float]]
    dense: list[float] | None
    payload: dict
    encoded: SparseVector


def point_batches(chunks: list[Chunk], vectors: list[list[float]] | None) -> Iterator[list[PointData]]:
    """The chunks as points in upsert batches; ``vectors`` are their dense vectors, in order."""
    for start in range(0, len(chunks), UPSERT_BATCH):
        batch = []
        for offset, chunk in enumerate(chunks[start:start + UPSERT_BATCH]):
            encoded = encode_document(chunk.index_text)
            batch.append(PointData(chunk.id, sparse_parts(encoded),
                                   vectors[start + offset] if vectors else None,
                                   chunk.payload(), encoded))
        yield batch


def scored(points: Iterable) -> list[ScoredChunk]:
    """Engine results (anything with ``id``, ``score``, ``payload``) as ``ScoredChunk``s."""
    return [ScoredChunk(str(p.id), float(p.score), dict(p.payload or {})) for p in points]


def page_entry(chunks: list[Chunk]) -> PageEntry:
    """A page's manifest entry from its chunks (all share the page fields)."""
    first = chunks[0]
    return PageEntry(page_hash=first.page_hash, chunk_count=len(chunks), url=first.page_url,
                     title=first.title, version=first.version, locale=first.locale,
                     plugin_id=first.extra.get("plugin_id", ""),
                     latest=bool(first.extra.get("version_latest")))


def page_entry_from_payload(payload: dict) -> PageEntry:
    """A page's manifest entry (count 1) from one of its points' payload."""
    return PageEntry(payload.get("page_hash", ""), 1, payload.get("page_url", ""),
                     payload.get("title", ""), payload.get("version", ""), payload.get("locale", ""),
                     payload.get("plugin_id", ""), bool(payload.get("version_latest")))
