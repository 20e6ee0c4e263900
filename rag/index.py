"""The search index: one interface, two backends with the same points and the same queries.

- ``EdgeIndex`` (default, no ``QDRANT_URL``): Qdrant Edge, Qdrant's engine in-process, stored
  under ``RAG_INDEX_DIR/edge/<collection>/``. The index lives in *generations*:
  ``gen-000007/`` holds a complete shard plus a ``manifest.json`` (engine version, vector
  setup, pages and their hashes) and a ``chunks.jsonl`` sidecar; a ``CURRENT`` file names the
  live generation and is replaced atomically. Ingestion builds a new generation beside the
  live one (cached embeddings make that cheap) and switches ``CURRENT``; a serving process
  notices the switch with one ``stat()`` per search, opens the new generation and closes the
  old one once no search is using it. Searches therefore always read a complete generation,
  and ``ingest_docs`` works while the server is up.
  A generation is written once and never changed, so its shard is built without a write-ahead
  log (``wal_enabled=False``, durable once ``flush()`` returns, before ``CURRENT`` names it).
  The engine's only lock is on the WAL folder, so every worker process of a multi-worker
  server opens the same generation read-only, sharing its memory-mapped files through the page
  cache (docs/operations.md has the measurements). Each reader holds a shared ``flock`` on the
  generation's ``readers.lock`` while it has it open; clean-up deletes a retired generation
  only when it can take that lock exclusively, i.e. when no process reads it any more.
- ``ServerIndex`` (``QDRANT_URL`` set): a Qdrant server or Qdrant Cloud through qdrant-client,
  updated in place page by page. qdrant-client's local mode (``QdrantClient(path=...)``)
  stands in for a server in tests.

Both store a sparse vector ``sparse`` (BM25 term weights from ``rag.sparse``; Qdrant applies
``Modifier.IDF``) and, when embeddings are configured, a dense vector ``dense`` (cosine).
A query with both uses Qdrant's RRF fusion over two prefetches with ``RRF_K``; otherwise
sparse only. Raw engine errors become ``rag.exceptions`` with messages that say what to do.
"""

import contextlib
import errno
import fcntl
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from .chunking import Chunk
from .conf import rag_settings
from .exceptions import (
    IndexLocked,
    IndexUnavailable,
    IndexVersionMismatch,
    RetrievalUnavailable,
)
from .sparse import SparseVector, encode_document

logger = logging.getLogger(__name__)

SPARSE = "sparse"
DENSE = "dense"
RRF_K = 60
# 2: shards without a WAL (opened by any number of processes) and a readers.lock file.
INDEX_FORMAT = 2
READERS_LOCK = "readers.lock"
UPSERT_BATCH = 256
PAYLOAD_KEYWORDS = ("path", "version", "locale")
_GENERATION = re.compile(r"^gen-(\d{6})$")

Embedder = Callable[[list[str]], list[list[float]] | None]


def edge_version() -> str:
    try:
        return metadata.version("qdrant-edge-py")
    except metadata.PackageNotFoundError:  # pragma: no cover - it is a pinned requirement
        return "unknown"


def ingest_hint(collection: str) -> str:
    suffix = f" --collection {collection}" if collection != rag_settings.COLLECTION else ""
    return f"run `manage.py ingest_docs <docs folder> --base-url <site URL>{suffix}`"


@dataclass
class IndexSpec:
    """What a collection was built with; a different spec means a rebuild."""

    engine: str
    engine_version: str
    format: int = INDEX_FORMAT
    dense_model: str | None = None
    dense_size: int | None = None

    def mismatch(self, other: "IndexSpec") -> str | None:
        """Why an index built with ``self`` cannot be updated for ``other``, or None."""
        if self.engine != other.engine:
            return f"it was built by {self.engine}, this is {other.engine}"
        if self.engine_version != other.engine_version and self.engine == "qdrant-edge":
            return (f"it was built by qdrant-edge-py {self.engine_version}, this is"
                    f" {other.engine_version} (the on-disk format may differ)")
        if self.format != other.format:
            return f"its layout version is {self.format}, this code writes {other.format}"
        if other.dense_model is not None and self.dense_model != other.dense_model:
            return f"its dense vectors come from {self.dense_model or 'no model'}, the setting says {other.dense_model}"
        if other.dense_model is None and self.dense_model is not None:
            return f"it has dense vectors from {self.dense_model} but no embedding model is configured now"
        return None


@dataclass
class PageEntry:
    page_hash: str
    chunk_count: int
    url: str = ""
    title: str = ""
    version: str = ""
    locale: str = ""
    plugin_id: str = ""  # docs plugin id, "" for pages from ingest_docs
    latest: bool = False  # the version is the site's default ("isLast"), from the plugin


@dataclass
class Manifest:
    spec: IndexSpec
    pages: dict[str, PageEntry] = field(default_factory=dict)
    docs_path: str = ""
    base_url: str = ""
    built_at: float = 0.0

    def to_json(self) -> dict:
        return {
            "spec": asdict(self.spec), "docs_path": self.docs_path, "base_url": self.base_url,
            "built_at": self.built_at, "pages": {p: asdict(e) for p, e in sorted(self.pages.items())},
        }

    @classmethod
    def from_json(cls, data: dict) -> "Manifest":
        return cls(
            spec=IndexSpec(**data["spec"]),
            pages={p: PageEntry(**e) for p, e in data.get("pages", {}).items()},
            docs_path=data.get("docs_path", ""), base_url=data.get("base_url", ""),
            built_at=data.get("built_at", 0.0),
        )


@dataclass
class WritePlan:
    """What ingestion asks the index to hold after a write.

    ``pages`` has the chunks of every page currently in the docs; ``changed`` the paths whose
    points must be (re)written; ``deleted`` the paths to remove. Pages in the index that are
    in neither ``pages`` nor ``deleted`` are kept as they are (``--no-prune``).
    """

    spec: IndexSpec
    pages: dict[str, list[Chunk]]
    changed: set[str]
    deleted: set[str]
    rebuild: bool = False
    docs_path: str = ""
    base_url: str = ""


@dataclass
class ScoredChunk:
    id: str
    score: float
    payload: dict


def _sparse_parts(vector: SparseVector) -> tuple[list[int], list[float]]:
    return list(vector.indices), [float(v) for v in vector.values]


class SearchIndex:
    """The interface both backends implement."""

    backend = ""

    def spec(self, *, dense_model: str | None, dense_size: int | None) -> IndexSpec:
        raise NotImplementedError

    def manifest(self, collection: str) -> Manifest | None:
        """The pages a collection holds and its spec; None when there is no index."""
        raise NotImplementedError

    def stored_chunks(self, collection: str, paths: Iterable[str]) -> dict[str, list[Chunk]]:
        raise NotImplementedError

    def term_stats(self, collection: str) -> tuple[int, dict[int, int]] | None:
        """(chunk count, document frequency per sparse term) saved at ingestion, if kept."""
        return None

    def calibration(self, collection: str) -> dict | None:
        """The relevance calibration saved at ingestion (rag.calibration), if kept."""
        return None

    def write(self, collection: str, plan: WritePlan, *, embed: Embedder) -> None:
        raise NotImplementedError

    def query(self, collection: str, *, sparse: SparseVector, dense: list[float] | None,
              limit: int, version: str | None = None, locale: str | None = None) -> list[ScoredChunk]:
        raise NotImplementedError

    def status(self, collection: str) -> dict:
        raise NotImplementedError

    def close(self) -> None:
        pass


# ============================================================================ Qdrant Edge


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


def _edge_filter(version: str | None, locale: str | None):
    q = _edge()
    must = []
    if version:
        must.append(q.FieldCondition(key="version", match=q.MatchValue(version)))
    if locale:
        must.append(q.FieldCondition(key="locale", match=q.MatchValue(locale)))
    return q.Filter(must=must) if must else None


def _atomic_write(path: Path, data: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _lock_for_reading(generation_dir: Path) -> int:
    """A descriptor holding a shared flock on the generation's readers.lock.

    Raises ``IndexUnavailable`` when the generation is being (or has been) removed, so the
    caller re-reads ``CURRENT``. The lock goes away with the process, so a crashed worker
    never pins a generation on disk.
    """
    lock_path = generation_dir / READERS_LOCK
    try:
        fd = os.open(lock_path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise IndexUnavailable(f"{generation_dir} is incomplete or was removed (no {READERS_LOCK})") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        if os.fstat(fd).st_ino != os.stat(lock_path).st_ino:
            raise FileNotFoundError(lock_path)
    except OSError as exc:
        os.close(fd)
        if isinstance(exc, FileNotFoundError) or exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            raise IndexUnavailable(f"{generation_dir} is being removed") from exc
        raise IndexUnavailable(_no_flock_message(generation_dir, exc)) from exc
    return fd


def _no_flock_message(path: Path, exc: OSError) -> str:
    return (f"The filesystem holding {path} does not support flock ({exc.strerror or exc}):"
            " worker processes cannot share the embedded index safely there. Put RAG_INDEX_DIR on"
            " a local disk, or set QDRANT_URL to use a Qdrant server.")


_degraded = {"count": 0}
_degraded_lock = threading.Lock()


def note_degraded_answer(reason: str) -> int:
    """Count (per process) and log an answer given without retrieval; returns the count.

    Such answers still return HTTP 200, so this log line and the ``degraded_answers`` figure
    in ``/readyz`` are how an operator sees them.
    """
    with _degraded_lock:
        _degraded["count"] += 1
        count = _degraded["count"]
    logger.error("answer degraded: no retrieval (%s); %d degraded answers in process %d",
                 reason, count, os.getpid())
    return count


def degraded_answers() -> int:
    return _degraded["count"]


class _Handle:
    """An open generation; closed when retired and no search still uses it."""

    def __init__(self, generation: str, path: Path, shard, manifest: Manifest, stamp, reader_lock: int):
        self.generation = generation
        self.reader_lock = reader_lock  # fd holding a shared flock on readers.lock
        self.path = path
        self.shard = shard
        self.manifest = manifest
        self.stamp = stamp
        self.refs = 0
        self.retired = False


class EdgeIndex(SearchIndex):
    backend = "edge"

    def __init__(self, root: Path):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._open: dict[str, _Handle] = {}

    # -- layout
    def collection_dir(self, collection: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", collection) or collection in (".", ".."):
            raise IndexUnavailable(f"Invalid collection name {collection!r}: use letters, digits, '-', '_' or '.'")
        return self.root / "edge" / collection

    def pointer_path(self, collection: str) -> Path:
        return self.collection_dir(collection) / "CURRENT"

    def current_generation(self, collection: str) -> str | None:
        try:
            data = json.loads(self.pointer_path(collection).read_text("utf-8"))
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise IndexUnavailable(
                f"{self.pointer_path(collection)} is damaged ({exc}); {ingest_hint(collection)} to rebuild"
            ) from exc
        return data.get("generation")

    def generations(self, collection: str) -> list[str]:
        directory = self.collection_dir(collection)
        if not directory.is_dir():
            return []
        return sorted(p.name for p in directory.iterdir() if _GENERATION.match(p.name))

    def legacy_index(self) -> Path | None:
        """A qdrant-client local-mode index left by an earlier version in RAG_INDEX_DIR."""
        if (self.root / "meta.json").is_file() and (self.root / "collection").is_dir():
            return self.root
        return None

    def spec(self, *, dense_model, dense_size):
        return IndexSpec("qdrant-edge", edge_version(), INDEX_FORMAT, dense_model, dense_size)

    def _read_manifest(self, generation_dir: Path) -> Manifest:
        try:
            return Manifest.from_json(json.loads((generation_dir / "manifest.json").read_text("utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexUnavailable(f"{generation_dir} has no readable manifest ({exc})") from exc

    def manifest(self, collection):
        generation = self.current_generation(collection)
        if generation is None:
            return None
        return self._read_manifest(self.collection_dir(collection) / generation)

    def term_stats(self, collection):
        generation = self.current_generation(collection)
        if generation is None:
            return None
        try:
            data = json.loads((self.collection_dir(collection) / generation / "stats.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None  # built before statistics were kept: the caller computes them
        return data["documents"], dict(zip(data["terms"], data["df"], strict=True))

    def calibration(self, collection):
        generation = self.current_generation(collection)
        if generation is None:
            return None
        try:
            data = json.loads((self.collection_dir(collection) / generation / "stats.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return data.get("calibration")

    def stored_chunks(self, collection, paths):
        wanted = set(paths)
        found: dict[str, list[Chunk]] = {}
        generation = self.current_generation(collection)
        if not wanted or generation is None:
            return found
        sidecar = self.collection_dir(collection) / generation / "chunks.jsonl"
        with sidecar.open(encoding="utf-8") as handle:
            for line in handle:
                chunk = Chunk.from_payload(json.loads(line))
                if chunk.path in wanted:
                    found.setdefault(chunk.path, []).append(chunk)
        return found

    # -- writing
    @contextlib.contextmanager
    def ingest_lock(self, collection: str) -> Iterator[None]:
        directory = self.collection_dir(collection)
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / ".ingest.lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise IndexLocked(
                        f"Another ingest_docs is already updating collection {collection!r} in"
                        f" {self.root}; wait for it to finish and run it again."
                    ) from exc
                raise
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def write(self, collection, plan, *, embed):
        q = _edge()
        directory = self.collection_dir(collection)
        with self.ingest_lock(collection):
            live = None if plan.rebuild else self.current_generation(collection)
            chunks_by_page = dict(plan.pages)
            if live is not None:
                live_manifest = self._read_manifest(directory / live)
                kept = set(live_manifest.pages) - set(chunks_by_page) - plan.deleted
                chunks_by_page.update(self.stored_chunks(collection, kept))
            chunks = [c for path in sorted(chunks_by_page) for c in chunks_by_page[path]]
            vectors = embed([c.index_text for c in chunks]) if chunks else None
            spec = plan.spec
            if vectors:
                spec.dense_size = len(vectors[0])
            numbers = [int(_GENERATION.match(g).group(1)) for g in self.generations(collection)]
            generation = f"gen-{(max(numbers, default=0) + 1):06d}"
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
                for start in range(0, len(chunks), UPSERT_BATCH):
                    points = []
                    for offset, chunk in enumerate(chunks[start:start + UPSERT_BATCH]):
                        encoded.append(encode_document(chunk.index_text))
                        indices, values = _sparse_parts(encoded[-1])
                        document_frequency.update(indices)
                        vector = {SPARSE: q.SparseVector(indices, values)}
                        if vectors:
                            vector[DENSE] = vectors[start + offset]
                        points.append(q.Point(chunk.id, vector, chunk.payload()))
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
            from .calibration import calibrate

            terms = sorted(document_frequency)
            calibration = calibrate(chunks, documents=len(chunks), df=dict(document_frequency),
                                    vectors=encoded)
            _atomic_write(target / "stats.json", json.dumps(
                {"documents": len(chunks), "terms": terms,
                 "df": [document_frequency[t] for t in terms],
                 "calibration": calibration.to_dict()}))
            manifest = Manifest(
                spec=spec, docs_path=plan.docs_path, base_url=plan.base_url, built_at=time.time(),
                pages={
                    path: PageEntry(page_hash=items[0].page_hash, chunk_count=len(items),
                                    url=items[0].page_url, title=items[0].title,
                                    version=items[0].version, locale=items[0].locale,
                                    plugin_id=items[0].extra.get("plugin_id", ""),
                                    latest=bool(items[0].extra.get("version_latest")))
                    for path, items in chunks_by_page.items() if items
                },
            )
            _atomic_write(target / "manifest.json", json.dumps(manifest.to_json(), indent=1))
            _atomic_write(self.pointer_path(collection), json.dumps({"generation": generation}))
            logger.info("index %s: switched to %s (%d chunks)", collection, generation, len(chunks))
            self._cleanup(collection, keep=generation, newer_too=True)

    def _cleanup(self, collection: str, *, keep: str, newer_too: bool = False) -> None:
        """Delete generations no process has open. Newer ones only under the ingest lock."""
        q = _edge()
        keep_number = int(keep[4:])
        directory = self.collection_dir(collection)
        with self._lock:
            in_use = {h.generation for h in self._open.values()}
        for name in self.generations(collection):
            number = int(name[4:])
            if name == keep or name in in_use or (number > keep_number and not newer_too):
                continue
            path = directory / name
            lock_path = path / READERS_LOCK
            if lock_path.exists():
                try:
                    fd = os.open(lock_path, os.O_RDONLY | os.O_CLOEXEC)
                except FileNotFoundError:
                    continue  # another process removed it meanwhile
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # a process still reads it; it cleans up after switching
                else:
                    # Held while deleting: a reader that opened the lock file just before
                    # gets LOCK_NB refused and re-reads CURRENT.
                    shutil.rmtree(path, ignore_errors=True)
                finally:
                    os.close(fd)
                continue
            shard_path = path / "shard"
            if (shard_path / "wal").exists():  # a format-1 generation: its WAL lock tells
                try:
                    shard = q.EdgeShard.load(str(shard_path))
                except Exception as exc:  # noqa: BLE001 - the engine raises plain Exception
                    if isinstance(_edge_error(exc, shard_path, "open"), IndexLocked):
                        continue  # an older server still reads it
                else:
                    shard.close()
            shutil.rmtree(path, ignore_errors=True)

    # -- serving
    def _stamp(self, collection: str):
        try:
            st = os.stat(self.pointer_path(collection))
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _missing_message(self, collection: str) -> str:
        legacy = self.legacy_index()
        if legacy is not None:
            return (f"{legacy} holds an index from the previous backend (qdrant-client local mode)."
                    f" The default engine is now Qdrant Edge: {ingest_hint(collection)} once to"
                    " rebuild it from the docs (chat history is not affected).")
        return f"There is no search index for collection {collection!r} yet: {ingest_hint(collection)}."

    def _acquire(self, collection: str) -> _Handle:
        with self._lock:
            stamp = self._stamp(collection)
            handle = self._open.get(collection)
            if handle is not None and handle.stamp == stamp and stamp is not None:
                handle.refs += 1
                return handle
            if stamp is None:
                raise IndexUnavailable(self._missing_message(collection))
            for attempt in range(3):
                generation = self.current_generation(collection)
                if generation is None:
                    raise IndexUnavailable(self._missing_message(collection))
                if handle is not None and handle.generation == generation:
                    handle.stamp = stamp
                    handle.refs += 1
                    return handle
                try:
                    fresh = self._open_generation(collection, generation, stamp)
                    break
                except IndexUnavailable:
                    # The generation may have been replaced and removed meanwhile: re-read.
                    if attempt == 2 or self.current_generation(collection) == generation:
                        raise
                    stamp = self._stamp(collection)
            self._open[collection] = fresh
            fresh.refs += 1
            retired = handle
            if retired is not None:
                retired.retired = True
                if retired.refs == 0:
                    self._close_handle(retired)
        if retired is not None and retired.refs == 0:
            self._cleanup(collection, keep=fresh.generation)
        return fresh

    def _open_generation(self, collection: str, generation: str, stamp) -> _Handle:
        q = _edge()
        path = self.collection_dir(collection) / generation
        manifest = self._read_manifest(path)
        current = self.spec(dense_model=manifest.spec.dense_model, dense_size=manifest.spec.dense_size)
        reason = manifest.spec.mismatch(current)
        if reason:
            raise IndexVersionMismatch(
                f"The search index for collection {collection!r} cannot be used: {reason}."
                f" It is derived data: {ingest_hint(collection)} to rebuild it"
                + (f" (last built from {manifest.docs_path} for {manifest.base_url})." if manifest.docs_path else ".")
            )
        reader_lock = _lock_for_reading(path)
        try:
            shard = q.EdgeShard.load(str(path / "shard"))
        except Exception as exc:
            os.close(reader_lock)
            raise _edge_error(exc, path / "shard", "open") from exc
        return _Handle(generation, path, shard, manifest, stamp, reader_lock)

    def _close_handle(self, handle: _Handle) -> None:
        with contextlib.suppress(Exception):
            handle.shard.close()
        with contextlib.suppress(OSError):
            os.close(handle.reader_lock)

    def _release(self, handle: _Handle) -> None:
        collection = handle.path.parent.name
        with self._lock:
            handle.refs -= 1
            close = handle.retired and handle.refs == 0
            if close:
                self._close_handle(handle)
            current = self._open.get(collection)
        if close and current is not None:
            self._cleanup(collection, keep=current.generation)

    @contextlib.contextmanager
    def reading(self, collection: str) -> Iterator[_Handle]:
        handle = self._acquire(collection)
        try:
            yield handle
        finally:
            self._release(handle)

    def query(self, collection, *, sparse, dense, limit, version=None, locale=None):
        q = _edge()
        with self.reading(collection) as handle:
            flt = _edge_filter(version, locale)
            indices, values = _sparse_parts(sparse)
            sparse_query = q.Query.Nearest(q.SparseVector(indices, values), using=SPARSE)
            if dense is not None and handle.manifest.spec.dense_model:
                prefetch_limit = max(limit * 4, 40)
                request = q.QueryRequest(
                    limit=limit,
                    prefetches=[
                        q.Prefetch(limit=prefetch_limit, query=sparse_query, filter=flt),
                        q.Prefetch(limit=prefetch_limit, query=q.Query.Nearest(dense, using=DENSE), filter=flt),
                    ],
                    query=q.Fusion.Rrf(k=RRF_K),
                    filter=flt,
                    with_payload=True,
                )
            else:
                request = q.QueryRequest(limit=limit, query=sparse_query, filter=flt, with_payload=True)
            try:
                points = handle.shard.query(request)
            except Exception as exc:
                raise _edge_error(exc, handle.path, "search") from exc
        return [ScoredChunk(str(p.id), float(p.score), dict(p.payload or {})) for p in points]

    def dense_model(self, collection: str) -> str | None:
        with self.reading(collection) as handle:
            return handle.manifest.spec.dense_model

    def sharing_problem(self, collection: str) -> str | None:
        """Why the live generation cannot be read by several worker processes, or None.

        Two things break sharing: a generation with a write-ahead log (built by an earlier
        version; the engine locks it for one process) and an index folder whose filesystem
        has no ``flock`` (clean-up could then delete a generation another worker reads).
        """
        generation = self.current_generation(collection)
        if generation is None:
            return None
        path = self.collection_dir(collection) / generation
        if (path / "shard" / "wal").exists() or not (path / READERS_LOCK).exists():
            return (f"The live index generation {path} was built by an earlier version: only one"
                    f" process can open it, so the other workers answer without sources."
                    f" {ingest_hint(collection).capitalize()} to rebuild it for several workers.")
        try:
            fd = os.open(path / READERS_LOCK, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None  # replaced meanwhile
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return _no_flock_message(path, exc)
        finally:
            os.close(fd)
        return None

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
        with self._lock:
            for handle in self._open.values():
                self._close_handle(handle)
            self._open.clear()


# ============================================================================ Qdrant server


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
                pages[payload.get("path")] = PageEntry(
                    payload.get("page_hash", ""), 1, payload.get("page_url", ""), payload.get("title", ""),
                    payload.get("version", ""), payload.get("locale", ""),
                    payload.get("plugin_id", ""), bool(payload.get("version_latest")))
            else:
                entry.chunk_count += 1
        return Manifest(spec=spec, pages=pages)

    def stored_chunks(self, collection, paths):
        from qdrant_client import models

        wanted = list(paths)
        found: dict[str, list[Chunk]] = {}
        if not wanted:
            return found
        flt = models.Filter(must=[models.FieldCondition(key="path", match=models.MatchAny(any=wanted))])
        for record in self._scroll(collection, fields=True, flt=flt):
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
        with warnings_ignored():
            for name in PAYLOAD_KEYWORDS:
                self.client.create_payload_index(collection, name, models.PayloadSchemaType.KEYWORD)

    def write(self, collection, plan, *, embed):
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
                for start in range(0, len(gone), 256):
                    self.client.delete(collection, points_selector=models.FilterSelector(filter=models.Filter(
                        must=[models.FieldCondition(key="path", match=models.MatchAny(any=gone[start:start + 256]))])))
            for start in range(0, len(chunks), UPSERT_BATCH):
                points = []
                for offset, chunk in enumerate(chunks[start:start + UPSERT_BATCH]):
                    indices, values = _sparse_parts(encode_document(chunk.index_text))
                    vector = {SPARSE: models.SparseVector(indices=indices, values=values)}
                    if vectors:
                        vector[DENSE] = vectors[start + offset]
                    points.append(models.PointStruct(id=chunk.id, vector=vector, payload=chunk.payload()))
                self.client.upsert(collection, points=points, wait=True)
        except RetrievalUnavailable:
            raise
        except Exception as exc:
            raise self._error(exc, "update the index") from exc

    def query(self, collection, *, sparse, dense, limit, version=None, locale=None):
        from qdrant_client import models

        must = []
        if version:
            must.append(models.FieldCondition(key="version", match=models.MatchValue(value=version)))
        if locale:
            must.append(models.FieldCondition(key="locale", match=models.MatchValue(value=locale)))
        flt = models.Filter(must=must) if must else None
        indices, values = _sparse_parts(sparse)
        sparse_query = models.SparseVector(indices=indices, values=values)
        try:
            if dense is not None:
                prefetch_limit = max(limit * 4, 40)
                response = self.client.query_points(
                    collection,
                    prefetch=[
                        models.Prefetch(query=sparse_query, using=SPARSE, limit=prefetch_limit, filter=flt),
                        models.Prefetch(query=dense, using=DENSE, limit=prefetch_limit, filter=flt),
                    ],
                    query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
                    query_filter=flt, limit=limit, with_payload=True,
                )
            else:
                response = self.client.query_points(
                    collection, query=sparse_query, using=SPARSE, query_filter=flt,
                    limit=limit, with_payload=True,
                )
        except Exception as exc:
            if not self._exists(collection):
                raise IndexUnavailable(
                    f"{self.location} has no collection {collection!r}: {ingest_hint(collection)}."
                ) from exc
            raise self._error(exc, "search") from exc
        return [ScoredChunk(str(p.id), float(p.score), dict(p.payload or {})) for p in response.points]

    def dense_model(self, collection: str) -> str | None:
        cached = self._specs.get(collection)
        if cached is not None and time.monotonic() - cached[0] < self.SPEC_TTL:
            spec = cached[1]
        else:
            spec = self._spec(collection)
            if spec is not None:
                self._specs[collection] = (time.monotonic(), spec)
        if spec is None:
            raise IndexUnavailable(f"{self.location} has no collection {collection!r}: {ingest_hint(collection)}.")
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


@contextlib.contextmanager
def warnings_ignored():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ============================================================================ access


def get_index() -> SearchIndex:
    """The configured backend, shared per process (see ``rag.clients.get_search_index``)."""
    from .clients import get_search_index

    return get_search_index()


def index_status(collection: str | None = None) -> dict:
    """For GET /chat and /readyz: ``{"ok", "backend", "collection", "points", "error"?}``."""
    collection = collection or rag_settings.COLLECTION
    try:
        index = get_index()
    except Exception as exc:  # noqa: BLE001 - status reports, it never raises
        return {"ok": False, "backend": "qdrant" if rag_settings.QDRANT_URL else "edge",
                "collection": collection, "error": str(exc), "degraded_answers": degraded_answers()}
    return {**index.status(collection), "degraded_answers": degraded_answers()}
