"""The embedded backend: Qdrant Edge, Qdrant's engine in-process (the default, no ``QDRANT_URL``).

Stored under ``RAG_INDEX_DIR/edge/<collection>/`` in generations (``rag.index.generations``).
Ingestion builds a new generation beside the live one (cached embeddings make that cheap) and
switches ``CURRENT``; searches therefore always read a complete generation, and
``ingest_docs`` works while the server is up.

A generation is written once and never changed, so its shard is built without a write-ahead
log (``wal_enabled=False``, durable once ``flush()`` returns, before ``CURRENT`` names it).
The engine's only lock is on the WAL folder, so every worker process of a multi-worker server
opens the same generation read-only, sharing its memory-mapped files through the page cache
(docs/operations.md has the measurements).
"""

import contextlib
import json
import logging
import shutil
import time
from collections import Counter
from importlib import metadata
from pathlib import Path

from ..exceptions import (
    IndexLocked,
    IndexUnavailable,
    IndexVersionMismatch,
    RetrievalUnavailable,
)
from ..sparse import SparseVector
from .base import (
    DENSE,
    INDEX_FORMAT,
    PAYLOAD_KEYWORDS,
    RRF_K,
    SPARSE,
    IndexSpec,
    Manifest,
    SearchIndex,
    ingest_hint,
)
from .generations import READERS_LOCK, Generations, Handle, atomic_write
from .points import QueryPlan, page_entry, plan_query, point_batches, scored

logger = logging.getLogger(__name__)


def edge_version() -> str:
    try:
        return metadata.version("qdrant-edge-py")
    except metadata.PackageNotFoundError:  # pragma: no cover - it is a pinned requirement
        return "unknown"


def _edge():
    import qdrant_edge

    return qdrant_edge


def _edge_error(exc: Exception, path: Path, action: str) -> RetrievalUnavailable:
    text = str(exc)
    if "WouldBlock" in text or "already accessed" in text or "Resource temporarily unavailable" in text:
        return IndexLocked(
            f"The embedded index at {path} is locked by another process. Only one process can"
            " open an index generation; the running server picks up new generations by itself,"
            " so re-run ingest_docs instead of opening the index by hand (or stop the other"
            " process)."
        )
    return IndexUnavailable(f"Could not {action} the embedded index at {path}: {text}")


def _request(plan: QueryPlan):
    """The plan as a qdrant_edge ``QueryRequest``."""
    q = _edge()
    must = [q.FieldCondition(key=key, match=q.MatchValue(value)) for key, value in plan.conditions]
    flt = q.Filter(must=must) if must else None
    sparse_query = q.Query.Nearest(q.SparseVector(*plan.sparse), using=SPARSE)
    if not plan.fused:
        return q.QueryRequest(limit=plan.limit, query=sparse_query, filter=flt, with_payload=True)
    return q.QueryRequest(
        limit=plan.limit,
        prefetches=[
            q.Prefetch(limit=plan.prefetch_limit, query=sparse_query, filter=flt),
            q.Prefetch(limit=plan.prefetch_limit, query=q.Query.Nearest(plan.dense, using=DENSE), filter=flt),
        ],
        query=q.Fusion.Rrf(k=RRF_K),
        filter=flt,
        with_payload=True,
    )


class EdgeIndex(SearchIndex):
    backend = "edge"

    def __init__(self, root: Path):
        self.root = Path(root)
        self.generations = Generations(self.root, check_manifest=self._check_manifest,
                                       load_shard=self._load_shard, shard_in_use=self._shard_in_use)

    # -- reading (files of the live generation: rag.index.generations)
    def current_generation(self, collection: str) -> str | None:
        return self.generations.current(collection)

    def spec(self, *, dense_model, dense_size):
        return IndexSpec("qdrant-edge", edge_version(), INDEX_FORMAT, dense_model, dense_size)

    def manifest(self, collection):
        return self.generations.manifest(collection)

    def term_stats(self, collection):
        data = self.generations.stats(collection)
        if data is None:
            return None  # built before statistics were kept: the caller computes them
        return data["documents"], dict(zip(data["terms"], data["df"], strict=True))

    def calibration(self, collection):
        data = self.generations.stats(collection)
        return None if data is None else data.get("calibration")

    def stored_chunks(self, collection, paths):
        return self.generations.stored_chunks(collection, paths)

    def sharing_problem(self, collection: str) -> str | None:
        return self.generations.sharing_problem(collection)

    # -- writing
    def ingest_lock(self, collection: str):
        return self.generations.ingest_lock(collection)

    def write(self, collection, plan, *, embed, calibrate=None):
        q = _edge()
        gens = self.generations
        directory = gens.collection_dir(collection)
        with gens.ingest_lock(collection):
            live = None if plan.rebuild else gens.current(collection)
            chunks_by_page = dict(plan.pages)
            if live is not None:
                live_manifest = gens.read_manifest(directory / live)
                kept = set(live_manifest.pages) - set(chunks_by_page) - plan.deleted
                chunks_by_page.update(gens.stored_chunks(collection, kept))
            chunks = [c for path in sorted(chunks_by_page) for c in chunks_by_page[path]]
            vectors = embed([c.index_text for c in chunks]) if chunks else None
            spec = plan.spec
            if vectors:
                spec.dense_size = len(vectors[0])
            generation = gens.next_name(collection)
            target = directory / generation
            shard_path = target / "shard"
            dense_config = (
                {DENSE: q.EdgeVectorParams(size=spec.dense_size, distance=q.Distance.Cosine)}
                if vectors else {}
            )
            config = q.EdgeConfig(
                vectors=dense_config,
                sparse_vectors={SPARSE: q.EdgeSparseVectorParams(modifier=q.Modifier.Idf)},
                # No WAL: the generation is never updated after this build, and the WAL's
                # folder lock is what would keep a second worker process out.
                wal_enabled=False,
            )
            try:
                shard = q.EdgeShard.create(str(shard_path), config)
            except Exception as exc:
                raise _edge_error(exc, shard_path, "create") from exc
            try:
                for name in PAYLOAD_KEYWORDS:
                    shard.update(q.UpdateOperation.create_field_index(name, q.PayloadSchemaType.Keyword))
                document_frequency: Counter = Counter()
                encoded: list[SparseVector] = []
                for batch in point_batches(chunks, vectors):
                    points = []
                    for point in batch:
                        encoded.append(point.encoded)
                        document_frequency.update(point.sparse[0])
                        vector = {SPARSE: q.SparseVector(*point.sparse)}
                        if point.dense is not None:
                            vector[DENSE] = point.dense
                        points.append(q.Point(point.id, vector, point.payload))
                    shard.update(q.UpdateOperation.upsert_points(points))
                shard.flush()
            except Exception as exc:
                shard.close()
                shutil.rmtree(target, ignore_errors=True)
                raise _edge_error(exc, shard_path, "write") from exc
            shard.close()
            (target / READERS_LOCK).touch()
            with (target / "chunks.jsonl").open("w", encoding="utf-8") as handle:
                for chunk in chunks:
                    handle.write(json.dumps(chunk.payload(), ensure_ascii=False) + "\n")
            # Term statistics and the "not covered" calibration for the relevance decision,
            # so the server never rebuilds them.
            terms = sorted(document_frequency)
            stats = {"documents": len(chunks), "terms": terms,
                     "df": [document_frequency[t] for t in terms]}
            if calibrate is not None:
                stats["calibration"] = calibrate(chunks, documents=len(chunks), df=dict(document_frequency),
                                                 vectors=encoded).to_dict()
            atomic_write(target / "stats.json", json.dumps(stats))
            manifest = Manifest(
                spec=spec, docs_path=plan.docs_path, base_url=plan.base_url, built_at=time.time(),
                pages={path: page_entry(items) for path, items in chunks_by_page.items() if items},
            )
            atomic_write(target / "manifest.json", json.dumps(manifest.to_json(), indent=1))
            gens.switch(collection, generation)
            logger.info("index %s: switched to %s (%d chunks)", collection, generation, len(chunks))
            gens.cleanup(collection, keep=generation, newer_too=True)

    # -- opening generations (called by Generations)
    def _check_manifest(self, collection: str, manifest: Manifest) -> None:
        current = self.spec(dense_model=manifest.spec.dense_model, dense_size=manifest.spec.dense_size)
        reason = manifest.spec.mismatch(current)
        if reason:
            raise IndexVersionMismatch(
                f"The search index for collection {collection!r} cannot be used: {reason}."
                f" It is derived data: {ingest_hint(collection)} to rebuild it"
                + (f" (last built from {manifest.docs_path} for {manifest.base_url})." if manifest.docs_path else ".")
            )

    def _load_shard(self, shard_path: Path):
        try:
            return _edge().EdgeShard.load(str(shard_path))
        except Exception as exc:
            raise _edge_error(exc, shard_path, "open") from exc

    def _shard_in_use(self, shard_path: Path) -> bool:
        try:
            shard = _edge().EdgeShard.load(str(shard_path))
        except Exception as exc:  # noqa: BLE001 - the engine raises plain Exception
            return isinstance(_edge_error(exc, shard_path, "open"), IndexLocked)
        shard.close()
        return False

    # -- serving
    def reading(self, collection: str) -> contextlib.AbstractContextManager[Handle]:
        """The live generation, open until the block ends (see ``Generations.reading``)."""
        return self.generations.reading(collection)

    def query(self, collection, *, sparse, dense, limit, version=None, locale=None):
        with self.reading(collection) as handle:
            plan = plan_query(sparse=sparse, dense=dense if handle.manifest.spec.dense_model else None,
                              limit=limit, version=version, locale=locale)
            try:
                points = handle.shard.query(_request(plan))
            except Exception as exc:
                raise _edge_error(exc, handle.path, "search") from exc
        return scored(points)

    def dense_model(self, collection: str) -> str | None:
        with self.reading(collection) as handle:
            return handle.manifest.spec.dense_model

    def status(self, collection):
        info = {"ok": False, "backend": self.backend, "collection": collection}
        try:
            problem = self.sharing_problem(collection)
            if problem:
                raise IndexUnavailable(problem)
            with self.reading(collection) as handle:
                info.update(
                    ok=True, points=handle.shard.info().points_count, generation=handle.generation,
                    engine_version=handle.manifest.spec.engine_version,
                    dense_model=handle.manifest.spec.dense_model,
                )
        except RetrievalUnavailable as exc:
            info["error"] = str(exc)
        return info

    def close(self):
        self.generations.close()
