"""manage.py ingest_docs PATH --base-url URL: index a Docusaurus docs folder."""

from argparse import BooleanOptionalAction
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rag.exceptions import EmbeddingError, IngestError, RetrievalUnavailable
from rag.ingestion import ingest_docs


class Progress:
    """A progress bar on a terminal, a plain line per stage (and every 10%) otherwise."""

    def __init__(self, stdout, tty: bool):
        self.stdout = stdout
        self.tty = tty
        self.last: tuple[str, int] | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        total = max(total, 1)
        percent = int(100 * done / total)
        if self.tty:
            filled = percent * 30 // 100
            self.stdout.write(f"\r{stage:>6} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}", ending="")
            if done >= total:
                self.stdout.write("")
            self.stdout.flush()
            return
        # Plain lines: one when a stage starts, one per 25%, one when it ends.
        bucket = (stage, percent // 25)
        if bucket != self.last:
            self.last = bucket
            self.stdout.write(f"{stage}: {done}/{total}")


class Command(BaseCommand):
    help = (
        "Index a Docusaurus docs folder (.md/.mdx) for the chat assistant. Re-running it is cheap:"
        " unchanged pages are skipped, changed pages replaced and deleted pages pruned. Safe to run"
        " while the server is up: the server switches to the new index on its next request."
    )

    def add_arguments(self, parser):
        parser.add_argument("path",
                            help="The Docusaurus docs folder (or the site folder holding docs/, versioned_docs/, "
                            "i18n/).")
        parser.add_argument("--base-url", required=True,
                            help="The docs site's address, e.g. https://docs.example.com (page URLs start with it).")
        parser.add_argument("--route-base-path", default="/docs",
                            help="The docs plugin's routeBasePath (default /docs; '/' for docs-only sites).")
        parser.add_argument("--collection", default=None,
                            help="Index collection to write (default: the RAG_COLLECTION setting).")
        parser.add_argument("--default-locale", default="en", help="Locale of pages outside i18n/ (default en).")
        parser.add_argument("--dry-run", action="store_true",
                            help="Report what would change; touch neither the index nor the database.")
        parser.add_argument("--prune", action=BooleanOptionalAction, default=True,
                            help="Remove pages no longer in the docs folder (default); --no-prune keeps them.")

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.exists():
            raise CommandError(f"{path} does not exist: give the path of the Docusaurus docs folder")
        progress = Progress(self.stdout, tty=self.stdout.isatty())
        try:
            report = ingest_docs(
                docs_path=path,
                base_url=options["base_url"],
                route_base_path=options["route_base_path"],
                collection=options["collection"],
                prune=options["prune"],
                dry_run=options["dry_run"],
                default_locale=options["default_locale"],
                progress=progress if options.get("verbosity", 1) >= 1 else None,
            )
        except (IngestError, EmbeddingError, RetrievalUnavailable) as exc:
            raise CommandError(str(exc)) from exc
        for item in report.skipped:
            self.stderr.write(self.style.WARNING(f"  skipped {item.path}: {item.reason}"))
        if report.rebuilt:
            self.stdout.write(self.style.WARNING(f"Rebuilt the whole index: {report.rebuilt}."))
        prefix = "Dry run, nothing changed. Would have: " if report.dry_run else ""
        if options.get("verbosity", 1) >= 2 or report.dry_run:
            for label, paths in (("add", report.added_paths), ("update", report.updated_paths),
                                 ("delete", report.deleted_paths)):
                for item in paths:
                    self.stdout.write(f"  {label} {item}")
        summary = (
            f"{prefix}added {report.added}, updated {report.updated}, deleted {report.deleted},"
            f" unchanged {report.unchanged} pages"
            + (f", kept {report.kept} pages no longer in the docs" if report.kept else "")
            + (f", skipped {len(report.skipped)} files (listed above)" if report.skipped else "")
            + f"; {report.chunks} chunks; {report.embedding_calls} embedding calls;"
            f" {report.elapsed:.1f} s ({report.backend}, collection {report.collection})"
        )
        self.stdout.write(self.style.SUCCESS(summary) if not report.dry_run else summary)
