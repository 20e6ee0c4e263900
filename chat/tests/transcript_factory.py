"""Builders for sessions and transcripts used by the admin, command and health tests."""

import itertools
from datetime import timedelta

from django.utils import timezone

from chat.models import ChatMessage, ChatSession
from chat.tokens import hash_token, new_token

_counter = itertools.count(1)


def make_session(*, days_ago: float = 0, channel=ChatSession.Channel.WIDGET, page="", title=""):
    moment = timezone.now() - timedelta(days=days_ago)
    return ChatSession.objects.create(
        token_hash=hash_token(new_token()),
        channel=channel,
        title=title,
        started_on_url=page,
        created_at=moment,
        last_active_at=moment,
    )


def make_exchange(
    session,
    question: str,
    answer: str = "The answer [1].",
    *,
    sources=None,
    refused: bool = False,
    rating: str | None = None,
    comment: str = "",
    status=ChatMessage.Status.COMPLETE,
    at=None,
    latency_ms: int | None = 900,
    ttft_ms: int | None = 150,
):
    """A question and its answer, the answer ``reply_to`` the question."""
    if at is None:
        # Later exchanges of a session come later, as in a real conversation.
        at = session.last_active_at + timedelta(
            seconds=2 * ChatMessage.objects.filter(session=session).count()
        )
    n = next(_counter)
    question_row = ChatMessage.objects.create(
        session=session,
        role=ChatMessage.Role.USER,
        content=question,
        channel=session.channel,  # as chat.turns records it
        created_at=at,
        client_message_id=f"q-{n}",
    )
    answer_row = ChatMessage.objects.create(
        session=session,
        role=ChatMessage.Role.ASSISTANT,
        content=answer,
        reply_to=question_row,
        sources=sources if sources is not None else [source(1, "Install", "/docs/install")],
        refused=refused,
        rating=rating,
        rating_comment=comment,
        rated_at=timezone.now() if rating else None,
        status=status,
        model="fake-model",
        prompt_tokens=120,
        completion_tokens=40,
        latency_ms=latency_ms,
        ttft_ms=ttft_ms,
        created_at=at + timedelta(seconds=1),
    )
    return question_row, answer_row


def source(n: int, title: str, url: str, heading: str = "") -> dict:
    return {
        "n": n,
        "title": title,
        "heading": heading,
        "url": url,
        "path": f"{url.strip('/')}.md",
        "score": 0.5,
        "snippet": "…",
    }
