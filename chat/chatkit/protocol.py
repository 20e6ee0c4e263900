"""What ``POST /chatkit`` checks before ChatKit's server sees a request.

Everything that can be refused is refused here, with a 4xx JSON error in the API's one
shape (``{"error": {"code", "message", "field"}}``), before any stream starts: a body that
is not a ChatKit request, a missing / malformed / unknown session token, a thread or item
that is not the holder's, an empty or oversized question, an unsupported request type,
rate limits and token budgets. Once a stream has started, failures arrive as ChatKit
``error`` events instead.

Supported: ``threads.create``, ``threads.add_user_message``, ``threads.retry_after_item``
(streamed); ``threads.get_by_id``, ``threads.list``, ``threads.update``, ``threads.delete``,
``items.list``, ``items.feedback`` (JSON). Unsupported streamed requests (client tools,
structured input, widget actions) get an event stream holding one ChatKit ``error`` event,
so ChatKit's UI shows the message; unsupported JSON requests (attachments, transcription,
sync actions) get 400 ``unsupported_request``.
"""

from chatkit.types import (
    ChatKitReq,
    ErrorEvent,
    ItemsFeedbackReq,
    ItemsListReq,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsDeleteReq,
    ThreadsGetByIdReq,
    ThreadsListReq,
    ThreadsRetryAfterItemReq,
    ThreadsUpdateReq,
    is_streaming_req,
)
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from rest_framework import serializers, status
from rest_framework.exceptions import Throttled

from .. import budgets, tokens
from ..exceptions import (
    ChatError,
    InvalidSession,
    MessageNotFound,
    NotAnAnswer,
    SessionNotFound,
)
from ..models import ChatMessage
from ..serializers import MessageTextField, PageUrlField, StrictCharField
from ..throttling import ChatIPThrottle, ChatSessionThrottle, HistoryThrottle
from . import threads
from .store import user_text
from .threads import RequestContext

SESSION_HEADER = "X-Chat-Session"
MAX_FEEDBACK_ITEMS = 100
REQUEST_ADAPTER = TypeAdapter(ChatKitReq)
ANSWERING = (ThreadsCreateReq, ThreadsAddUserMessageReq, ThreadsRetryAfterItemReq)
SUPPORTED = ANSWERING + (ThreadsGetByIdReq, ThreadsListReq, ThreadsUpdateReq, ThreadsDeleteReq,
                         ItemsListReq, ItemsFeedbackReq)


class InvalidRequest(ChatError):
    code = "invalid_request"
    default_message = "The body is not a ChatKit request."


class SessionRequired(ChatError):
    status_code = status.HTTP_401_UNAUTHORIZED
    code = "session_required"
    default_message = (
        f"Send the session token this server issued in the {SESSION_HEADER} header "
        "(threads.create without it starts a new one)."
    )
    field = SESSION_HEADER


class ThreadNotFound(ChatError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "thread_not_found"
    default_message = "No such thread for this session token."
    field = "params.thread_id"


class UnsupportedRequest(ChatError):
    code = "unsupported_request"
    field = "type"


class ChatKitSessionThrottle(ChatSessionThrottle):
    """The per-session answer limit, keyed by the holder's token from the header."""

    def get_cache_key(self, request, view):
        token = request.headers.get(SESSION_HEADER)
        if not tokens.is_well_formed(token):
            return None
        return self.cache_format % {"scope": self.scope, "ident": tokens.hash_token(token)}


def parse(body: bytes):
    """The ChatKit request in ``body``; ``InvalidRequest`` (400) naming the first bad field."""
    try:
        return REQUEST_ADAPTER.validate_json(body)
    except PydanticValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error.get("loc", ()) if not isinstance(part, int)
                         ) or None
        raise InvalidRequest(f"Not a ChatKit request: {field or 'body'}: {error.get('msg')}",
                             field=field) from None


def unsupported_stream_event(request) -> ErrorEvent | None:
    """ChatKit's error event for a streamed request type this server does not offer."""
    if isinstance(request, SUPPORTED) or not is_streaming_req(request):
        return None
    return ErrorEvent(code="custom", allow_retry=False,
                      message=f"{request.type} is not supported by this server.")


class _Fields(serializers.Serializer):
    """Validates values named by their place in the ChatKit request (``params.title``)."""

    def __init__(self, fields: dict, data: dict):
        self._declared = fields
        super().__init__(data=data)

    def get_fields(self):
        return self._declared


def _validate(fields: dict, data: dict) -> dict:
    serializer = _Fields(fields, {key: value for key, value in data.items() if value is not None})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise ChatError("params.limit: Must be at least 1.", field="params.limit",
                        code="invalid_limit")


def _check_input(user_input) -> None:
    if user_input.attachments:
        raise UnsupportedRequest("Attachments are not supported by this server.",
                                 field="params.input.attachments")
    _validate({"params.input.content": MessageTextField(source="content")},
              {"params.input.content": user_text(user_input.content)})


def _throttle(request, throttles) -> None:
    for throttle in throttles:
        if not throttle.allow_request(request, None):
            raise Throttled(wait=throttle.wait())


def _thread(ctx: RequestContext, thread_id: str):
    if not ctx.token:
        raise SessionRequired()
    session = threads.thread_session(ctx, thread_id)
    if session is None:
        raise ThreadNotFound()
    return session


def prepare(request, chatkit_request) -> RequestContext:
    """Authenticate, authorize, validate, rate-limit; allocate a new thread's session.

    Runs in the database thread. Raises ``ChatError`` subclasses and DRF's ``Throttled`` /
    ``ValidationError`` (all mapped to JSON by ``chat.exceptions.api_exception_handler``).
    """
    answering = isinstance(chatkit_request, ANSWERING)
    _throttle(request, [ChatIPThrottle()] if answering else [HistoryThrottle()])
    page_url = _validate(
        {"metadata.page_url": PageUrlField(source="page_url", required=False, allow_blank=True)},
        {"metadata.page_url": chatkit_request.metadata.get("page_url")},
    ).get("page_url")
    ctx = RequestContext(page_url=page_url or "")
    token = request.headers.get(SESSION_HEADER) or None
    if token is not None:
        try:
            ctx.session = threads.holder_for_token(token)
        except InvalidSession:
            raise InvalidSession(f"{SESSION_HEADER} is not a session token issued by this "
                                 "server.", field=SESSION_HEADER) from None
        except SessionNotFound:
            raise SessionNotFound(f"No such session (it may have expired): drop the "
                                  f"{SESSION_HEADER} token and start a new thread without it.",
                                  field=SESSION_HEADER) from None
        ctx.token = token
    if answering:
        _throttle(request, [ChatKitSessionThrottle()])

    match chatkit_request:
        case ThreadsListReq():
            _check_limit(chatkit_request.params.limit)
        case ThreadsCreateReq():
            _check_input(chatkit_request.params.input)
            budgets.budget_check(session_hash=ctx.token_hash)
            threads.thread_allocate(ctx)
        case ThreadsAddUserMessageReq():
            _thread(ctx, chatkit_request.params.thread_id)
            _check_input(chatkit_request.params.input)
            budgets.budget_check(session_hash=ctx.token_hash)
        case ThreadsRetryAfterItemReq():
            session = _thread(ctx, chatkit_request.params.thread_id)
            message = threads.message_in_thread(session, chatkit_request.params.item_id)
            if message is None:
                raise MessageNotFound(field="params.item_id")
            if message.role != ChatMessage.Role.USER:
                raise NotAnAnswer("Only a question (user message) can be retried.",
                                  code="not_a_question", field="params.item_id")
            budgets.budget_check(session_hash=ctx.token_hash)
        case ThreadsUpdateReq():
            _thread(ctx, chatkit_request.params.thread_id)
            _validate({"params.title": StrictCharField(source="title", max_length=200,
                                                       allow_blank=True)},
                      {"params.title": chatkit_request.params.title})
        case ItemsListReq():
            _thread(ctx, chatkit_request.params.thread_id)
            _check_limit(chatkit_request.params.limit)
        case ItemsFeedbackReq():
            _thread(ctx, chatkit_request.params.thread_id)
            count = len(chatkit_request.params.item_ids)
            if not 1 <= count <= MAX_FEEDBACK_ITEMS:
                raise ChatError(f"params.item_ids: Give 1 to {MAX_FEEDBACK_ITEMS} item ids.",
                                field="params.item_ids", code="invalid_item_ids")
        case ThreadsGetByIdReq() | ThreadsDeleteReq():
            _thread(ctx, chatkit_request.params.thread_id)
        case _ if not is_streaming_req(chatkit_request):
            raise UnsupportedRequest(f"{chatkit_request.type} is not supported by this server.")
    return ctx
