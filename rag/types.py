"""The values that pass between the stages of an answer, and the events an answer streams.

Stages: ``rag.retrieval.search`` finds ``Hit``s in a ``Scope`` (docs version and locale);
``rag.services.retrieve`` turns them into a ``Retrieval`` (hits, relevance decision, scope);
``rag.services.answer_stream`` numbers them as ``Source``s and streams the answer as events:
``Sources``, ``Notice``\\*, ``Delta``\\*, ``Done``. The chat layer adds its own events
(``chat.events``: the session, the stored question, the stored answer's ``done`` and
``error``) to the same stream.

Each event is a small frozen dataclass with a ``name`` (the SSE event name) and a
``payload()`` (its wire JSON), and knows how it adds to a whole answer (``fold``).
``collect(events, into)`` folds a stream into one ``Answer`` (or a subclass of it with more
fields, like ``chat.events.Reply``): every channel that needs a whole answer (the JSON reply,
``rag.services.answer``, the ChatKit server, the MCP ``ask`` tool, ``rag_eval``) calls it, so
a new field of an event is one edit in its class and one in the answer it folds into.

This module imports nothing from the project: every layer may import it.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, ClassVar, TypedDict, TypeVar

if TYPE_CHECKING:
    from .relevance import Decision

# --- values between stages ------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The docs version and locale a search is restricted to (None: any)."""

    version: str | None = None
    locale: str | None = None


@dataclass
class Hit:
    """One chunk the index returned for a query, with its score."""

    chunk_id: str
    score: float
    path: str  # relative to the docs folder
    url: str  # page URL with #anchor
    title: str
    heading: str
    heading_path: list[str]
    text: str
    version: str
    locale: str
    page_url: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


class Source(TypedDict):
    """A numbered source of an answer, as the client receives and the database stores it."""

    n: int  # the answer cites it as [n]
    title: str
    heading: str
    url: str  # with #anchor
    path: str  # relative to the docs folder
    score: float
    snippet: str


@dataclass
class Retrieval:
    """What the answer is built from (also what rag_eval scores)."""

    query: str
    rewrite: str  # how the query was formed: "none" | "llm" | "offline" | "kept" | "+fused"
    hits: list[Hit] = field(default_factory=list)  # best first (page preference applied)
    decision: Decision | None = None
    failed: bool = False
    retrieval_ms: int = 0
    scope: Scope = field(default_factory=Scope)  # the version/locale searched
    scope_notice: str = ""  # said to the reader when the answer comes from a fallback version

    @property
    def refused(self) -> bool:
        return bool(self.decision and self.decision.refused)


# --- the whole answer ----------------------------------------------------------------------


@dataclass
class Answer:
    """An answer stream collected (``collect``)."""

    text: str = ""
    sources: list[Source] = field(default_factory=list)
    refused: bool = False
    cited: list[int] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    model: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_ms: int | None = None
    retrieval_ms: int = 0
    error: Error | None = None  # the stream ended with an error event


# --- answer events -------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One event of an answer stream; ``name`` is its SSE event name."""

    name: ClassVar[str] = ""

    def payload(self) -> dict:
        """The event's data as sent to the client (SSE ``data:``)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def fold(self, answer: Answer) -> None:
        """Add this event to the whole answer ``collect`` builds."""


@dataclass(frozen=True)
class Sources(Event):
    """First, once: the numbered sources, and whether the docs do not cover the question."""

    name: ClassVar[str] = "sources"
    sources: list[Source]
    refused: bool

    def fold(self, answer: Answer) -> None:
        answer.sources, answer.refused = self.sources, self.refused


@dataclass(frozen=True)
class Notice(Event):
    """Something the reader should know about this answer (``code`` is stable)."""

    name: ClassVar[str] = "notice"
    code: str
    message: str

    def fold(self, answer: Answer) -> None:
        answer.notices.append(self)


@dataclass(frozen=True)
class Delta(Event):
    """The next piece of the answer text (joined, the deltas are the text)."""

    name: ClassVar[str] = "delta"
    text: str

    def payload(self) -> dict:  # the hot path: one per coalesced text
        return {"text": self.text}

    def fold(self, answer: Answer) -> None:
        answer.text += self.text


@dataclass(frozen=True)
class Done(Event):
    """Last, once: how the answer was made."""

    name: ClassVar[str] = "done"
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    ttft_ms: int | None
    retrieval_ms: int
    refused: bool
    cited: list[int]

    def fold(self, answer: Answer) -> None:
        answer.model, answer.cited, answer.refused = self.model, self.cited, self.refused
        answer.prompt_tokens, answer.completion_tokens = self.prompt_tokens, self.completion_tokens
        answer.ttft_ms, answer.retrieval_ms = self.ttft_ms, self.retrieval_ms


@dataclass(frozen=True)
class Error(Event):
    """The answer failed (after the deltas already sent); ends the stream."""

    name: ClassVar[str] = "error"
    code: str
    message: str
    retryable: bool
    retry_after: int | None = None

    def fold(self, answer: Answer) -> None:
        answer.error = self


A = TypeVar("A", bound=Answer)


async def collect(events: AsyncIterable[Event], into: A) -> A:
    """Fold an event stream into ``into`` (an empty ``Answer`` or subclass); returns it.

    ``text`` is the deltas joined; an ``Error`` event (which ends a stream) is kept in
    ``error``, with the text streamed before it.
    """
    async for event in events:
        event.fold(into)
    return into
