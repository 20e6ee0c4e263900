"""The Qdrant server backend (``QDRANT_URL`` set): a Qdrant server or Qdrant Cloud.

Talks through qdrant-client and is updated in place page by page; qdrant-client's local mode
(``QdrantClient(path=...)``) stands in for a server in tests. The collection's spec is kept
in the collection's metadata (``docs_index``). Raw client errors become ``rag.exceptions``
with messages that say what to do.
"""

import contextlib
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict

from ..chunking import Chunk
from ..exceptions import IndexUnavailable, RetrievalUnavailable
from .base import (
    DENSE,
    INDEX_FORMAT,
    PAYLOAD_KEYWORDS,
    RRF_K,
    SPARSE,
    IndexSpec,
    Manifest,
    PageEntry,
    SearchIndex,
    ingest_hint,
)
from .points import (
    QueryPlan,
    page_entry_from_payload,
    plan_query,
    point_batches,
    scored,
)

DELETE_BATCH = 256


def _query_arguments(plan: QueryPlan) -> dict:
    """The plan as keyword arguments of ``QdrantClient.query_points``."""
    from qdrant_client import models

    must = [models.FieldCondition(key=key, match=models.MatchValue(value=value))
            for key, value in plan.conditions]
    flt = models.Filter(must=must) if must else None
    sparse_query = models.SparseVector(indices=plan.sparse[0], values=plan.sparse[1])
    if not plan.fused:
        return {"query": sparse_query, "using": SPARSE, "query_filter": flt, "limit": plan.limit,
                "with_payload": True}
    return {
        "prefetch": [
            models.Prefetch(query=sparse_query, using=SPARSE, limit=plan.prefetch_limit, filter=flt),
            models.Prefetch(query=plan.dense, using=DENSE, limit=plan.prefetch_limit, filter=flt),
        ],
        "query": models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
        "query_filter": flt, "limit": plan.limit, "with_payload": True,
    }


def _paths_filter(paths: list[str]):
    from qdrant_client import models

    return models.Filter(must=[models.FieldCondition(key="path", match=models.MatchAny(any=paths))])


class ServerIndex(SearchIndex):
    """A Qdrant server through qdrant-client; ``client`` may be a local-mode client in tests."""

    backend = "qdrant"

    SPEC_TTL = 30.0  # seconds a collection's spec is trusted before it is read again

    def __init__(self, client, *, location: str = ""):
        self.client = client
        self.location = location or "the Qdrant server"
        self._specs: dict[str, tuple[float, IndexSpec | None]] = {}

    def _error(self, exc: Exception, action: str) -> RetrievalUnavailable:
        from qdrant_client.http.exceptions import UnexpectedResponse

        if isinstance(exc, RetrievalUnavailable):
            return exc
        if isinstance(exc, UnexpectedResponse):
            return IndexUnavailable(
                f"{self.location} refused to {action} (HTTP {exc.status_code}): {exc.content[:200]!r}."
                " Check QDRANT_URL and QDRANT_API_KEY."
            )
        return IndexUnavailable(
            f"Could not reach {self.location} to {action} ({type(exc).__name__}: {exc}). Check that"
            " it is running and QDRANT_URL is right; QDRANT_TIMEOUT bounds the wait."
        )

    def _missing(self, collection: str) -> IndexUnavailable:
        return IndexUnavailable(f"{self.location} has no collection {collection!r}: {ingest_hint(collection)}.")

    def _exists(self, collection: str) -> bool:
        try:
            return bool(self.client.collection_exists(collection))
        except Exception as exc:
            raise self._error(exc, "list collections") from exc

    def spec(self, *, dense_model, dense_size):
        return IndexSpec("qdrant", "server", INDEX_FORMAT, dense_model, dense_size)

    def _spec(self, collection: str) -> IndexSpec | None:
        if not self._exists(collection):
            return None
        try:
            meta = (self.client.get_collection(collection).config.metadata or {}).get("docs_index")
        except Exception as exc:
            raise self._error(exc, "read the collection") from exc
        if not meta:
            return IndexSpec("unknown", "unknown", 0)
        return IndexSpec(**meta)

    def _scroll(self, collection: str, *, fields, flt=None) -> Iterator:
        offset = None
        while True:
            try:
                records, offset = self.client.scroll(
                    collection, scroll_filter=flt, limit=512, offset=offset,
                    with_payload=fields, with_vectors=False,
                )
            except Exception as exc:
                raise self._error(exc, "read points") from exc
            yield from records
            if offset is None:
                return

    def manifest(self, collection):
        spec = self._spec(collection)
        if spec is None:
            return None
        pages: dict[str, PageEntry] = {}
        fields = ["path", "page_hash", "page_url", "title", "version", "locale", "plugin_id",
                  "version_latest"]
        for record in self._scroll(collection, fields=fields):
            payload = record.payload or {}
            entry = pages.get(payload.get("path"))
            if entry is None:
                pages[payload.get("path")] = page_entry_from_payload(payload)
            else:
                entry.chunk_count += 1
        return Manifest(spec=spec, pages=pages)

    def stored_chunks(self, collection, paths):
        wanted = list(paths)
        found: dict[str, list[Chunk]] = {}
        if not wanted:
            return found
        for record in self._scroll(collection, fields=True, flt=_paths_filter(wanted)):
            chunk = Chunk.from_payload(record.payload or {})
            found.setdefault(chunk.path, []).append(chunk)
        return found

    def _create(self, collection: str, spec: IndexSpec) -> None:
        from qdrant_client import models

        vectors = (
            {DENSE: models.VectorParams(size=spec.dense_size, distance=models.Distance.COSINE)}
            if spec.dense_model else {}
        )
        self.client.create_collection(
            collection,
            vectors_config=vectors,
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            metadata={"docs_index": asdict(spec)},
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in PAYLOAD_KEYWORDS:
                self.client.create_payload_index(collection, name, models.PayloadSchemaType.KEYWORD)

    def write(self, collection, plan, *, embed, calibrate=None):
        # ``calibrate`` is not used: a server collection keeps no statistics beside its points,
        # so rag.relevance counts and calibrates from the stored chunks when it needs them.
        from qdrant_client import models

        spec = plan.spec
        self._specs.pop(collection, None)
        try:
            existing = self._spec(collection)
            rebuild = plan.rebuild or existing is None or existing.mismatch(spec) is not None
            changed = set(plan.pages) if rebuild else set(plan.changed)
            chunks = [c for path in sorted(changed) for c in plan.pages.get(path, [])]
            vectors = embed([c.index_text for c in chunks]) if chunks else None
            if vectors:
                spec.dense_size = len(vectors[0])
            elif spec.dense_model and existing is not None:
                spec.dense_size = existing.dense_size
            if rebuild:
                if existing is not None:
                    self.client.delete_collection(collection)
                self._create(collection, spec)
            else:
                gone = sorted(changed | plan.deleted)
                for start in range(0, len(gone), DELETE_BATCH):
                    self.client.delete(collection, points_selector=models.FilterSelector(
                        filter=_paths_filter(gone[start:start + DELETE_BATCH])))
            for batch in point_batches(chunks, vectors):
                points = []
                for point in batch:
                    indices, values = point.sparse
                    vector = {SPARSE: models.SparseVector(indices=indices, values=values)}
                    if point.dense is not None:
                        vector[DENSE] = point.dense
                    points.append(models.PointStruct(id=point.id, vector=vector, payload=point.payload))
                self.client.upsert(collection, points=points, wait=True)
        except RetrievalUnavailable:
            raise
        except Exception as exc:
            raise self._error(exc, "update the index") from exc

    def query(self, collection, *, sparse, dense, limit, version=None, locale=None):
        plan = plan_query(sparse=sparse, dense=dense, limit=limit, version=version, locale=locale)
        try:
            response = self.client.query_points(collection, **_query_arguments(plan))
        except Exception as exc:
            if not self._exists(collection):
                raise self._missing(collection) from exc
            raise self._error(exc, "search") from exc
        return scored(response.points)

    def dense_model(self, collection: str) -> str | None:
        cached = self._specs.get(collection)
        if cached is not None and time.monotonic() - cached[0] < self.SPEC_TTL:
            spec = cached[1]
        else:
            spec = self._spec(collection)
            if spec is not None:
                self._specs[collection] = (time.monotonic(), spec)
        if spec is None:
            raise self._missing(collection)
        return spec.dense_model

    def status(self, collection):
        info = {"ok": False, "backend": self.backend, "collection": collection}
        try:
            if not self._exists(collection):
                info["error"] = f"no collection {collection!r} yet: {ingest_hint(collection)}"
                return info
            result = self.client.get_collection(collection)
            info.update(ok=True, points=result.points_count or 0)
        except RetrievalUnavailable as exc:
            info["error"] = str(exc)
        except Exception as exc:  # noqa: BLE001 - status reports, it never raises
            info["error"] = str(self._error(exc, "read the collection"))
        return info

    def close(self):
        with contextlib.suppress(Exception):
            self.client.close()
