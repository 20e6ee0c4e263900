"""Maintenance commands: prune_history, export_transcripts, chat_stats, and their progress."""

import csv
import io
import json
import tracemalloc
from datetime import timedelta

import pytest

from django.core.management import CommandError, call_command
from django.utils import timezone

from chat.models import ChatMessage, ChatSession
from chat.progress import Progress
from chat.tests.transcript_factory import make_exchange, make_session, source

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def database_snapshot() -> tuple[list, list]:
    return (
        list(ChatSession.objects.order_by("pk").values()),
        list(ChatMessage.objects.order_by("pk").values()),
    )


def make_stale_pending(session, *, minutes_ago: int) -> ChatMessage:
    question, answer = make_exchange(
        session, "still waiting?", "", status=ChatMessage.Status.PENDING
    )
    ChatMessage.objects.filter(pk=answer.pk).update(
        updated_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return answer


# prune_history


def test_prune_deletes_idle_sessions_with_their_messages_and_keeps_active_ones():
    idle = make_session(days_ago=40)
    make_exchange(idle, "old question")
    make_exchange(idle, "another old question")
    active = make_session(days_ago=2)
    make_exchange(active, "recent question")

    out, _ = run("prune_history", "--older-than", "30")

    assert list(ChatSession.objects.values_list("pk", flat=True)) == [active.pk]
    assert ChatMessage.objects.count() == 2
    assert "Deleted 1 session(s)" in out
    assert "and 4 message(s)" in out


def test_prune_deletes_in_batches_and_counts_every_batch():
    for _ in range(5):
        make_exchange(make_session(days_ago=100), "old")

    out, err = run("prune_history", "--older-than", "30", "--batch-size", "2")

    assert ChatSession.objects.count() == 0
    assert "Deleted 5 session(s)" in out and "and 10 message(s)" in out
    assert "prune: 5/5 (100%)" in err


def test_prune_marks_stale_pending_answers_failed_and_leaves_fresh_ones():
    session = make_session()
    stale = make_stale_pending(session, minutes_ago=60)
    fresh = make_stale_pending(session, minutes_ago=0)

    out, _ = run("prune_history", "--older-than", "30")

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == ChatMessage.Status.FAILED
    assert fresh.status == ChatMessage.Status.PENDING
    assert "marked 1 stale pending answer(s) as failed" in out


def test_prune_dry_run_reports_counts_and_leaves_the_database_untouched():
    idle = make_session(days_ago=40)
    make_exchange(idle, "old question")
    active = make_session()
    make_stale_pending(active, minutes_ago=60)
    before = database_snapshot()

    out, _ = run("prune_history", "--older-than", "30", "--dry-run")

    assert database_snapshot() == before
    assert "Would delete 1 session(s)" in out
    assert "and 2 message(s)" in out
    assert "would mark 1 stale pending answer(s)" in out
    assert "nothing was changed" in out


def test_prune_defaults_to_the_configured_idle_days(settings):
    settings.CHAT_SESSION_IDLE_DAYS = 10
    make_session(days_ago=11)
    kept = make_session(days_ago=9)

    run("prune_history")

    assert list(ChatSession.objects.values_list("pk", flat=True)) == [kept.pk]


@pytest.mark.parametrize("value", ["0", "-3"])
def test_prune_rejects_fewer_than_one_day(value):
    with pytest.raises(CommandError, match="--older-than must be at least 1 day"):
        run("prune_history", "--older-than", value)


def test_prune_rejects_a_non_number():
    with pytest.raises(CommandError, match="invalid int value"):
        run("prune_history", "--older-than", "ninety")


# export_transcripts


def test_export_writes_one_json_line_per_message_with_hash_prefix_not_token():
    session = make_session()
    question, answer = make_exchange(
        session,
        "How do I install?",
        "Run it [1].",
        sources=[source(1, "Install", "/docs/install#steps")],
        rating="down",
        comment="too short",
    )

    out, _ = run("export_transcripts", "--since", "2000-01-01")

    records = [json.loads(line) for line in out.splitlines()]
    assert [record["id"] for record in records] == [question.pk, answer.pk]
    first, second = records
    assert first["session"] == session.token_hash[:12] == second["session"]
    assert session.token_hash not in out
    assert (first["role"], first["text"]) == ("user", "How do I install?")
    assert second["role"] == "assistant"
    assert second["sources"][0]["url"] == "/docs/install#steps"
    assert (second["status"], second["rating"], second["rating_comment"]) == (
        "complete",
        "down",
        "too short",
    )
    assert second["reply_to"] == question.pk
    assert second["created_at"] and second["rated_at"]


def test_export_csv_to_a_file_has_a_header_and_sources_as_json(tmp_path):
    session = make_session()
    make_exchange(session, 'Quote "this", please\nand a newline', sources=[source(1, "A", "/a")])
    target = tmp_path / "export.csv"

    out, err = run(
        "export_transcripts", "--since", "2000-01-01", "--format", "csv", "--output", str(target)
    )

    assert out.startswith("Exported 2 message(s) to ")
    assert "export: 2/2 (100%)" in err
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert [row["role"] for row in rows] == ["user", "assistant"]
    assert rows[0]["text"] == 'Quote "this", please\nand a newline'
    assert json.loads(rows[1]["sources"])[0]["url"] == "/a"
    assert list(tmp_path.iterdir()) == [target]


def test_export_includes_only_messages_in_the_period():
    now = timezone.now()
    session = make_session()
    old, _ = make_exchange(session, "old", at=now - timedelta(days=10))
    inside, inside_answer = make_exchange(session, "inside", at=now - timedelta(days=5))
    make_exchange(session, "new", at=now - timedelta(hours=1))

    since = (now - timedelta(days=6)).date().isoformat()
    until = (now - timedelta(days=3)).date().isoformat()
    out, _ = run("export_transcripts", "--since", since, "--until", until)

    assert [json.loads(line)["id"] for line in out.splitlines()] == [inside.pk, inside_answer.pk]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "last tuesday"], "--since must be a date"),
        (["--since", "2025-02-30"], "--since must be a date"),
        (["--since", "2025-03-01", "--until", "2025-02-01"], "must be later than --since"),
        (["--since", "2025-03-01", "--format", "xml"], "invalid choice: 'xml'"),
        (["--since", "2025-03-01", "--batch-size", "0"], "--batch-size must be at least 1"),
        ([], "the following arguments are required: --since"),
    ],
)
def test_export_rejects_bad_options_with_a_clear_message(args, message):
    with pytest.raises(CommandError, match=message):
        run("export_transcripts", *args)


def test_export_to_a_missing_directory_says_to_create_it(tmp_path):
    with pytest.raises(CommandError, match="does not exist; create it first"):
        run(
            "export_transcripts",
            "--since",
            "2000-01-01",
            "--output",
            str(tmp_path / "no" / "x.jsonl"),
        )


def test_export_of_ten_thousand_messages_keeps_memory_flat(tmp_path):
    sessions = [make_session() for _ in range(20)]
    text = "How do I configure the thing so that it works behind a proxy? " * 6
    ChatMessage.objects.bulk_create(
        [
            ChatMessage(
                session=sessions[i % 20],
                role=ChatMessage.Role.USER if i % 2 == 0 else ChatMessage.Role.ASSISTANT,
                content=f"{i} {text}",
                sources=[source(1, "Proxy", "/docs/proxy#setup")] if i % 2 else [],
            )
            for i in range(10_000)
        ],
        batch_size=1000,
    )
    target = tmp_path / "all.jsonl"

    tracemalloc.start()
    call_command(
        "export_transcripts",
        "--since",
        "2000-01-01",
        "--output",
        str(target),
        "--batch-size",
        "500",
        verbosity=0,
    )
    export_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    # What holding every record at once takes (the thing streaming avoids).
    tracemalloc.start()
    everything = list(ChatMessage.objects.values())
    materialised_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    with target.open(encoding="utf-8") as lines:
        assert sum(1 for _ in lines) == 10_000 == len(everything)
    assert export_peak * 4 < materialised_peak, (export_peak, materialised_peak)


# chat_stats


def test_stats_json_counts_sessions_feedback_refusals_latency_and_pages():
    now = timezone.now()
    first = make_session()
    make_exchange(
        first,
        "install?",
        sources=[source(1, "Install", "/docs/install#a"), source(2, "Install", "/docs/install#b")],
        rating="up",
        latency_ms=100,
        ttft_ms=10,
    )
    make_exchange(
        first,
        "upgrade?",
        sources=[source(1, "Upgrade", "/docs/upgrade")],
        latency_ms=200,
        ttft_ms=20,
    )
    second = make_session()
    make_exchange(
        second,
        "Payroll?",
        refused=True,
        rating="down",
        latency_ms=300,
        ttft_ms=30,
        sources=[source(1, "Nearest", "/docs/nearest")],
    )
    make_exchange(second, "  payroll? ", refused=True, latency_ms=4000, ttft_ms=None)
    old = make_session(days_ago=60)
    make_exchange(old, "ancient", refused=True, at=now - timedelta(days=60))

    out, _ = run("chat_stats", "--days", "7", "--json")

    stats = json.loads(out)
    assert stats["sessions"] == 2
    assert (stats["messages"], stats["questions"], stats["answers"]) == (8, 4, 4)
    assert stats["refused"] == 2 and stats["refusal_rate"] == 0.5
    assert (stats["thumbs_up"], stats["thumbs_down"]) == (1, 1)
    assert stats["latency_ms"] == {"p50": 200, "p95": 4000}
    assert stats["ttft_ms"] == {"p50": 20, "p95": 30}
    # Each page once per answer (two anchors of /docs/install count once); refusals' nearest
    # pages are not citations.
    assert stats["top_cited_pages"] == [
        {"url": "/docs/install", "title": "Install", "count": 1},
        {"url": "/docs/upgrade", "title": "Upgrade", "count": 1},
    ]
    assert stats["top_unanswered_questions"] == [{"question": "payroll?", "count": 2}]


def test_stats_report_for_humans_names_every_figure():
    make_exchange(make_session(), "q", rating="up")

    out, _ = run("chat_stats")

    for label in (
        "sessions started",
        "messages",
        "not in the docs",
        "feedback",
        "latency (ms)",
        "first token (ms)",
        "Most cited pages",
        "answered 'not in the docs'",
    ):
        assert label in out


def test_stats_with_no_data_reports_zeroes_not_errors():
    stats = json.loads(run("chat_stats", "--json")[0])

    assert stats["messages"] == 0
    assert stats["refusal_rate"] is None
    assert stats["latency_ms"] == {"p50": None, "p95": None}


def test_stats_rejects_zero_days():
    with pytest.raises(CommandError, match="--days must be at least 1"):
        run("chat_stats", "--days", "0")


# progress


class TerminalStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_off_a_terminal_writes_a_plain_line_every_ten_percent():
    stream = io.StringIO()
    with Progress(stream, total=200, label="export") as progress:
        for _ in range(200):
            progress.advance()

    lines = stream.getvalue().splitlines()
    assert lines[0] == "export: 20/200 (10%)"
    assert lines[-1] == "export: 200/200 (100%)"
    assert len(lines) == 10
    assert "\r" not in stream.getvalue()


def test_progress_on_a_terminal_redraws_one_bar_in_place():
    stream = TerminalStream()
    with Progress(stream, total=4, label="prune") as progress:
        for _ in range(4):
            progress.advance()

    text = stream.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert text.count("\r") == 4
    assert text.rstrip("\n").split("\r")[-1] == "prune [" + "#" * 30 + "] 100% 4/4"


def test_progress_with_unknown_total_counts_every_n_items():
    stream = io.StringIO()
    with Progress(stream, total=None, label="ingest", every=2) as progress:
        progress.advance(5)

    assert stream.getvalue() == "ingest: 5\n"
