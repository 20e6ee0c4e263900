"""The chat HTTP API: thin async viewsets (adrf) over ``chat.turns``, services and selectors.

``POST /chat`` streams Server-Sent Events on the event loop when the client sends
``Accept: text/event-stream`` and otherwise answers with one JSON object. Every response
that is not a stream is JSON, errors included (``chat.exceptions.api_exception_handler``),
whatever the client's ``Accept`` header says.
"""

import json
import logging

from asgiref.sync import sync_to_async

from adrf.viewsets import ViewSet
from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from rag.types import collect

from . import selectors, services, sse, tokens, turns
from .conf import chat_settings
from .events import Reply
from .exceptions import InvalidSession, RequestTooLarge, error_body
from .models import ChatSession
from .serializers import (
    ChatReplySerializer,
    ChatRequestSerializer,
    ChatStatusSerializer,
    FeedbackResultSerializer,
    FeedbackSerializer,
    HistoryAppendResultSerializer,
    HistoryAppendSerializer,
    HistoryPageSerializer,
    HistoryQuerySerializer,
    MessageSerializer,
)
from .throttling import ChatIPThrottle, ChatSessionThrottle, HistoryThrottle

logger = logging.getLogger("chat.api")

ErrorSerializer = inline_serializer(
    name="Error",
    fields={"error": inline_serializer(name="ErrorDetail", fields={
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "field": serializers.CharField(allow_null=True),
    })},
)
ERROR_RESPONSES = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; `field` names it."),
    413: OpenApiResponse(ErrorSerializer, description="Message or body too large."),
    415: OpenApiResponse(ErrorSerializer, description="Body is not application/json."),
    429: OpenApiResponse(ErrorSerializer,
                         description="Rate limit or token budget; see Retry-After."),
    503: OpenApiResponse(ErrorSerializer,
                         description="History storage unreachable; see Retry-After."),
}


class JSONOnlyNegotiation(BaseContentNegotiation):
    """Parse by Content-Type as usual, but always render JSON: the event stream is chosen
    by the view itself, and errors are JSON even for ``Accept: text/event-stream``."""

    def select_parser(self, request, parsers):
        return DefaultContentNegotiation().select_parser(request, parsers)

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _nesting_depth(value) -> int:
    """How deeply lists and objects nest in a parsed JSON value (iterative: no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1)
                         for child in (item.values() if isinstance(item, dict) else item))
    return deepest


class BoundedJSONParser(JSONParser):
    """Strict JSON (no NaN/Infinity), at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes (413),
    nested at most ``MAX_DEPTH`` deep (400).

    The standard decoder recurses once per level, so ``[[[[…`` a hundred thousand deep
    raised ``RecursionError`` (an HTML 500 with a long traceback); a value that decodes
    but nests hundreds deep would recurse again in every later step that walks it.
    """

    MAX_DEPTH = 32

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if limit else stream.read()
        if limit and len(raw) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except RecursionError:
            data = None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(str(exc)) from None
        if data is None and raw.strip() != b"null" or _nesting_depth(data) > self.MAX_DEPTH:
            raise ParseError(f"It is nested too deeply (at most {self.MAX_DEPTH} levels).")
        return data


class ChatAPIViewSet(ViewSet):
    content_negotiation_class = JSONOnlyNegotiation
    parser_classes = [BoundedJSONParser]
    throttle_classes = [HistoryThrottle]


def _session_id_from_path(value: str):
    if not tokens.is_well_formed(value):
        raise InvalidSession()
    return value


async def _rag_status() -> dict:
    """``rag.services.rag_status()`` ({"llm", "retrieval"}); never raises."""
    from rag.services import rag_status

    try:
        result = await sync_to_async(rag_status, thread_sensitive=False)()
    except Exception:
        logger.warning("chat.status rag status failed", exc_info=True)
        return {"llm": _llm_status(), "retrieval": {"ok": False}}
    return {"llm": result["llm"], "retrieval": result["retrieval"]}


def _llm_status() -> dict:
    from rag.clients import llm_configured
    from rag.conf import rag_settings

    if llm_configured():
        return {"mode": "llm", "model": rag_settings.CHAT_MODEL}
    return {"mode": "offline", "model": None}


class ChatViewSet(ChatAPIViewSet):
    """``GET /chat`` (status) and ``POST /chat`` (ask a question)."""

    def get_throttles(self):
        if self.action == "create":
            return [ChatIPThrottle(), ChatSessionThrottle()]
        return [HistoryThrottle()]

    @extend_schema(
        operation_id="chat_status",
        summary="Service status for the widget",
        responses={200: ChatStatusSerializer},
    )
    async def status(self, request):
        body = {
            **await _rag_status(),
            "history": {"ok": await sync_to_async(turns.storage_ok)()},
            "limits": {
                "max_message_chars": chat_settings.MAX_MESSAGE_CHARS,
                "max_page_url_chars": chat_settings.MAX_PAGE_URL_CHARS,
                "history_page_size": chat_settings.HISTORY_PAGE_SIZE,
                "history_max_page_size": chat_settings.HISTORY_MAX_PAGE_SIZE,
                "session_idle_days": chat_settings.SESSION_IDLE_DAYS,
            },
        }
        return Response(body)

    @extend_schema(
        operation_id="chat_ask",
        summary="Ask a question; streamed (SSE) or one JSON answer",
        description=(
            "With `Accept: text/event-stream` the answer streams as Server-Sent Events, in "
            "order: `session` {session_id, created}, `message` {user_message_id}, `sources` "
            "{sources, refused}, `notice`* {code, message}, `delta`* {text}, then `done` "
            "{message_id, status, history_saved, refused, replayed} or `error` {code, "
            "message, retryable, retry_after, message_id}. Otherwise one JSON object.\n\n"
            "A retry with the same `client_message_id` replays the stored answer; while the "
            "first request is still answering it gets 409 `answer_in_progress`."
        ),
        request=ChatRequestSerializer,
        responses={
            (200, "application/json"): ChatReplySerializer,
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.STR, description="Server-Sent Events (see description)."
            ),
            404: OpenApiResponse(ErrorSerializer, description="Unknown or expired session."),
            409: OpenApiResponse(ErrorSerializer,
                                 description="client_message_id conflict or in progress."),
            502: OpenApiResponse(ErrorSerializer, description="The LLM failed (JSON mode)."),
            **ERROR_RESPONSES,
        },
        examples=[OpenApiExample("question", value={
            "message": "How do I install it?", "client_message_id": "3f1c2a9e-1",
            "page_url": "https://docs.example.com/docs/intro",
        }, request_only=True)],
    )
    async def create(self, request):
        serializer = ChatRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        turn = await turns.turn_prepare(
            context=data.get("context") or "",
            message=data["message"], session_id=data.get("session_id"),
            client_message_id=data.get("client_message_id"), page_url=data.get("page_url") or "",
            channel=_channel(request),
        )
        events = turns.turn_events(turn)
        if sse.wants_event_stream(request):
            return sse.event_stream_response(events)
        return await _json_reply(events)


def _channel(request) -> str:
    """The widget says so in ``X-Chat-Client: widget``; any other caller is the HTTP API."""
    if request.headers.get("X-Chat-Client", "").strip().lower() == "widget":
        return ChatSession.Channel.WIDGET
    return ChatSession.Channel.API


async def _json_reply(events) -> Response:
    reply = await collect(events, Reply())
    error = reply.error
    if error is not None:
        body = error_body(error.code, error.message)
        body.update(session_id=reply.session_id, message_id=error.message_id,
                    answer=reply.text, retryable=error.retryable)
        response = Response(body, status=503 if error.retryable else 502)
        if error.retryable:
            response["Retry-After"] = str(error.retry_after or 1)
        return response
    return Response({
        "session_id": reply.session_id, "session_created": reply.session_created,
        "user_message_id": reply.user_message_id, "message_id": reply.message_id,
        "status": reply.status, "answer": reply.text, "sources": reply.sources,
        "refused": reply.refused, "notices": [notice.payload() for notice in reply.notices],
        "history_saved": reply.history_saved, "replayed": reply.replayed, "error": None,
    })


class HistoryViewSet(ChatAPIViewSet):
    """``POST /chat/history`` (append) and ``GET /chat/history/{session_id}`` (read)."""

    @extend_schema(
        operation_id="chat_history_append",
        summary="Append client-supplied messages to the caller's session",
        description=(
            "Messages are stored with `origin: client`, in order. A message whose "
            "`client_message_id` is already stored with the same role and text is returned "
            "unchanged (`created: false`); a different text under a used id is a 409 and "
            "nothing from the request is stored. Without `session_id` a session is created."
        ),
        request=HistoryAppendSerializer,
        responses={
            201: HistoryAppendResultSerializer,
            200: HistoryAppendResultSerializer,
            404: OpenApiResponse(ErrorSerializer, description="Unknown or expired session."),
            409: OpenApiResponse(ErrorSerializer, description="client_message_id reused."),
            **ERROR_RESPONSES,
        },
    )
    async def append(self, request):
        serializer = HistoryAppendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = await sync_to_async(_append)(data.get("session_id"), data["messages"])
        any_created = any(result["created"])
        code = status.HTTP_201_CREATED if any_created else status.HTTP_200_OK
        return Response(result, status=code)

    @extend_schema(
        operation_id="chat_history_read",
        summary="A session's messages, oldest first, keyset-paginated",
        parameters=[
            OpenApiParameter("session_id", OpenApiTypes.STR, OpenApiParameter.PATH,
                             description="The session id this server issued."),
            OpenApiParameter("after", OpenApiTypes.INT,
                             description="Messages after this id (the previous page's `next`)."),
            OpenApiParameter("limit", OpenApiTypes.INT, description="Page size (capped)."),
        ],
        responses={
            200: HistoryPageSerializer,
            404: OpenApiResponse(ErrorSerializer, description="Unknown or expired session."),
            **ERROR_RESPONSES,
        },
    )
    async def retrieve(self, request, session_id: str):
        token = _session_id_from_path(session_id)
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        body = await sync_to_async(_history)(token, query.validated_data.get("after"),
                                             query.validated_data.get("limit"))
        return Response(body)


def _append(token: str | None, messages: list[dict]) -> dict:
    created_session = False
    if token:
        session = services.session_for_token(token=token)
    else:
        session, token = services.session_create()
        created_session = True
    results = services.messages_append_client(session=session, messages=messages)
    logger.info("chat.history_append session=%s messages=%d created=%d new_session=%s",
                tokens.log_id(session.token_hash), len(results),
                sum(created for _, created in results), created_session)
    return {
        "session_id": token,
        "session_created": created_session,
        "messages": MessageSerializer([m for m, _ in results], many=True).data,
        "created": [created for _, created in results],
    }


def _history(token: str, after: int | None, limit: int | None) -> dict:
    session = services.session_for_token(token=token)
    messages, next_after = selectors.history_page(session=session, after=after, limit=limit)
    return {
        "session_id": token,
        "messages": MessageSerializer(messages, many=True).data,
        "next": next_after,
    }


class FeedbackViewSet(ChatAPIViewSet):
    """``POST /chat/feedback``: rate one of your own session's answers."""

    @extend_schema(
        operation_id="chat_feedback",
        summary="Rate an answer (thumbs up/down); rating again replaces the rating",
        request=FeedbackSerializer,
        responses={
            200: FeedbackResultSerializer,
            404: OpenApiResponse(ErrorSerializer,
                                 description="Unknown session, or no such answer in it."),
            **ERROR_RESPONSES,
        },
    )
    async def create(self, request):
        serializer = FeedbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        message = await sync_to_async(_rate)(data)
        return Response(FeedbackResultSerializer(message).data)


def _rate(data: dict):
    session = services.session_for_token(token=data["session_id"], touch=True)
    message = services.message_rate(
        session=session, message_id=data["message_id"], rating=data["rating"],
        comment=data.get("comment", ""),
    )
    logger.info("chat.feedback session=%s message=%s rating=%s",
                tokens.log_id(session.token_hash), message.id, message.rating)
    return message



class StartersViewSet(ChatAPIViewSet):
    """``GET /chat/starters``: the widget's starter questions, learned from traffic."""

    throttle_classes = [HistoryThrottle]

    @extend_schema(
        operation_id="chat_starters",
        summary="Most asked questions answered without refusal (last 30 days)",
        responses={200: inline_serializer(name="Starters", fields={
            "starters": serializers.ListField(child=serializers.CharField()),
        })},
    )
    async def starters(self, request):
        starters = await sync_to_async(selectors.popular_questions)()
        response = Response({"starters": starters})
        response["Cache-Control"] = f"public, max-age={chat_settings.STARTERS_CACHE_SECONDS}"
        return response
