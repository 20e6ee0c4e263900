"""Search the docs index: ``search()`` returns scored chunks as ``Hit`` objects.

Synchronous and thread-safe (the chat service calls it through ``asyncio.to_thread``). A
query is encoded as a sparse BM25 vector and, when the index has dense vectors from the
configured embedding model, also embedded; the index then fuses both with Qdrant's RRF
(``SearchResult.mode == "hybrid"``) or ranks by sparse scores alone (``"sparse"``). If the
embedding endpoint fails the search falls back to sparse rather than failing.

Raises ``RetrievalUnavailable`` (with a message saying what to do) when the index is missing,
locked, built by another engine version, or the Qdrant server is unreachable.
"""

import logging
import time
from dataclasses import dataclass, replace

from .conf import rag_settings
from .documents import CURRENT_VERSION
from .embeddings import embed_query, model_key
from .exceptions import EmbeddingError, RetrievalUnavailable
from .index import SearchIndex, get_index, index_status
from .sparse import encode_query
from .types import Hit

logger = logging.getLogger(__name__)

MAX_K = 100
# Page-level evidence: a chunk gains this share of the scores of its page's next-best
# chunks among the candidates (at most PAGE_EVIDENCE_CHUNKS of them), so a page that
# answers from several sections outranks one lucky sentence elsewhere. 0 turns it off.
PAGE_EVIDENCE = 0.1
PAGE_EVIDENCE_CHUNKS = 2
# Candidates fetched to judge page evidence, whatever k the caller wants.
CANDIDATES = 30

__all__ = ["Hit", "SearchResult", "index_status", "search"]


@dataclass
class SearchResult:
    hits: list[Hit]
    elapsed_ms: float
    mode: str = "sparse"  # "hybrid" (RRF over sparse + dense) or "sparse"


def _hit(point) -> Hit:
    p = point.payload
    return Hit(
        chunk_id=point.id, score=point.score, path=p.get("path", ""), url=p.get("url", ""),
        title=p.get("title", ""), heading=p.get("heading", ""),
        heading_path=list(p.get("heading_path") or []), text=p.get("text", ""),
        version=p.get("version", ""), locale=p.get("locale", ""), page_url=p.get("page_url", ""),
    )


def _with_page_evidence(hits: list[Hit]) -> list[Hit]:
    """Hits re-ranked by their own score plus a share of their page's other best chunks.

    Each hit's ``score`` becomes that ranking score, so callers that show scores (sources,
    MCP ``search_docs``) list them in the order they are ranked.
    """
    by_page: dict[str, list[float]] = {}
    for hit in hits:
        by_page.setdefault(hit.path, []).append(hit.score)
    boosted = []
    for position, hit in enumerate(hits):
        others = sorted(by_page[hit.path], reverse=True)
        others.remove(hit.score)
        bonus = PAGE_EVIDENCE * sum(others[:PAGE_EVIDENCE_CHUNKS])
        boosted.append((-(hit.score + bonus), position, hit))
    boosted.sort(key=lambda item: item[:2])
    return [replace(hit, score=-negative) for negative, _, hit in boosted]


def search(
    *,
    query: str,
    k: int = 8,
    collection: str | None = None,
    version: str | None = None,
    locale: str | None = None,
    index: SearchIndex | None = None,
    sparse_only: bool = False,
) -> SearchResult:
    """The ``k`` chunks most relevant to ``query``, best first.

    ``version`` / ``locale`` restrict results to pages of that docs version or language.
    A follow-up is rewritten into a standalone query before this call (``rag.rewrite``).
    """
    started = time.perf_counter()
    k = max(1, min(int(k), MAX_K))
    collection = collection or rag_settings.COLLECTION
    sparse = encode_query(query or "")
    if not sparse.indices:
        return SearchResult(hits=[], elapsed_ms=(time.perf_counter() - started) * 1000)
    index = index or get_index()
    dense = None
    if model_key() is not None and not sparse_only:  # sparse_only: rag.relevance's own ranking
        try:
            if index.dense_model(collection) == model_key():
                dense = embed_query(query)
        except EmbeddingError as exc:
            logger.warning("query embedding failed, searching sparse only: %s", exc)
    try:
        points = index.query(collection, sparse=sparse, dense=dense,
                             limit=max(k, CANDIDATES) if PAGE_EVIDENCE else k,
                             version=version, locale=locale)
    except RetrievalUnavailable:
        raise
    except Exception as exc:  # anything else from an engine is still "unavailable"
        raise RetrievalUnavailable(f"search failed ({type(exc).__name__}: {exc})") from exc
    hits = [_hit(p) for p in points]
    # Equal scores (the same text in two docs versions, say) come back in whatever order the
    # engine found them; a fixed order keeps answers and evaluations repeatable: the current
    # docs first, then by path and position.
    hits.sort(key=lambda h: (-round(h.score, 6), h.version not in ("", CURRENT_VERSION), h.path,
                             h.chunk_id))
    if PAGE_EVIDENCE:
        hits = _with_page_evidence(hits)
    return SearchResult(
        hits=hits[:k],
        elapsed_ms=(time.perf_counter() - started) * 1000,
        mode="hybrid" if dense is not None else "sparse",
    )
