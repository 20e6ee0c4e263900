"""One chat turn: check the session, store the question, stream the answer, store the answer.

This module owns a turn for every channel (the HTTP API, ChatKit, the MCP ``ask`` tool,
``rag_eval``'s conversations): callers validate their input, call ``turn_prepare`` then
``turn_events``, and render the events.

``turn_prepare`` does everything that can still be refused with a 4xx (bad or unknown
session, budget used up, a duplicate already being answered) and stores the question (or,
for ChatKit, takes the one its store already saved) and reserves its answer row before any
answering starts. The session token is checked and hashed once, here. ``turn_events`` then
yields typed events (``chat.events.SessionStarted``, ``QuestionStored``, the answer's
``rag.types.Sources`` / ``Notice`` / ``Delta``, then ``TurnDone`` or ``TurnError``) while
``rag.services.answer_stream`` produces the answer, and stores the outcome:

- finished → the answer row ``complete`` with sources, model, tokens, latency, ttft;
- the client went away (``asyncio.CancelledError`` / ``GeneratorExit`` in the generator) →
  the text streamed so far saved ``interrupted`` (the save is shielded from the cancel);
- the LLM failed (``rag.exceptions.GenerationError``) → the partial text saved
  ``interrupted`` (or ``failed`` when nothing was streamed) and an ``error`` event.

The database is optional for answering: when it is unreachable the turn still answers,
with ``history_saved`` false, and no session row (``session_id`` null for a new visitor).

A retried ``client_message_id`` whose answer is complete is replayed from the database
(no LLM call); one still being answered elsewhere gets ``AnswerInProgress`` (409).

Database work. A turn costs two transactions: ``turn_prepare`` stores the question, reserves
the answer row and touches the session in one (a new visitor's session, question and answer
are inserted together); the finished answer is one UPDATE. Both run on the turn's own
database threads (``CHAT_DB_THREADS``: the pool's size on PostgreSQL, one on SQLite, whose
single writer then never waits on a lock), not on Django's single ``sync_to_async`` thread
that every other sync call of the process queues on. A connection that breaks mid-way
rolls the transaction back and the turn is retried once on a fresh connection; a retry
after a COMMIT whose reply was lost adopts the rows that attempt stored (issue 19: never a
409 for the request's own answer row, never a session the visitor is not told about).
"""

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async

from django.db import InterfaceError, OperationalError, connection, transaction

from rag.types import Answer, Delta, Done, Sources

from . import budgets, selectors, services, tokens
from .conf import chat_settings
from .events import QuestionStored, SessionStarted, TurnDone, TurnError
from .exceptions import IdempotencyConflict, InvalidSession
from .models import ChatMessage, ChatSession

logger = logging.getLogger("chat.turn")

DB_ERRORS = (OperationalError, InterfaceError)
Status = ChatMessage.Status


@dataclass
class ChatTurn:
    text: str
    page_url: str = ""
    context: str = ""  # the page text the visitor selected ("Ask about this"); not stored
    token: str | None = None
    session_hash: str | None = None  # the token's SHA-256, computed once per turn
    session: ChatSession | None = None
    session_created: bool = False
    question: ChatMessage | None = None
    answer: ChatMessage | None = None
    replay: bool = False
    history: list[dict] = field(default_factory=list)
    storage_ok: bool = True
    started: float = field(default_factory=time.monotonic)
    # Rows written by an attempt whose COMMIT may or may not have happened (see _prepare).
    attempt: dict | None = None

    @property
    def log_session(self) -> str:
        return tokens.log_id(self.session_hash) if self.session_hash else "-"


def _reconnecting(func, /, *args, **kwargs):
    """Run a database function; if the connection broke (e.g. the server closed it), open a
    fresh one and try once more. Runs in the database thread."""
    try:
        return func(*args, **kwargs)
    except DB_ERRORS:
        if connection.in_atomic_block:
            raise
        connection.close()
        return func(*args, **kwargs)


# --- the turn's database threads -------------------------------------------------------

_executor_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _db_threads() -> int:
    configured = chat_settings.DB_THREADS
    if configured is not None:
        return max(int(configured), 0)
    if connection.vendor == "sqlite":
        return 1  # one writer: queued here rather than spinning on SQLite's busy lock
    pool = connection.settings_dict.get("OPTIONS", {}).get("pool")
    if isinstance(pool, dict) and pool.get("max_size"):
        return int(pool["max_size"])  # a thread never waits for a pooled connection
    return 8


def _database_executor() -> ThreadPoolExecutor | None:
    """The turn's database threads (created on first use; None: Django's shared thread)."""
    global _executor
    size = _db_threads()
    if not size:
        return None
    with _executor_lock:
        if _executor is None or _executor._max_workers != size:
            _executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="chat-db")
        return _executor


def _in_db_thread(func, /, *args, **kwargs):
    try:
        return _reconnecting(func, *args, **kwargs)
    finally:
        if connection.vendor != "sqlite":
            # What request_finished does for a request's thread: a pooled connection goes
            # back to the pool; a persistent one (CONN_MAX_AGE) stays until it is too old.
            connection.close_if_unusable_or_obsolete()


def storage_ok() -> bool:
    """Whether the chat's database answers ``SELECT 1`` (for ``GET /chat``)."""
    def ping() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    try:
        _reconnecting(ping)
        return True
    except DB_ERRORS:
        return False


async def run_db(func, /, *args, **kwargs):
    """Run a synchronous database function for a turn without blocking the event loop."""
    executor = _database_executor()
    if executor is None:
        return await sync_to_async(_reconnecting)(func, *args, **kwargs)
    return await sync_to_async(_in_db_thread, thread_sensitive=False, executor=executor)(
        func, *args, **kwargs)


def _adopt_committed_attempt(turn: ChatTurn) -> bool:
    """After a broken connection: did the previous attempt's transaction commit?

    It is all or nothing, so its answer row existing means the session, question and answer
    are all stored and reserved for this request: take them instead of answering 409 to our
    own row (or creating a second session the visitor would never hear of)."""
    attempt, turn.attempt = turn.attempt, None
    if not attempt or attempt.get("answer") is None:
        return False
    if not ChatMessage.objects.filter(pk=attempt["answer"].pk, status=Status.PENDING).exists():
        return False
    turn.session, turn.token = attempt["session"], attempt["token"]
    turn.session_hash = attempt["session"].token_hash
    turn.session_created = attempt["created"]
    turn.question, turn.answer = attempt["question"], attempt["answer"]
    turn.history = attempt["history"]
    return True


def _prepare(turn: ChatTurn, client_message_id: str | None, channel: str,
             stored: ChatMessage | None) -> None:
    """The database part of ``turn_prepare`` (runs in a database thread; see the module
    docstring). Called again by ``_reconnecting`` after a broken connection."""
    if _adopt_committed_attempt(turn):
        return
    session, existing = turn.session, stored
    if session is None and turn.session_hash:
        session = services.session_for_hash(token_hash=turn.session_hash)
        existing = services.message_for_client_id(
            session=session, client_message_id=client_message_id
        )
        if existing is not None and (existing.role != ChatMessage.Role.USER
                                     or existing.content != turn.text):
            raise IdempotencyConflict()
    if existing is not None:
        reply = getattr(existing, "reply", None)  # the reverse one-to-one: None when unanswered
        if reply is not None and reply.status == Status.COMPLETE:
            turn.session = session
            turn.question, turn.answer, turn.replay = existing, reply, True
            return
    budgets.budget_check(session_hash=turn.session_hash)
    attempt = turn.attempt = {"session": session, "token": turn.token, "created": False,
                              "question": None, "answer": None, "history": []}
    with transaction.atomic():
        if session is None:
            session, token = services.session_create(channel=channel, page_url=turn.page_url)
            attempt.update(session=session, token=token, created=True)
        question, answer, claimed = services.turn_records_create(
            session=session, content=turn.text, client_message_id=client_message_id,
            page_url=turn.page_url, question=existing, new_session=attempt["created"],
            channel=channel,
        )
        attempt["question"] = question
        if claimed:
            if not attempt["created"]:  # a new session has no history and was just stamped
                attempt["history"] = selectors.history_for_prompt(session=session,
                                                                  before_id=question.id)
                services.session_touch(session=session)
            attempt["answer"] = answer
    turn.attempt = None
    turn.session, turn.token, turn.session_created = session, attempt["token"], attempt["created"]
    turn.session_hash = session.token_hash if attempt["created"] else turn.session_hash
    turn.question, turn.answer, turn.history = question, answer, attempt["history"]
    turn.replay = not claimed


async def turn_prepare(*, message: str, session_id: str | None = None,
                       client_message_id: str | None = None, page_url: str = "",
                       channel: str = ChatSession.Channel.WIDGET, context: str = "",
                       session: ChatSession | None = None,
                       question: ChatMessage | None = None) -> ChatTurn:
    """Check the session, store the question and reserve its answer row.

    ``session_id`` is the visitor's token (None: a new session is created). ChatKit, whose
    store has already saved the question in a thread it resolved, passes that ``session``
    and ``question`` row instead of having them looked up and stored; the claim, the
    history, the budget check and the touch are the same.

    Raises the chat domain errors (``InvalidSession``, ``SessionNotFound``,
    ``IdempotencyConflict``, ``AnswerInProgress``, ``BudgetExceeded``) before anything is
    streamed. A database outage does not raise: the turn goes on unsaved (``storage_ok``
    False); only for a stored ``question`` (nothing to answer without the store) it does.
    """
    if session_id is not None and not tokens.is_well_formed(session_id):
        raise InvalidSession()
    turn = ChatTurn(text=message, page_url=page_url or "", context=context or "",
                    token=session_id,
                    session_hash=tokens.hash_token(session_id) if session_id else None,
                    session=session)
    try:
        await run_db(_prepare, turn, client_message_id, channel, question)
    except DB_ERRORS as exc:
        if question is not None:
            raise
        logger.warning("chat.turn storage_unavailable session=%s error=%s",
                       turn.log_session, type(exc).__name__)
        budgets.budget_check(session_hash=turn.session_hash)
        turn.storage_ok = False
        turn.question = turn.answer = None
        turn.replay = False
        turn.history = []
    return turn


def _replay_events(turn: ChatTurn) -> list:
    answer = turn.answer
    return [
        Sources(sources=answer.sources, refused=answer.refused),
        Delta(answer.content),
        TurnDone(message_id=answer.id, status=answer.status, history_saved=True,
                 refused=answer.refused, replayed=True),
    ]


async def _save(turn: ChatTurn, **outcome) -> bool:
    """Store the answer's outcome; False when the database could not be reached."""
    if turn.answer is None:
        return False
    try:
        await run_db(services.message_finish, message=turn.answer, **outcome)
        return True
    except DB_ERRORS as exc:
        logger.warning("chat.turn answer_not_saved session=%s message=%s error=%s",
                       turn.log_session, turn.answer.id, type(exc).__name__)
        return False


def _log(turn: ChatTurn, outcome: str, *, saved: bool, done: Answer | None = None,
         error: str = "") -> None:
    """One line per turn; ``done`` is the collected answer when it finished."""
    numbers = dict.fromkeys(("retrieval_ms", "ttft_ms", "prompt_tokens", "completion_tokens",
                             "refused"))
    if done is not None:
        numbers = {"retrieval_ms": done.retrieval_ms, "ttft_ms": done.ttft_ms,
                   "prompt_tokens": done.prompt_tokens,
                   "completion_tokens": done.completion_tokens, "refused": done.refused}
    total_ms = _elapsed_ms(turn)
    message_id = turn.answer.id if turn.answer else None
    logger.info(
        "chat.turn outcome=%s session=%s message=%s retrieval_ms=%s ttft_ms=%s total_ms=%d "
        "prompt_tokens=%s completion_tokens=%s refused=%s history_saved=%s error=%s",
        outcome, turn.log_session, message_id, numbers["retrieval_ms"], numbers["ttft_ms"],
        total_ms, numbers["prompt_tokens"], numbers["completion_tokens"], numbers["refused"],
        saved, error or "-",
        extra={"chat": {
            "outcome": outcome, "session": turn.log_session, "message_id": message_id,
            "retrieval_ms": numbers["retrieval_ms"], "ttft_ms": numbers["ttft_ms"],
            "total_ms": total_ms, "prompt_tokens": numbers["prompt_tokens"],
            "completion_tokens": numbers["completion_tokens"], "history_saved": saved,
            "error": error or None,
        }},
    )


async def turn_events(turn: ChatTurn) -> AsyncIterator:
    """Answer the turn, yielding its events, and store the outcome (see module docstring)."""
    from rag import services as rag_services
    from rag.exceptions import GenerationError

    yield SessionStarted(session_id=turn.token, created=turn.session_created)
    yield QuestionStored(user_message_id=turn.question.id if turn.question else None)
    if turn.replay:
        for event in _replay_events(turn):
            yield event
        _log(turn, "replayed", saved=True)
        return

    got = Answer()  # what the client has been sent so far
    done = None
    # Every LLM call of the answer is counted against the budgets, however the turn ends.
    answer = budgets.TokenMeter(session_hash=turn.session_hash).wrap(rag_services.answer_stream(
        question=turn.text, history=turn.history, page_url=turn.page_url or None,
        context=turn.context or None,
    ))
    try:
        async for event in answer:
            if isinstance(event, Done):
                done = event
            elif isinstance(event, Delta):
                yield event
                event.fold(got)  # once the consumer asked for more: the client has this text
            else:
                event.fold(got)
                yield event
    except (asyncio.CancelledError, GeneratorExit):
        await asyncio.shield(answer.aclose())  # stops the LLM stream, counts its tokens
        saved = await asyncio.shield(_save(
            turn, status=Status.INTERRUPTED, content=got.text, sources=got.sources,
            refused=got.refused, latency_ms=_elapsed_ms(turn), error="client_disconnected",
        ))
        _log(turn, "interrupted", saved=saved, error="client_disconnected")
        raise
    except GenerationError as exc:
        status = Status.INTERRUPTED if got.text else Status.FAILED
        saved = await _save(turn, status=status, content=got.text, sources=got.sources,
                            refused=got.refused, latency_ms=_elapsed_ms(turn), error=exc.code)
        _log(turn, status, saved=saved, error=exc.code)
        yield TurnError(code=exc.code, message=exc.message, retryable=exc.retryable,
                        retry_after=exc.retry_after,
                        message_id=turn.answer.id if saved else None)
        return
    except Exception:
        logger.exception("chat.turn unexpected error session=%s", turn.log_session)
        saved = await _save(turn, status=Status.FAILED, content=got.text, sources=got.sources,
                            refused=got.refused, latency_ms=_elapsed_ms(turn),
                            error="internal_error")
        yield TurnError(code="internal_error",
                        message="The answer failed unexpectedly. Please retry.",
                        retryable=True, message_id=turn.answer.id if saved else None)
        return

    if done is not None:
        done.fold(got)
    saved = await _save(
        turn, status=Status.COMPLETE, content=got.text, sources=got.sources,
        refused=got.refused, model=got.model, prompt_tokens=got.prompt_tokens,
        completion_tokens=got.completion_tokens, latency_ms=_elapsed_ms(turn),
        ttft_ms=got.ttft_ms,
    )
    _log(turn, "complete", saved=saved, done=got if done is not None else None)
    yield TurnDone(message_id=turn.answer.id if saved else None, status=Status.COMPLETE,
                   history_saved=saved, refused=got.refused, replayed=False)


def _elapsed_ms(turn: ChatTurn) -> int:
    return int((time.monotonic() - turn.started) * 1000)
