from django.core.management.base import BaseCommand, CommandError

from chat.conf import chat_settings
from insights.retention import transcripts_expire
from insights.rollup import insights_rollup


class Command(BaseCommand):
    help = ("Update the dashboard's daily figures and gap topics from new chat messages, then "
            "blank transcripts older than CHAT_TRANSCRIPT_DAYS when it is set. Run it hourly.")

    def handle(self, *args, **options):
        days = chat_settings.TRANSCRIPT_DAYS
        if days is not None and (not isinstance(days, int) or days < 1):
            raise CommandError(f"CHAT_TRANSCRIPT_DAYS must be a whole number of days ≥ 1, got {days!r}")
        result = insights_rollup()
        self.stdout.write(f"{result.days} days recomputed, {result.gap_questions} failed questions "
                          f"filed, {result.new_topics} new topics")
        if days is not None:
            expired = transcripts_expire(days=days)
            self.stdout.write(f"transcripts before {expired.cutoff:%Y-%m-%d %H:%M}: "
                              f"{expired.messages} messages and {expired.gap_questions} gap "
                              "questions blanked (counts and topics kept)")
        self.stdout.write(self.style.SUCCESS("insights up to date"))
