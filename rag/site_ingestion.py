"""Index a built Docusaurus site from the plugin's manifest(s), incrementally.

``ingest_site`` is ``ingest_docs`` with the page source swapped: pages come from the
manifest (permalinks, versions, locales and anchors as Docusaurus built them) instead of
from parsing Markdown, then go through the same chunking and the same index-generation flow
(``rag.ingestion.ingest_chunks``): unchanged pages cost nothing, changed ones are replaced,
pages gone from the build are pruned, and serving switches to the new generation only once
it is complete. Pruning is limited to the locales the manifests are for, so a CI job that
pushes one locale's build never drops the others.
"""

import time
from pathlib import Path

from .chunking import Chunk, chunk_page
from .conf import rag_settings
from .exceptions import IngestError
from .index import SearchIndex
from .ingestion import IngestReport, Progress, ingest_chunks, tag_chunks
from .site_manifest import SiteManifest, SitePage, read_manifests, site_page


def site_chunks(page: SitePage) -> list[Chunk]:
    """The page's chunks, each carrying the docs plugin id and whether its version is the default."""
    return tag_chunks(
        chunk_page(site_page(page)), plugin_id=page.plugin_id,
        version_latest=bool(page.version and page.version.is_last),
        version_label=page.version.label if page.version else "")


def ingest_site(
    *,
    source: Path | str | None = None,
    manifests: list[SiteManifest] | None = None,
    collection: str | None = None,
    prune: bool = True,
    dry_run: bool = False,
    progress: Progress | None = None,
    index: SearchIndex | None = None,
) -> IngestReport:
    """Bring the index in line with a build folder / manifest file (``source``) or parsed
    ``manifests``. Raises ``IngestError`` (``ManifestError`` for a bad manifest) before the
    index is touched; index and embedding errors as ``ingest_docs`` does.
    """
    started = time.monotonic()
    if manifests is None:
        if source is None:
            raise IngestError("give the Docusaurus build folder or a docs-chat manifest.json")
        manifests = read_manifests(source)
    collection = collection or rag_settings.COLLECTION
    report = IngestReport(dry_run=dry_run, collection=collection)
    chunks_by_page: dict[str, list[Chunk]] = {}
    pages = [page for manifest in manifests for page in manifest.pages]
    for n, page in enumerate(pages, 1):
        if page.permalink in chunks_by_page:
            raise IngestError(f"{page.permalink} is in two manifests")
        chunks_by_page[page.permalink] = site_chunks(page)
        if progress:
            progress("parse", n, len(pages))
    report.chunks = sum(len(c) for c in chunks_by_page.values())
    locales = {manifest.locale for manifest in manifests}
    first = manifests[0]
    return ingest_chunks(
        chunks_by_page=chunks_by_page, report=report,
        source=f"site:{first.site_url}{first.base_url}", base_url=first.site_url,
        prune=prune, dry_run=dry_run, progress=progress, index=index, started=started,
        prunable=lambda entry: entry.locale in locales,
    )
