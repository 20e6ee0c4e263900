import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from insights.export import gap_issues, log_export, render
from insights.rollup import insights_rollup


def _date(value: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since must be a date like 2026-11-01, got {value!r}") from None
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


class Command(BaseCommand):
    help = ("Write one ready-to-file issue per documentation gap topic (questions the docs "
            "could not answer or readers rated down), newest activity first.")

    def add_arguments(self, parser):
        parser.add_argument("--since", type=_date, help="only topics asked about since this date (YYYY-MM-DD)")
        parser.add_argument("--format", choices=["markdown", "json"], default="markdown",
                            help="markdown (default) or json")
        parser.add_argument("--include-fixed", action="store_true",
                            help="also topics marked fixed in docs")
        parser.add_argument("--no-refresh", action="store_true",
                            help="don't read new messages first (use the last rollup)")

    def handle(self, *args, **options):
        if not options["no_refresh"]:
            insights_rollup()
        issues = gap_issues(since=options["since"], include_fixed=options["include_fixed"])
        log_export(count=len(issues), fmt=options["format"], by="export_gaps command")
        self.stdout.write(render(issues, options["format"]), ending="")
