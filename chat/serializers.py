"""Input validation and output shapes of the chat API.

Input serializers reject, never repair: an empty or whitespace-only message, one over
``CHAT_MAX_MESSAGE_CHARS`` (code ``too_long``, answered 413), NUL bytes, unpaired UTF-16
surrogates, a ``page_url`` that is not an http(s) URL, a malformed ``session_id`` or
``client_message_id``. Each error names its field (see ``chat.exceptions``).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from rest_framework import serializers

from . import tokens
from .conf import chat_settings
from .models import ChatMessage

CLIENT_MESSAGE_ID_RE = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z"
MAX_APPEND_MESSAGES = 50
MAX_COMMENT_CHARS = 2000


def _check_text(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise serializers.ValidationError("Contains invalid unicode (unpaired surrogates).",
                                          code="invalid_text") from None
    return value


class StrictCharField(serializers.CharField):
    """A CharField that accepts only JSON strings (no numbers or booleans coerced)."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return _check_text(super().to_internal_value(data))


class MessageTextField(StrictCharField):
    """Message text: required, not blank, at most ``CHAT_MAX_MESSAGE_CHARS`` characters."""

    default_error_messages = {
        "blank": "Must not be empty or whitespace only.",
        "too_long": "Is {length} characters; the limit is {limit}. Shorten it (nothing is "
                    "truncated).",
    }

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        limit = chat_settings.MAX_MESSAGE_CHARS
        if len(value) > limit:
            self.fail("too_long", length=len(value), limit=limit)
        return value


class SessionIdField(StrictCharField):
    default_error_messages = {
        "invalid_session": "Is not a session id issued by this server.",
    }

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not tokens.is_well_formed(value):
            self.fail("invalid_session")
        return value


class PageUrlField(StrictCharField):
    default_error_messages = {
        "invalid_url": "Must be an absolute http(s) URL.",
        "max_length": "Is longer than {limit} characters.",
    }
    _validator = URLValidator(schemes=["http", "https"])

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value == "":
            return value
        limit = chat_settings.MAX_PAGE_URL_CHARS
        if len(value) > limit:
            self.fail("max_length", limit=limit)
        try:
            self._validator(value)
        except DjangoValidationError:
            self.fail("invalid_url")
        return value


class SelectionContextField(StrictCharField):
    """Text the reader selected on the page ("Ask about this"); quoted, never obeyed."""

    default_error_messages = {
        "max_length": "Is {length} characters; the limit is {limit}. Select less text.",
    }

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        limit = chat_settings.MAX_CONTEXT_CHARS
        if len(value) > limit:
            self.fail("max_length", length=len(value), limit=limit)
        return value


class ClientMessageIdField(serializers.RegexField):
    default_error_messages = {
        "invalid": "Must be 1-64 characters: letters, digits and . _ : - (e.g. a UUID).",
    }

    def __init__(self, **kwargs):
        super().__init__(CLIENT_MESSAGE_ID_RE, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ChatRequestSerializer(serializers.Serializer):
    message = MessageTextField(help_text="The visitor's question.")
    session_id = SessionIdField(
        required=False, allow_null=True,
        help_text="The id this server issued for the conversation; omit to start one.",
    )
    client_message_id = ClientMessageIdField(
        required=False, allow_null=True,
        help_text="A client-chosen id (e.g. a UUID) that makes retries idempotent.",
    )
    page_url = PageUrlField(
        required=False, allow_null=True, allow_blank=True,
        help_text="The docs page the visitor is on.",
    )
    context = SelectionContextField(
        required=False, allow_null=True, allow_blank=True, trim_whitespace=False,
        help_text="Text the visitor selected on the page and asks about (quoted in the prompt "
                  "as untrusted text; at most CHAT_MAX_CONTEXT_CHARS characters).",
    )


class SourceSerializer(serializers.Serializer):
    n = serializers.IntegerField()
    title = serializers.CharField()
    heading = serializers.CharField(allow_blank=True)
    url = serializers.CharField()
    path = serializers.CharField(allow_blank=True)
    score = serializers.FloatField(required=False)
    snippet = serializers.CharField(allow_blank=True, required=False)


class NoticeSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ChatReplySerializer(serializers.Serializer):
    """The JSON (non-streaming) answer of ``POST /chat``."""

    session_id = serializers.CharField(allow_null=True)
    session_created = serializers.BooleanField()
    user_message_id = serializers.IntegerField(allow_null=True)
    message_id = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=ChatMessage.Status.choices)
    answer = serializers.CharField(allow_blank=True)
    sources = SourceSerializer(many=True)
    refused = serializers.BooleanField()
    notices = NoticeSerializer(many=True)
    history_saved = serializers.BooleanField()
    replayed = serializers.BooleanField()
    error = serializers.DictField(allow_null=True, required=False)


class ChatStatusSerializer(serializers.Serializer):
    llm = serializers.DictField()
    retrieval = serializers.DictField()
    history = serializers.DictField()
    limits = serializers.DictField()


class MessageSerializer(serializers.ModelSerializer):
    reply_to = serializers.IntegerField(source="reply_to_id", allow_null=True, read_only=True)

    class Meta:
        model = ChatMessage
        fields = [
            "id", "role", "content", "sources", "status", "origin", "client_message_id",
            "reply_to", "refused", "rating", "created_at",
        ]
        read_only_fields = fields


class HistoryPageSerializer(serializers.Serializer):
    session_id = serializers.CharField()
    messages = MessageSerializer(many=True)
    next = serializers.IntegerField(
        allow_null=True, help_text="Pass as ?after= for the next page; null on the last page."
    )


class HistoryQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(required=False, min_value=0, max_value=2**63 - 1)
    limit = serializers.IntegerField(required=False, min_value=1)

    def validate_limit(self, value):
        return min(value, chat_settings.HISTORY_MAX_PAGE_SIZE)


class AppendMessageSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ChatMessage.Role.choices)
    content = MessageTextField()
    client_message_id = ClientMessageIdField(required=False, allow_null=True)
    sources = SourceSerializer(many=True, required=False)


class HistoryAppendSerializer(serializers.Serializer):
    session_id = SessionIdField(
        required=False, allow_null=True,
        help_text="The conversation to append to; omit to start a new one.",
    )
    messages = AppendMessageSerializer(many=True, allow_empty=False)

    def validate_messages(self, value):
        if len(value) > MAX_APPEND_MESSAGES:
            raise serializers.ValidationError(
                f"At most {MAX_APPEND_MESSAGES} messages per request.", code="too_many"
            )
        ids = [m.get("client_message_id") for m in value if m.get("client_message_id")]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError(
                "client_message_id values must be unique within a request.", code="duplicate"
            )
        return value


class HistoryAppendResultSerializer(serializers.Serializer):
    session_id = serializers.CharField()
    session_created = serializers.BooleanField()
    messages = MessageSerializer(many=True)
    created = serializers.ListField(child=serializers.BooleanField())


class FeedbackSerializer(serializers.Serializer):
    session_id = SessionIdField()
    message_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    rating = serializers.ChoiceField(choices=ChatMessage.Rating.choices)
    comment = StrictCharField(required=False, allow_blank=True, max_length=MAX_COMMENT_CHARS)


class FeedbackResultSerializer(serializers.Serializer):
    message_id = serializers.IntegerField(source="id")
    rating = serializers.CharField()
    comment = serializers.CharField(source="rating_comment", allow_blank=True)
    rated_at = serializers.DateTimeField()
