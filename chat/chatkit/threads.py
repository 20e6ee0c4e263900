"""Who may see which ChatKit thread, and the ids ChatKit sees (plain Django, no ChatKit types).

A client holds one session token (sent as ``X-Chat-Session``) and may own several threads:

- the token's own session is the holder's first thread, so ``GET /chat/history/{token}``
  shows it and a conversation begun in our widget continues in ChatKit (and back);
- each further thread (ChatKit's "new chat") is a session of its own with
  ``channel=chatkit``, linked to the holder by ``metadata["chatkit_owner"]`` (the SHA-256 of
  the holder's token, never the token). Its own token is never issued, so it is reachable
  through ``/chatkit`` (and the admin, exports, stats), not through ``/chat/history``.

Thread ids are ``thr_<session pk>`` and item ids ``msg_<message pk>``: stable, and useless
without the token, because every lookup is restricted to the holder's sessions (another
holder's id reads as "not found"). These functions are synchronous (async callers use
``sync_to_async``).
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from .. import services, tokens
from ..conf import chat_settings
from ..models import ChatMessage, ChatSession

THREAD_PREFIX = "thr_"
ITEM_PREFIX = "msg_"
OWNER_KEY = "chatkit_owner"
# Placeholder ids for items not stored yet (never of the ``msg_<digits>`` form).
NEW_ITEM_PREFIX = "msg_new_"
TITLE_CHARS = 80
# Touch the holder's own session at most this often, so reads do not write on every request.
TOUCH_INTERVAL = dt.timedelta(minutes=10)

_THREAD_RE = re.compile(r"^thr_([1-9][0-9]{0,18})$")
_ITEM_RE = re.compile(r"^msg_([1-9][0-9]{0,18})$")


@dataclass
class RequestContext:
    """The per-request context handed to the ChatKit server and store."""

    token: str | None = None
    session: ChatSession | None = None  # the holder's own session
    page_url: str = ""
    # The session a ``threads.create`` request will become (allocated by the view).
    new_thread: ChatSession | None = None
    # A token issued by this request (``threads.create`` without one); sent back in the
    # ``X-Chat-Session`` response header.
    issued_token: str | None = None

    @property
    def token_hash(self) -> str | None:
        return tokens.hash_token(self.token) if self.token else None


def thread_id(pk: int) -> str:
    return f"{THREAD_PREFIX}{pk}"


def item_id(pk: int) -> str:
    return f"{ITEM_PREFIX}{pk}"


def parse_thread_id(value: object) -> int | None:
    match = _THREAD_RE.match(value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


def parse_item_id(value: object) -> int | None:
    match = _ITEM_RE.match(value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


def holder_for_token(token: str) -> ChatSession:
    """The holder's own live session; ``InvalidSession`` (400) / ``SessionNotFound`` (404)."""
    session = services.session_for_token(token=token)
    if session.last_active_at < timezone.now() - TOUCH_INTERVAL:
        services.session_touch(session=session)
    return session


def visible_sessions(ctx: RequestContext) -> QuerySet:
    """The live sessions the holder may read as threads (none without a token)."""
    if not ctx.token or ctx.session is None:
        return ChatSession.objects.none()
    return ChatSession.objects.filter(
        Q(pk=ctx.session.pk) | Q(**{f"metadata__{OWNER_KEY}": ctx.token_hash}),
        last_active_at__gte=services.session_idle_cutoff(),
    )


def thread_session(ctx: RequestContext, value: object) -> ChatSession | None:
    """The holder's thread named ``value``, or None (unknown, malformed or not theirs)."""
    pk = parse_thread_id(value)
    if pk is None:
        return None
    if ctx.new_thread is not None and ctx.new_thread.pk == pk:
        return ctx.new_thread
    return visible_sessions(ctx).filter(pk=pk).first()


def thread_allocate(ctx: RequestContext) -> ChatSession:
    """The session a new thread becomes (see the module docstring).

    Without a token a new holder session is created and its token issued
    (``ctx.issued_token``); a holder whose own session has no messages yet gets that one;
    otherwise a new ``chatkit`` session owned by the holder.
    """
    if not ctx.token:
        session, token = services.session_create(
            channel=ChatSession.Channel.CHATKIT, page_url=ctx.page_url
        )
        ctx.token, ctx.session, ctx.issued_token = token, session, token
    elif not ChatMessage.objects.filter(session=ctx.session).exists():
        session = ctx.session
    else:
        session, _ = services.session_create(
            channel=ChatSession.Channel.CHATKIT, page_url=ctx.page_url,
            metadata={OWNER_KEY: ctx.token_hash},
        )
    ctx.new_thread = session
    return session


def thread_title_from(text: str) -> str:
    """A thread title from its first question (a label, so shortening it loses nothing)."""
    flat = " ".join(text.split())
    if len(flat) <= TITLE_CHARS:
        return flat
    cut = flat.rfind(" ", 0, TITLE_CHARS - 1)
    return flat[: cut if cut > 0 else TITLE_CHARS - 1] + "…"


def thread_rename(*, session: ChatSession, title: str) -> None:
    session.title = title
    session.save(update_fields=["title"])


def thread_delete(ctx: RequestContext, session: ChatSession) -> None:
    """Delete a thread. The holder's own session keeps its row (its token stays valid for the
    holder's other threads) and loses its messages; an owned thread is deleted whole."""
    if ctx.session is not None and session.pk == ctx.session.pk:
        ChatMessage.objects.filter(session=session).delete()
        session.title = ""
        session.save(update_fields=["title"])
    else:
        session.delete()


def _keyset(queryset: QuerySet, *, after_pk: int | None, limit: int, order: str):
    descending = order == "desc"
    if after_pk is not None:
        queryset = queryset.filter(**{"pk__lt" if descending else "pk__gt": after_pk})
    rows = list(queryset.order_by("-pk" if descending else "pk")[: limit + 1])
    return rows[:limit], len(rows) > limit


def page_limit(limit: int | None, default: int) -> int:
    return max(1, min(limit or default, chat_settings.HISTORY_MAX_PAGE_SIZE))


def threads_page(ctx: RequestContext, *, after: str | None, limit: int,
                 order: str) -> tuple[list[ChatSession], bool]:
    """The holder's threads that have messages, keyset-paginated on the thread id."""
    has_messages = Exists(ChatMessage.objects.filter(session=OuterRef("pk")))
    queryset = visible_sessions(ctx).filter(has_messages)
    return _keyset(queryset, after_pk=parse_thread_id(after), limit=limit, order=order)


def listed_messages(session: ChatSession) -> QuerySet:
    """The thread's items: every message except answers that have produced nothing yet
    (in progress elsewhere, or failed before their first word)."""
    return ChatMessage.objects.filter(session=session).exclude(
        Q(role=ChatMessage.Role.ASSISTANT, content="") & ~Q(status=ChatMessage.Status.COMPLETE)
    )


def items_page(session: ChatSession, *, after: str | None, limit: int,
               order: str) -> tuple[list[ChatMessage], bool]:
    return _keyset(listed_messages(session), after_pk=parse_item_id(after), limit=limit,
                   order=order)


def message_in_thread(session: ChatSession, value: object) -> ChatMessage | None:
    pk = parse_item_id(value)
    if pk is None:
        return None
    return ChatMessage.objects.filter(session=session, pk=pk).first()
