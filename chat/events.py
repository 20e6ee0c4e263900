"""The events a chat turn adds to the answer stream, and the whole reply they collect into.

``chat.turns.turn_events`` yields, in order: ``SessionStarted``, ``QuestionStored``, the
answer's own ``rag.types.Sources`` / ``Notice`` / ``Delta`` events as they come, then
``TurnDone`` (the stored answer) or ``TurnError``. ``rag.types.collect(events, Reply())``
turns that stream into one ``Reply`` (the JSON reply, ChatKit, the MCP ``ask`` tool and
``rag_eval``'s conversations all do); ``payload()`` is each event's SSE data.
"""

from dataclasses import dataclass
from typing import ClassVar

from rag.types import Answer, Error, Event


@dataclass(frozen=True)
class SessionStarted(Event):
    """First, always: the session id to send back next time (None when nothing was stored)."""

    name: ClassVar[str] = "session"
    session_id: str | None
    created: bool

    def fold(self, answer: "Reply") -> None:
        answer.session_id, answer.session_created = self.session_id, self.created


@dataclass(frozen=True)
class QuestionStored(Event):
    """The stored question's id (None when the database was unreachable)."""

    name: ClassVar[str] = "message"
    user_message_id: int | None

    def fold(self, answer: "Reply") -> None:
        answer.user_message_id = self.user_message_id


@dataclass(frozen=True)
class TurnDone(Event):
    """Last on success: the stored answer."""

    name: ClassVar[str] = "done"
    message_id: int | None
    status: str
    history_saved: bool
    refused: bool
    replayed: bool

    def fold(self, answer: "Reply") -> None:
        answer.message_id, answer.status = self.message_id, self.status
        answer.history_saved, answer.refused = self.history_saved, self.refused
        answer.replayed = self.replayed


@dataclass(frozen=True)
class TurnError(Error):
    """Last on failure; ``message_id`` is the stored partial answer's, if it was saved."""

    message_id: int | None = None

    def fold(self, answer: "Reply") -> None:
        answer.error, answer.message_id = self, self.message_id


@dataclass
class Reply(Answer):
    """A chat turn collected: the answer and what was stored."""

    session_id: str | None = None
    session_created: bool = False
    user_message_id: int | None = None
    message_id: int | None = None
    status: str = "complete"
    history_saved: bool = False
    replayed: bool = False
