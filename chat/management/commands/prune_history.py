"""``manage.py prune_history``: delete idle chat sessions and expire stuck answers."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from chat.conf import chat_settings
from chat.maintenance import history_prune, idle_sessions
from chat.progress import Progress


class Command(BaseCommand):
    help = (
        "Delete chat sessions idle for more than --older-than days, with all their messages, "
        "and mark answers stuck in 'pending' as 'failed'. Prints what it removed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            metavar="DAYS",
            default=None,
            help=(
                "Delete sessions whose last activity is more than DAYS days ago "
                "(default: the CHAT_SESSION_IDLE_DAYS setting, 90 unless configured)."
            ),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Only count what would be deleted or expired; change nothing.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Sessions deleted per transaction (default: %(default)s).",
        )

    def handle(self, *args, older_than, dry_run, batch_size, verbosity, **options):
        if older_than is None:
            older_than = chat_settings.SESSION_IDLE_DAYS
        if older_than < 1:
            raise CommandError(
                f"--older-than must be at least 1 day, got {older_than}. "
                "Pass the number of idle days after which a session is deleted, "
                "e.g. --older-than 90."
            )
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, got {batch_size}.")

        now = timezone.now()
        progress = None
        if not dry_run:
            total = idle_sessions(idle_before=now - timedelta(days=older_than)).count()
            progress = Progress(
                self.stderr, total=total, label="prune", enabled=verbosity >= 1 and total > 0
            )
        result = history_prune(
            older_than_days=older_than,
            dry_run=dry_run,
            batch_size=batch_size,
            on_progress=progress.advance if progress else None,
            now=now,
        )
        if progress:
            progress.finish()

        verb = "Would delete" if dry_run else "Deleted"
        expire_verb = "would mark" if dry_run else "marked"
        summary = (
            f"{verb} {result.sessions} session(s) idle for more than {older_than} day(s) "
            f"and {result.messages} message(s); {expire_verb} {result.expired_pending} stale "
            "pending answer(s) as failed."
        )
        if dry_run:
            summary += " Dry run: nothing was changed."
        self.stdout.write(self.style.SUCCESS(summary) if not dry_run else summary)
