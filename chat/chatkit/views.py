"""``POST /chatkit``: ChatKit's server protocol (one endpoint, JSON or Server-Sent Events).

The client authenticates with the session token this server issued, in the
``X-Chat-Session`` header; ``threads.create`` without one starts a new holder and returns
its token in the ``X-Chat-Session`` response header (see ``threads`` for the model and
``protocol`` for what is checked). Errors before a stream starts are JSON in the API's one
shape; without the optional ``openai-chatkit`` package the endpoint answers 501.
"""

import logging
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from .. import tokens
from ..exceptions import api_exception_handler, error_body
from . import chatkit_installed

logger = logging.getLogger("chat.chatkit")

SESSION_HEADER = "X-Chat-Session"
INSTALL_HINT = "pip install -r requirements-chatkit.txt"


def _json_error(code: str, message: str, status: int, field: str | None = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, field), status=status)


def _error_response(exc: Exception) -> JsonResponse | None:
    """The JSON error for ``exc`` (the chat API's mapping), or None if it is unexpected."""
    from chatkit.store import NotFoundError

    if isinstance(exc, NotFoundError):
        return _json_error("not_found", str(exc), 404)
    response = api_exception_handler(exc, {})
    if response is None:
        return None
    json_response = JsonResponse(response.data, status=response.status_code)
    if response.has_header("Retry-After"):
        json_response["Retry-After"] = response["Retry-After"]
    return json_response


def _event_stream(body) -> StreamingHttpResponse:
    response = StreamingHttpResponse(body, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"
    return response


async def _single_event(event) -> AsyncIterator[bytes]:
    yield b"data: " + event.model_dump_json(exclude_none=True).encode() + b"\n\n"


@csrf_exempt
async def chatkit_endpoint(request):
    """One ChatKit request in, a JSON body or an event stream out."""
    if request.method != "POST":
        response = _json_error("method_not_allowed", "Use POST with a ChatKit request.", 405)
        response["Allow"] = "POST"
        return response
    if not chatkit_installed():
        return _json_error(
            "chatkit_not_installed",
            f"ChatKit support is an optional extra that is not installed here: {INSTALL_HINT}",
            501,
        )
    from chatkit.server import StreamingResult

    from . import protocol
    from .server import get_server

    if request.content_type != "application/json":
        return _json_error("unsupported_media_type",
                           "Send the ChatKit request as JSON (Content-Type: application/json).",
                           415)
    try:
        body = request.body
        chatkit_request = protocol.parse(body)
        context = await sync_to_async(protocol.prepare)(request, chatkit_request)
        unsupported = protocol.unsupported_stream_event(chatkit_request)
        if unsupported is not None:
            return _event_stream(_single_event(unsupported))
        result = await get_server().process(body, context)
    except Exception as exc:
        response = _error_response(exc)
        if response is None:
            raise
        return response

    logger.info("chatkit.request type=%s session=%s", chatkit_request.type,
                tokens.log_id(context.token_hash) if context.token_hash else "-")
    if isinstance(result, StreamingResult):
        response = _event_stream(result)
    else:
        response = HttpResponse(result.json, content_type="application/json")
    if context.issued_token:
        response[SESSION_HEADER] = context.issued_token
    return response
