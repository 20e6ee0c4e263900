"""manage.py ingest_site BUILD_DIR_OR_MANIFEST: index a Docusaurus build via the plugin's manifest."""

from argparse import BooleanOptionalAction

from django.core.management.base import BaseCommand, CommandError

from rag.exceptions import EmbeddingError, IngestError, RetrievalUnavailable
from rag.management.commands.ingest_docs import Progress
from rag.site_ingestion import ingest_site


class Command(BaseCommand):
    help = (
        "Index a built Docusaurus site from the manifest docusaurus-plugin-docs-chat writes"
        " (build/docs-chat/manifest.json, one per locale build). Pages keep the permalinks,"
        " versions, locales and anchors Docusaurus built. Incremental: unchanged pages are"
        " skipped, changed ones replaced, pages gone from the build pruned (per locale)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path",
                            help="The Docusaurus build folder (holding docs-chat/manifest.json) or one manifest.json.")
        parser.add_argument("--collection", default=None,
                            help="Index collection to write (default: the RAG_COLLECTION setting).")
        parser.add_argument("--dry-run", action="store_true",
                            help="Print what would be added, updated and deleted; change nothing.")
        parser.add_argument("--prune", action=BooleanOptionalAction, default=True,
                            help="Remove pages of the manifest's locales that are no longer built (default); "
                            "--no-prune keeps them.")

    def handle(self, *args, **options):
        progress = Progress(self.stdout, tty=self.stdout.isatty())
        try:
            report = ingest_site(
                source=options["path"], collection=options["collection"], prune=options["prune"],
                dry_run=options["dry_run"],
                progress=progress if options.get("verbosity", 1) >= 1 else None,
            )
        except (IngestError, EmbeddingError, RetrievalUnavailable) as exc:
            raise CommandError(str(exc)) from exc
        if report.rebuilt:
            self.stdout.write(self.style.WARNING(f"Rebuilt the whole index: {report.rebuilt}."))
        if options.get("verbosity", 1) >= 2 or report.dry_run:
            for label, paths in (("add", report.added_paths), ("update", report.updated_paths),
                                 ("delete", report.deleted_paths)):
                for item in paths:
                    self.stdout.write(f"  {label} {item}")
        prefix = "Dry run, nothing changed. Would have: " if report.dry_run else ""
        summary = (
            f"{prefix}added {report.added}, updated {report.updated}, deleted {report.deleted},"
            f" unchanged {report.unchanged} pages"
            + (f", kept {report.kept} pages no longer built" if report.kept else "")
            + f"; {report.chunks} chunks; {report.embedding_calls} embedding calls;"
            f" {report.elapsed:.1f} s ({report.backend}, collection {report.collection})"
        )
        self.stdout.write(summary if report.dry_run else self.style.SUCCESS(summary))
