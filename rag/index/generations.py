"""The embedded index's generations on disk: pointer, numbering, locks, readers, clean-up.

Layout under ``<root>/edge/<collection>/``: ``gen-000007/`` holds a complete shard plus a
``manifest.json`` (engine version, vector setup, pages and their hashes), a ``chunks.jsonl``
sidecar, ``stats.json`` (term statistics and calibration) and ``readers.lock``; ``CURRENT``
names the live generation and is replaced atomically; ``.ingest.lock`` keeps two ingestions
apart.

A serving process notices a switch with one ``stat()`` of ``CURRENT`` per search, opens the
new generation and closes the old one once no search is using it (``Generations.reading``).
Each reader holds a shared ``flock`` on the generation's ``readers.lock`` while it has it
open; clean-up deletes a retired generation only when it can take that lock exclusively, i.e.
when no process reads it any more. The lock goes away with the process, so a crashed worker
never pins a generation on disk.

This module knows nothing about the engine: ``rag.index.edge`` passes in how to open a shard
how to check a manifest against this
code's spec, and how to tell whether an old (format-1, write-ahead-logged) shard is still open elsewhere.
"""

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..chunking import Chunk
from ..exceptions import IndexLocked, IndexUnavailable
from .base import Manifest, ingest_hint

READERS_LOCK = "readers.lock"
GENERATION = re.compile(r"^gen-(\d{6})$")
_BUSY = (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)


def atomic_write(path: Path, data: str) -> None:
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


def no_flock_message(path: Path, exc: OSError) -> str:
    return (f"The filesystem holding {path} does not support flock ({exc.strerror or exc}):"
            " worker processes cannot share the embedded index safely there. Put RAG_INDEX_DIR on"
            " a local disk, or set QDRANT_URL to use a Qdrant server.")


def lock_for_reading(generation_dir: Path) -> int:
    """A descriptor holding a shared flock on the generation's readers.lock.

    Raises ``IndexUnavailable`` when the generation is being (or has been) removed, so the
    caller re-reads ``CURRENT``.
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
        if isinstance(exc, FileNotFoundError) or exc.errno in _BUSY:
            raise IndexUnavailable(f"{generation_dir} is being removed") from exc
        raise IndexUnavailable(no_flock_message(generation_dir, exc)) from exc
    return fd


class Handle:
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


# (collection, manifest of a generation about to be opened) -> None; raises if unusable
ManifestCheck = Callable[[str, Manifest], None]
# a shard folder -> the open shard; raises RetrievalUnavailable
ShardLoader = Callable[[Path], object]
# a format-1 shard folder -> whether another process still has it open
ShardInUse = Callable[[Path], bool]


class Generations:
    """The generations of every collection under ``root``, and this process's open ones."""

    def __init__(self, root: Path, *, check_manifest: ManifestCheck, load_shard: ShardLoader,
                 shard_in_use: ShardInUse):
        self.root = Path(root)
        self._check_manifest = check_manifest
        self._load_shard = load_shard
        self._shard_in_use = shard_in_use
        self._lock = threading.Lock()
        self._open: dict[str, Handle] = {}

    # -- layout
    def collection_dir(self, collection: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", collection) or collection in (".", ".."):
            raise IndexUnavailable(f"Invalid collection name {collection!r}: use letters, digits, '-', '_' or '.'")
        return self.root / "edge" / collection

    def pointer_path(self, collection: str) -> Path:
        return self.collection_dir(collection) / "CURRENT"

    def current(self, collection: str) -> str | None:
        try:
            data = json.loads(self.pointer_path(collection).read_text("utf-8"))
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise IndexUnavailable(
                f"{self.pointer_path(collection)} is damaged ({exc}); {ingest_hint(collection)} to rebuild"
            ) from exc
        return data.get("generation")

    def names(self, collection: str) -> list[str]:
        directory = self.collection_dir(collection)
        if not directory.is_dir():
            return []
        return sorted(p.name for p in directory.iterdir() if GENERATION.match(p.name))

    def next_name(self, collection: str) -> str:
        numbers = [int(GENERATION.match(g).group(1)) for g in self.names(collection)]
        return f"gen-{(max(numbers, default=0) + 1):06d}"

    def switch(self, collection: str, generation: str) -> None:
        """Make ``generation`` (complete and flushed) the live one."""
        atomic_write(self.pointer_path(collection), json.dumps({"generation": generation}))

    def legacy_index(self) -> Path | None:
        """A qdrant-client local-mode index left by an earlier version in RAG_INDEX_DIR."""
        if (self.root / "meta.json").is_file() and (self.root / "collection").is_dir():
            return self.root
        return None

    # -- reading files of the live generation
    @staticmethod
    def read_manifest(generation_dir: Path) -> Manifest:
        try:
            return Manifest.from_json(json.loads((generation_dir / "manifest.json").read_text("utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexUnavailable(f"{generation_dir} has no readable manifest ({exc})") from exc

    def manifest(self, collection: str) -> Manifest | None:
        generation = self.current(collection)
        if generation is None:
            return None
        return self.read_manifest(self.collection_dir(collection) / generation)

    def stats(self, collection: str) -> dict | None:
        """The live generation's ``stats.json``; None if absent (built before they were kept)."""
        generation = self.current(collection)
        if generation is None:
            return None
        try:
            return json.loads((self.collection_dir(collection) / generation / "stats.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None

    def stored_chunks(self, collection: str, paths: Iterable[str]) -> dict[str, list[Chunk]]:
        wanted = set(paths)
        found: dict[str, list[Chunk]] = {}
        generation = self.current(collection)
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
                if exc.errno in _BUSY:
                    raise IndexLocked(
                        f"Another ingest_docs is already updating collection {collection!r} in"
                        f" {self.root}; wait for it to finish and run it again."
                    ) from exc
                raise
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def cleanup(self, collection: str, *, keep: str, newer_too: bool = False) -> None:
        """Delete generations no process has open. Newer ones only under the ingest lock."""
        keep_number = int(keep[4:])
        directory = self.collection_dir(collection)
        with self._lock:
            in_use = {h.generation for h in self._open.values()}
        for name in self.names(collection):
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
            if (shard_path / "wal").exists() and self._shard_in_use(shard_path):
                continue  # a format-1 generation an older server still reads
            shutil.rmtree(path, ignore_errors=True)

    def sharing_problem(self, collection: str) -> str | None:
        """Why the live generation cannot be read by several worker processes, or None.

        Two things break sharing: a generation with a write-ahead log (built by an earlier
        version; the engine locks it for one process) and an index folder whose filesystem
        has no ``flock`` (clean-up could then delete a generation another worker reads).
        """
        generation = self.current(collection)
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
            if exc.errno not in _BUSY:
                return no_flock_message(path, exc)
        finally:
            os.close(fd)
        return None

    # -- serving: this process's readers
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

    def _acquire(self, collection: str) -> Handle:
        with self._lock:
            stamp = self._stamp(collection)
            handle = self._open.get(collection)
            if handle is not None and handle.stamp == stamp and stamp is not None:
                handle.refs += 1
                return handle
            if stamp is None:
                raise IndexUnavailable(self._missing_message(collection))
            for attempt in range(3):
                generation = self.current(collection)
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
                    if attempt == 2 or self.current(collection) == generation:
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
            self.cleanup(collection, keep=fresh.generation)
        return fresh

    def _open_generation(self, collection: str, generation: str, stamp) -> Handle:
        path = self.collection_dir(collection) / generation
        manifest = self.read_manifest(path)
        self._check_manifest(collection, manifest)
        reader_lock = lock_for_reading(path)
        try:
            shard = self._load_shard(path / "shard")
        except BaseException:
            os.close(reader_lock)
            raise
        return Handle(generation, path, shard, manifest, stamp, reader_lock)

    def _close_handle(self, handle: Handle) -> None:
        with contextlib.suppress(Exception):
            handle.shard.close()
        with contextlib.suppress(OSError):
            os.close(handle.reader_lock)

    def _release(self, handle: Handle) -> None:
        collection = handle.path.parent.name
        with self._lock:
            handle.refs -= 1
            close = handle.retired and handle.refs == 0
            if close:
                self._close_handle(handle)
            current = self._open.get(collection)
        if close and current is not None:
            self.cleanup(collection, keep=current.generation)

    @contextlib.contextmanager
    def reading(self, collection: str) -> Iterator[Handle]:
        """The live generation, open and kept open (not cleaned up) until the block ends."""
        handle = self._acquire(collection)
        try:
            yield handle
        finally:
            self._release(handle)

    def close(self) -> None:
        with self._lock:
            for handle in self._open.values():
                self._close_handle(handle)
            self._open.clear()
