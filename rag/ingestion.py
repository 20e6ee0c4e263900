"""Ingest a Docusaurus docs folder into the search index, incrementally.

``ingest_docs`` parses every page, chunks it and compares each page's hash with what the
index holds: unchanged pages cost nothing (no embedding call, no write on a server; on the
embedded engine they are copied into the new generation from the embedding cache), changed
pages are replaced, pages gone from the docs are pruned (unless ``prune=False``). A changed
engine version or vector setup rebuilds everything from the docs. ``dry_run`` reports what
would change and touches nothing: no index, no embedding call, no database row.

Docs are untrusted: a file that cannot be read safely (a symbolic link, a special file,
bytes that are not UTF-8, front matter with YAML aliases or tags, an oversized file or line,
control characters in its name; see ``rag.documents``) is skipped and listed in the report
with the reason, and the rest is indexed, so one broken page in a pull request does not
block every update of the site. A skipped page that the index already holds keeps its last
good version there.

After a successful index write the ``IndexedPage`` rows of the collection are brought in
line with the index in one transaction.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from .calibration import calibrate
from .chunking import Chunk, chunk_page, page_hash
from .conf import rag_settings
from .documents import DEFAULT_LOCALE, DocumentError, SkippedFile, load_pages
from .embeddings import EmbeddingStats, embed_texts, model_key
from .exceptions import IngestError
from .index import Manifest, PageEntry, SearchIndex, WritePlan, get_index
from .models import IndexedPage

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)
DEFAULT_PLUGIN_ID = "default"  # a docs folder is one docs plugin instance: Docusaurus' default id


def tag_chunks(chunks: list[Chunk], **extra) -> list[Chunk]:
    """Add payload fields (docs plugin id, version flags) to a page's chunks and rehash them."""
    for chunk in chunks:
        chunk.extra.update(extra)
    digest = page_hash(chunks)
    for chunk in chunks:
        chunk.page_hash = digest
    return chunks


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    chunks: int = 0  # chunks of the pages in the docs folder
    embedding_calls: int = 0
    elapsed: float = 0.0
    kept: int = 0  # pages gone from the docs but kept (prune=False)
    dry_run: bool = False
    rebuilt: str = ""  # why the whole index was rebuilt, "" when it was not
    backend: str = ""
    collection: str = ""
    added_paths: list[str] = field(default_factory=list)
    updated_paths: list[str] = field(default_factory=list)
    deleted_paths: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)  # files not read, with the reason

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted or self.rebuilt)


def validate_base_url(base_url: str) -> str:
    parts = urlsplit(base_url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise IngestError(
            f"--base-url must be the docs site's address, like https://docs.example.com (got {base_url!r})"
        )
    return base_url.rstrip("/")


def validate_route_base_path(route_base_path: str) -> str:
    if not route_base_path.startswith("/") or any(c in route_base_path for c in "?#\\ "):
        raise IngestError(f"--route-base-path must start with '/' like /docs (got {route_base_path!r})")
    return route_base_path


def ingest_docs(
    *,
    docs_path: Path | str,
    base_url: str,
    route_base_path: str = "/docs",
    collection: str | None = None,
    prune: bool = True,
    dry_run: bool = False,
    default_locale: str = DEFAULT_LOCALE,
    progress: Progress | None = None,
    index: SearchIndex | None = None,
) -> IngestReport:
    """Bring the index (and ``IndexedPage`` rows) in line with the docs folder.

    Raises ``IngestError`` for a missing/empty folder or bad URL, ``EmbeddingError`` when the
    embedding endpoint fails and ``RetrievalUnavailable`` subclasses for index problems; in
    every case the live index is left as it was.
    """
    started = time.monotonic()
    docs_path = Path(docs_path)
    base_url = validate_base_url(base_url)
    route_base_path = validate_route_base_path(route_base_path)
    collection = collection or rag_settings.COLLECTION
    if not docs_path.is_dir():
        raise IngestError(f"{docs_path} is not a folder: give the Docusaurus docs folder (e.g. website/docs)")
    report = IngestReport(dry_run=dry_run, collection=collection)

    try:
        pages = load_pages(docs_path, base_url=base_url, route_base_path=route_base_path,
                           default_locale=default_locale, skipped=report.skipped)
    except DocumentError as exc:
        raise IngestError(f"cannot read the docs: {exc}") from exc
    if not pages:
        if report.skipped:
            listed = "; ".join(f"{s.path}: {s.reason}" for s in report.skipped[:5])
            raise IngestError(f"{docs_path} has no page that can be indexed; skipped {len(report.skipped)}"
                              f" files ({listed})")
        raise IngestError(f"{docs_path} has no .md or .mdx pages to index")
    chunks_by_page: dict[str, list[Chunk]] = {}
    for n, page in enumerate(pages, 1):
        chunks_by_page[page.path] = tag_chunks(chunk_page(page), plugin_id=DEFAULT_PLUGIN_ID)
        if progress:
            progress("parse", n, len(pages))
    report.chunks = sum(len(c) for c in chunks_by_page.values())
    return ingest_chunks(chunks_by_page=chunks_by_page, report=report, source=str(docs_path.resolve()),
                         base_url=base_url, prune=prune, dry_run=dry_run, progress=progress,
                         index=index, started=started)


def ingest_chunks(
    *,
    chunks_by_page: dict[str, list[Chunk]],
    report: IngestReport,
    source: str,
    base_url: str,
    prune: bool,
    dry_run: bool,
    progress: Progress | None,
    index: SearchIndex | None,
    started: float,
    prunable: Callable[[PageEntry], bool] | None = None,
) -> IngestReport:
    """The index side shared by ``ingest_docs`` and ``rag.site.ingest_site``.

    Compares the pages' hashes with the index, writes a new generation when anything changed
    and syncs ``IndexedPage``. ``prunable`` limits which indexed pages missing from
    ``chunks_by_page`` may be deleted (a French-only push must not prune English pages).
    """
    collection = report.collection
    index = index or get_index()
    report.backend = index.backend
    manifest: Manifest | None = index.manifest(collection)
    spec = index.spec(dense_model=model_key(), dense_size=None)
    if manifest is not None:
        reason = manifest.spec.mismatch(spec)
        if reason:
            report.rebuilt = reason
            logger.warning("rebuilding collection %s: %s", collection, reason)
    indexed = {} if manifest is None or report.rebuilt else manifest.pages

    for path, chunks in chunks_by_page.items():
        entry = indexed.get(path)
        if entry is None:
            report.added_paths.append(path)
        elif entry.page_hash != chunks[0].page_hash or entry.chunk_count != len(chunks):
            report.updated_paths.append(path)
        else:
            report.unchanged += 1
    # A skipped file is unreadable now, not deleted: its indexed version stays.
    skipped_paths = {s.path for s in report.skipped}
    gone = sorted(p for p in set(indexed) - set(chunks_by_page) - skipped_paths
                  if prunable is None or prunable(indexed[p]))
    if prune:
        report.deleted_paths = gone
    else:
        report.kept = len(gone)
    report.added, report.updated, report.deleted = (
        len(report.added_paths), len(report.updated_paths), len(report.deleted_paths))

    if not dry_run and (report.changed or manifest is None):
        stats = EmbeddingStats()
        total = report.chunks + (report.kept and sum(indexed[p].chunk_count for p in gone))

        def embed(texts: list[str]) -> list[list[float]] | None:
            vectors: list[list[float]] = []
            for start in range(0, len(texts), 256):
                part = embed_texts(texts[start:start + 256], stats=stats)
                if part is None:
                    return None
                vectors.extend(part)
                if progress:
                    progress("embed", min(start + 256, len(texts)), max(total, len(texts)))
            return vectors

        plan = WritePlan(
            spec=spec,
            pages=chunks_by_page,
            changed=set(report.added_paths) | set(report.updated_paths),
            deleted=set(report.deleted_paths),
            rebuild=bool(report.rebuilt),
            docs_path=source,
            base_url=base_url,
        )
        index.write(collection, plan, embed=embed, calibrate=calibrate)
        report.embedding_calls = stats.calls
        if progress:
            progress("write", 1, 1)
        _sync_pages(collection, index.manifest(collection))
    elif not dry_run:
        _sync_pages(collection, manifest)
    report.elapsed = time.monotonic() - started
    logger.info(
        "ingest %s: added=%d updated=%d deleted=%d unchanged=%d skipped=%d chunks=%d"
        " embedding_calls=%d %.1fs",
        collection, report.added, report.updated, report.deleted, report.unchanged,
        len(report.skipped), report.chunks, report.embedding_calls, report.elapsed,
    )
    return report


def _sync_pages(collection: str, manifest: Manifest | None) -> None:
    """Make the collection's ``IndexedPage`` rows match what the index holds."""
    pages = manifest.pages if manifest else {}
    now = timezone.now()
    with transaction.atomic():
        existing = {p.path: p for p in IndexedPage.objects.filter(collection=collection)}
        IndexedPage.objects.filter(collection=collection).exclude(path__in=list(pages)).delete()
        create, update = [], []
        for path, entry in pages.items():
            row = existing.get(path)
            values = {"url": entry.url, "title": entry.title[:500], "version": entry.version,
                      "locale": entry.locale, "chunk_count": entry.chunk_count,
                      "content_hash": entry.page_hash}
            if row is None:
                create.append(IndexedPage(collection=collection, path=path, last_indexed_at=now, **values))
            elif any(getattr(row, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(row, key, value)
                row.last_indexed_at = now
                update.append(row)
        IndexedPage.objects.bulk_create(create, batch_size=500)
        IndexedPage.objects.bulk_update(
            update, ["url", "title", "version", "locale", "chunk_count", "content_hash", "last_indexed_at"],
            batch_size=500,
        )
