"""Domain exceptions of the chat app and the one DRF exception handler that maps them.

Every error the API returns has one shape, ``{"error": {"code", "message", "field"}}``, with
a stable machine-readable ``code`` and, for 429 and 503, a ``Retry-After`` header. The domain
exceptions below are raised by services and views; the handler also maps DRF's own
exceptions (validation, parsing, content type, throttling) and an unreachable database
(503) into that shape, so nothing a client sends can produce an HTML error page or a 500.
"""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response

from .conf import chat_settings

logger = logging.getLogger("chat.api")

# Validation error codes answered with 413 rather than 400 (too large, never truncated).
TOO_LARGE_CODES = {"too_long", "too_many"}


class ChatError(Exception):
    """Base class: an error the API reports to the client as JSON."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "bad_request"
    default_message = "The request is not valid."
    field: str | None = None
    retry_after: int | None = None

    def __init__(self, message: str | None = None, *, field: str | None = None,
                 retry_after: int | None = None, code: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)
        if field is not None:
            self.field = field
        if retry_after is not None:
            self.retry_after = retry_after
        if code is not None:
            self.code = code


class InvalidSession(ChatError):
    code = "invalid_session"
    default_message = "session_id is not a session id issued by this server."
    field = "session_id"


class SessionNotFound(ChatError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "session_not_found"
    default_message = "No such session (it may have expired). Start a new conversation."
    field = "session_id"


class MessageNotFound(ChatError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "message_not_found"
    default_message = "No such message in this session."
    field = "message_id"


class NotAnAnswer(ChatError):
    code = "not_an_answer"
    default_message = "Only answers (assistant messages) can be rated."
    field = "message_id"


class IdempotencyConflict(ChatError):
    status_code = status.HTTP_409_CONFLICT
    code = "client_message_id_conflict"
    default_message = (
        "This client_message_id was already used for a different message in this session."
    )
    field = "client_message_id"


class AnswerInProgress(ChatError):
    status_code = status.HTTP_409_CONFLICT
    code = "answer_in_progress"
    default_message = (
        "This message is being answered by another request; retry shortly to get the answer."
    )
    field = "client_message_id"
    retry_after = 1


class BudgetExceeded(ChatError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "token_budget_exceeded"
    default_message = "The daily answer budget is used up. Try again tomorrow."


class StorageUnavailable(ChatError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "storage_unavailable"
    default_message = "Chat history storage is unreachable right now. Retry shortly."


class RequestTooLarge(drf_exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def error_body(code: str, message: str, field: str | None = None) -> dict:
    # Messages may quote the client's input (e.g. "'\ud800' is not a valid choice"); a lone
    # surrogate in it cannot be encoded as UTF-8 and would turn a 400 into a 500.
    message = str(message).encode("utf-8", "backslashreplace").decode("utf-8")
    return {"error": {"code": code, "message": message, "field": field}}


def json_not_found(request, exception=None):
    """``handler404``: a path under ``/chat`` that matches no route (e.g. an empty or
    slash-holding session id) gets the API's JSON 404; other paths Django's page."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/chat"):
        return JsonResponse(error_body("not_found", "Not found."), status=status.HTTP_404_NOT_FOUND)
    return page_not_found(request, exception)


def _first_validation_error(detail, prefix: str = "") -> tuple[str | None, str, str]:
    """(field path, message, code) of the first error in a DRF ValidationError detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):
                path = f"{prefix}[{key}]"
            else:
                name = "" if key == "non_field_errors" else str(key)
                path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            return _first_validation_error(value, path)
    if isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)) and value:
                return _first_validation_error(value, f"{prefix}[{index}]")
            if not isinstance(value, (dict, list)):
                return _first_validation_error(value, prefix)
    code = getattr(detail, "code", None) or "invalid"
    return (prefix or None, str(detail), code)


def _retry_after_response(body: dict, status_code: int, retry_after: int | None) -> Response:
    response = Response(body, status=status_code)
    if retry_after is not None:
        response["Retry-After"] = str(max(1, int(retry_after)))
    return response


def api_exception_handler(exc, context):
    """Map any exception raised in a chat view to the one JSON error shape."""
    if isinstance(exc, ChatError):
        return _retry_after_response(
            error_body(exc.code, exc.message, exc.field), exc.status_code, exc.retry_after
        )
    if isinstance(exc, drf_exceptions.ValidationError):
        field, message, code = _first_validation_error(exc.detail)
        status_code = (
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE if code in TOO_LARGE_CODES
            else status.HTTP_400_BAD_REQUEST
        )
        if field:
            message = f"{field}: {message}"
        return Response(error_body(code, message, field), status=status_code)
    if isinstance(exc, drf_exceptions.ParseError):
        return Response(error_body("invalid_json", f"The body is not valid JSON. {exc.detail}"),
                        status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, drf_exceptions.UnsupportedMediaType):
        return Response(
            error_body("unsupported_media_type",
                       "Send the request body as JSON with Content-Type: application/json."),
            status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        )
    if isinstance(exc, drf_exceptions.Throttled):
        # DRF already rounds the wait up to whole seconds; adding one would overstate it.
        wait = max(1, int(exc.wait)) if exc.wait is not None else 1
        return _retry_after_response(
            error_body("rate_limited", f"Too many requests. Retry in {wait} seconds."),
            status.HTTP_429_TOO_MANY_REQUESTS, wait,
        )
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("request_too_large", "The request body is too large."),
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Http404):
        return Response(error_body("not_found", "Not found."), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        return Response(error_body("permission_denied", "Permission denied."),
                        status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, drf_exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
        return Response(error_body(code, exc.detail if isinstance(exc.detail, str) else
                                   exc.default_detail), status=exc.status_code)
    if isinstance(exc, (OperationalError, InterfaceError)) or type(exc) is DatabaseError:
        logger.warning("chat.storage_unavailable error=%s", type(exc).__name__)
        return _retry_after_response(
            error_body(StorageUnavailable.code, StorageUnavailable.default_message),
            status.HTTP_503_SERVICE_UNAVAILABLE, chat_settings.RETRY_AFTER_SECONDS,
        )
    return None
