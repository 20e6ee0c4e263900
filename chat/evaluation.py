"""One evaluation conversation through the real chat turn (``rag_eval --conversation``).

``rag_eval`` asks every question of a set one after another in one session, to see whether
earlier turns leak into later answers (topic stickiness). It must go through the same turn
path as the API — the session and its stored history, ``chat.turns.turn_prepare`` /
``turn_events``, ``rag.services.answer_stream`` — and imports point one way (chat → rag), so
the runner lives here and the rag command finds it through the ``RAG_CONVERSATION_RUNNER``
setting. The API's per-IP / per-session rate limits are left out on purpose (they belong to
the view, and would stall a 40-question conversation); everything below the view is the
production code. The session is deleted afterwards: an evaluation leaves no chat history.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from asgiref.sync import sync_to_async

from rag.evaluation import TurnOutcome
from rag.services import RETRIEVAL_PROBE
from rag.types import collect

from . import turns
from .events import Reply
from .models import ChatSession


class ConversationTurnFailed(RuntimeError):
    pass


@asynccontextmanager
async def conversation_session() -> AsyncIterator[Callable[[str], Awaitable[TurnOutcome]]]:
    """Yields ``ask(question)``: one turn in the same session, returning text and retrieval."""
    state: dict = {"token": None, "session": None}

    async def ask(question: str) -> TurnOutcome:
        probe: list = []
        reset = RETRIEVAL_PROBE.set(probe)
        try:
            turn = await turns.turn_prepare(message=question, session_id=state["token"])
            reply = await collect(turns.turn_events(turn), Reply())
        finally:
            RETRIEVAL_PROBE.reset(reset)
        if reply.error is not None:
            raise ConversationTurnFailed(f"{reply.error.code}: {reply.error.message}")
        state["token"], state["session"] = turn.token, turn.session
        if not probe:
            raise ConversationTurnFailed("the turn did not retrieve (replayed or not answered)")
        return TurnOutcome(text=reply.text, retrieval=probe[-1])

    try:
        yield ask
    finally:
        if state["session"] is not None:
            await sync_to_async(
                ChatSession.objects.filter(pk=state["session"].pk).delete)()
