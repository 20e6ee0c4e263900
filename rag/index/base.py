"""The search index interface and the values that pass through it.

``SearchIndex`` lists every member callers use, so they call it directly instead of probing a
backend with ``getattr``; a backend without generations or saved statistics inherits the
defaults (None). ``IndexSpec``, ``PageEntry`` and ``Manifest`` describe what a collection
holds; ``WritePlan`` is what ingestion asks an index to hold after a write; ``ScoredChunk`` is
one search result before ``rag.retrieval`` turns it into a hit.
"""

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from ..chunking import Chunk
from ..conf import rag_settings
from ..sparse import SparseVector

SPARSE = "sparse"
DENSE = "dense"
RRF_K = 60
# 2: shards without a WAL (opened by any number of processes) and a readers.lock file.
INDEX_FORMAT = 2
UPSERT_BATCH = 256
PAYLOAD_KEYWORDS = ("path", "version", "locale")

Embedder = Callable[[list[str]], list[list[float]] | None]
# rag.calibration.calibrate: (chunks, *, documents, df, vectors) -> a Calibration (to_dict()).
# Passed in by ingestion, like the embedder, so the index never imports the relevance layer.
Calibrator = Callable[..., object]


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


class SearchIndex:
    """The interface both backends implement (``EdgeIndex``, ``ServerIndex``)."""

    backend = ""

    def spec(self, *, dense_model: str | None, dense_size: int | None) -> IndexSpec:
        """The spec an index written now by this backend would have."""
        raise NotImplementedError

    def manifest(self, collection: str) -> Manifest | None:
        """The pages a collection holds and its spec; None when there is no index."""
        raise NotImplementedError

    def current_generation(self, collection: str) -> str | None:
        """The name of the live generation, or None for a backend updated in place.

        Callers key caches on it: a new generation means new contents, while None means the
        contents can change at any time (cache for a while only).
        """
        return None

    def dense_model(self, collection: str) -> str | None:
        """The embedding model the collection's dense vectors come from (None: sparse only).

        Raises ``IndexUnavailable`` when there is no such collection.
        """
        raise NotImplementedError

    def stored_chunks(self, collection: str, paths: Iterable[str]) -> dict[str, list[Chunk]]:
        """The stored chunks of ``paths`` in stored order, by path (unknown paths left out)."""
        raise NotImplementedError

    def term_stats(self, collection: str) -> tuple[int, dict[int, int]] | None:
        """(chunk count, document frequency per sparse term) saved at ingestion, if kept."""
        return None

    def calibration(self, collection: str) -> dict | None:
        """The relevance calibration saved at ingestion (rag.calibration), if kept."""
        return None

    def write(self, collection: str, plan: WritePlan, *, embed: Embedder,
              calibrate: Calibrator | None = None) -> None:
        """Make the collection hold what ``plan`` says.

        ``embed`` gives the chunks' dense vectors (None: sparse only). A backend that saves
        term statistics saves ``calibrate``'s result with them (without one, the relevance
        layer calibrates when it first needs to).
        """
        raise NotImplementedError

    def query(self, collection: str, *, sparse: SparseVector, dense: list[float] | None,
              limit: int, version: str | None = None, locale: str | None = None) -> list[ScoredChunk]:
        raise NotImplementedError

    def status(self, collection: str) -> dict:
        """``{"ok", "backend", "collection", "points"?, "error"?}``; never raises."""
        raise NotImplementedError

    def close(self) -> None:
        pass
