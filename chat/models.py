"""Chat history: sessions and their messages (the table the seed called ChatHistory).

A session is identified by a server-issued random token that is never stored: only its
SHA-256 hash is (``ChatSession.token_hash``).
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ChatSession(models.Model):
    class Channel(models.TextChoices):
        """Where a conversation (and each of its questions) came from, for analytics."""

        WIDGET = "widget", _("Widget")
        API = "api", _("HTTP API")
        CHATKIT = "chatkit", _("ChatKit")
        MCP = "mcp", _("MCP (coding agents)")

    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.WIDGET
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    started_on_url = models.CharField(_("started on page"), max_length=2000, blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    last_active_at = models.DateTimeField(_("last active"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("chat session")
        verbose_name_plural = _("chat sessions")
        ordering = ["-last_active_at"]

    def __str__(self) -> str:
        return f"session {self.token_hash[:12]}"


class ChatMessage(models.Model):
    class Role(models.TextChoices):
        USER = "user", _("User")
        ASSISTANT = "assistant", _("Assistant")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        COMPLETE = "complete", _("Complete")
        INTERRUPTED = "interrupted", _("Interrupted")
        FAILED = "failed", _("Failed")

    class Origin(models.TextChoices):
        SERVER = "server", _("Answered by this server")
        CLIENT = "client", _("Supplied by the client")

    class Rating(models.TextChoices):
        UP = "up", _("Thumbs up")
        DOWN = "down", _("Thumbs down")

    session = models.ForeignKey(
        ChatSession, on_delete=models.CASCADE, related_name="messages", verbose_name=_("session")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    content = models.TextField(_("content"), blank=True)
    sources = models.JSONField(_("sources"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.COMPLETE
    )
    origin = models.CharField(
        _("origin"), max_length=16, choices=Origin.choices, default=Origin.SERVER
    )
    client_message_id = models.CharField(
        _("client message id"), max_length=64, null=True, blank=True
    )
    # The user message an assistant message answers; one answer per question at most.
    reply_to = models.OneToOneField(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reply",
        verbose_name=_("reply to"),
    )
    page_url = models.CharField(_("page URL"), max_length=2000, blank=True)
    # The channel a question was asked through (blank on answers and client-supplied rows);
    # a session's questions can arrive through more than one channel.
    channel = models.CharField(
        _("channel"), max_length=16, choices=ChatSession.Channel.choices, blank=True, default=""
    )
    refused = models.BooleanField(_("not covered by the docs"), default=False)
    model = models.CharField(_("model"), max_length=200, blank=True)
    prompt_tokens = models.PositiveIntegerField(_("prompt tokens"), null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(_("completion tokens"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), null=True, blank=True)
    ttft_ms = models.PositiveIntegerField(_("time to first token (ms)"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    rating = models.CharField(
        _("feedback"), max_length=8, choices=Rating.choices, null=True, blank=True
    )
    rating_comment = models.TextField(_("feedback comment"), blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "chat_history"
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["session", "created_at"], name="chat_msg_session_created"),
            models.Index(fields=["session", "id"], name="chat_msg_session_id"),
            models.Index(fields=["status", "created_at"], name="chat_msg_status_created"),
            models.Index(fields=["channel", "created_at"], name="chat_msg_channel_created"),
            # insights.rollup: a day's messages, and answers rated since its last run.
            models.Index(fields=["created_at"], name="chat_msg_created"),
            models.Index(fields=["rated_at"], name="chat_msg_rated"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "client_message_id"],
                condition=Q(client_message_id__isnull=False),
                name="chat_msg_unique_client_message_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} message {self.pk}"
