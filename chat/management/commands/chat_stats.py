"""``manage.py chat_stats``: usage and answer quality over the last N days."""

import json
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from chat.reports import chat_stats


class Command(BaseCommand):
    help = (
        "Print chat statistics for the last N days: sessions, messages, refusal rate, "
        "thumbs up/down, p50/p95 latency and time to first token, the most cited pages and "
        "the questions most often answered 'not in the docs'."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=30,
            help="How many days back to look (default: %(default)s).",
        )
        parser.add_argument(
            "--top",
            type=int,
            default=10,
            help="How many cited pages and unanswered questions to list (default: %(default)s).",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="Print one JSON object instead of a human-readable report.",
        )

    def handle(self, *args, days, top, as_json, **options):
        if days < 1:
            raise CommandError(f"--days must be at least 1, got {days}.")
        if top < 1:
            raise CommandError(f"--top must be at least 1, got {top}.")
        stats = chat_stats(since=timezone.now() - timedelta(days=days), top=top)
        if as_json:
            self.stdout.write(json.dumps(stats.as_dict(), indent=2, ensure_ascii=False))
            return
        self.stdout.write(self._report(stats, days))

    def _report(self, stats, days: int) -> str:
        rate = "n/a" if stats.refusal_rate is None else f"{stats.refusal_rate:.1%}"
        lines = [
            f"Chat statistics for the last {days} day(s) (since {stats.since:%Y-%m-%d %H:%M} UTC)",
            f"  sessions started:   {stats.sessions}",
            f"  messages:           {stats.messages} "
            f"({stats.questions} questions, {stats.answers} answers)",
            f"  not in the docs:    {stats.refused} answer(s) ({rate} of answers)",
            f"  feedback:           {stats.thumbs_up} up, {stats.thumbs_down} down",
            f"  latency (ms):       p50 {_ms(stats.latency_ms['p50'])}, "
            f"p95 {_ms(stats.latency_ms['p95'])}",
            f"  first token (ms):   p50 {_ms(stats.ttft_ms['p50'])}, "
            f"p95 {_ms(stats.ttft_ms['p95'])}",
            "",
            "Most cited pages:",
        ]
        lines += [f"  {row['count']:>6}  {row['url']}" for row in stats.top_cited_pages] or [
            "  (none)"
        ]
        lines += ["", "Most frequent questions answered 'not in the docs':"]
        lines += [
            f"  {row['count']:>6}  {_shorten(row['question'])}"
            for row in stats.top_unanswered_questions
        ] or ["  (none)"]
        return "\n".join(lines)


def _ms(value) -> str:
    return "n/a" if value is None else str(value)


def _shorten(text: str, width: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
