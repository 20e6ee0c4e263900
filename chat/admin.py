"""Admin for the docs team: conversations, feedback and the questions the docs failed.

- Chat sessions: when, where (the page it started on), how long, and whether any answer was
  "not in the docs" or got a thumbs-down; the session page shows the whole transcript,
  oldest first, read-only. Deleting a session deletes its messages.
- Chat messages: every message, read-only, searchable. Its "Gap" filter
  (``?gap=any``, linked from the sessions list) lists the questions whose answer was a
  refusal or was rated down, newest first: the list of docs to write.

Visitors' words are never editable here: sessions and messages can be viewed and deleted
(e.g. a question where a visitor pasted a secret; its answer goes with it), never added or
changed.
"""

from urllib.parse import urlsplit

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from . import reports
from .models import ChatMessage, ChatSession


def safe_link_url(url: object) -> str | None:
    """The URL if it is safe to put in an href (http(s) or site-relative), else None.

    Sources of client-supplied messages are not ours: a ``javascript:`` URL must not become
    a clickable link in the admin.
    """
    if not isinstance(url, str) or not url or any(ord(c) <= 0x20 or c == "\x7f" for c in url):
        return None  # browsers strip or skip control characters and spaces: "java\tscript:"
    # Browsers read a backslash as a slash: "/\\evil/" is the scheme-relative "//evil/".
    as_browser = url.replace("\\", "/")
    if as_browser.startswith("/") and not as_browser.startswith("//"):
        return url
    parts = urlsplit(as_browser)
    if (parts.scheme in {"http", "https"} and parts.netloc and "@" not in parts.netloc
            and as_browser.lower().startswith(f"{parts.scheme}://")):
        return url
    return None


def sources_html(sources: object):
    """Sources as a list of links (title — heading), opening in a new tab."""
    items = []
    for source in sources if isinstance(sources, list) else []:
        if not isinstance(source, dict):
            continue
        label = " — ".join(
            str(part) for part in (source.get("title"), source.get("heading")) if part
        ) or str(source.get("path") or source.get("url") or "?")
        number = source.get("n", "")
        url = safe_link_url(source.get("url"))
        if url:
            items.append(
                format_html(
                    '<li>[{}] <a href="{}" target="_blank" rel="noopener noreferrer">{}</a></li>',
                    number,
                    url,
                    label,
                )
            )
        else:
            items.append(format_html("<li>[{}] {}</li>", number, label))
    if not items:
        return "—"
    return format_html(
        '<ul style="margin:0;padding:0;list-style:none">{}</ul>',
        format_html_join("", "{}", ((i,) for i in items)),
    )


def feedback_text(message: ChatMessage) -> str:
    if not message.rating:
        return "—"
    text = "👍 up" if message.rating == ChatMessage.Rating.UP else "👎 down"
    if message.rating_comment:
        text += f": {message.rating_comment}"
    return text


def message_outcome(message: ChatMessage) -> str:
    """Status, plus what else a reader of the transcript needs to know about the message."""
    parts = [message.get_status_display()]
    if message.refused:
        parts.append(str(_("not in the docs")))
    if message.origin == ChatMessage.Origin.CLIENT:
        parts.append(str(_("client-supplied")))
    if message.error:
        parts.append(message.error)
    return " · ".join(parts)


class _FlagFilter(admin.SimpleListFilter):
    """Yes/no filter over a boolean annotation from ``reports.sessions_with_overview``."""

    annotation = ""

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(**{self.annotation: True})
        if self.value() == "no":
            return queryset.filter(**{self.annotation: False})
        return queryset


class ThumbsDownFilter(_FlagFilter):
    title = _("has thumbs-down")
    parameter_name = "thumbs_down"
    annotation = "has_thumbs_down"


class RefusalFilter(_FlagFilter):
    title = _("has 'not in the docs' answer")
    parameter_name = "refusal"
    annotation = "has_refusal"


class TranscriptInline(admin.TabularInline):
    """The session's messages, oldest first, read-only."""

    model = ChatMessage
    verbose_name = _("message")
    verbose_name_plural = _("transcript")
    ordering = ("created_at", "id")
    extra = 0
    can_delete = False
    show_change_link = True
    fields = (
        "created_at",
        "role",
        "text",
        "sources_links",
        "outcome",
        "model",
        "timing",
        "tokens",
        "feedback",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("text"))
    def text(self, message):
        return format_html(
            '<div style="white-space:pre-wrap;max-width:48em">{}</div>', message.content
        )

    @admin.display(description=_("sources"))
    def sources_links(self, message):
        return sources_html(message.sources) if message.role == ChatMessage.Role.ASSISTANT else "—"

    @admin.display(description=_("status"))
    def outcome(self, message):
        return message_outcome(message)

    @admin.display(description=_("latency"))
    def timing(self, message):
        if message.latency_ms is None:
            return "—"
        text = f"{message.latency_ms} ms"
        if message.ttft_ms is not None:
            text += f" (first token {message.ttft_ms} ms)"
        return text

    @admin.display(description=_("tokens (prompt/completion)"))
    def tokens(self, message):
        if message.prompt_tokens is None and message.completion_tokens is None:
            return "—"
        return f"{message.prompt_tokens or 0}/{message.completion_tokens or 0}"

    @admin.display(description=_("feedback"))
    def feedback(self, message):
        return feedback_text(message)


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    list_display = (
        "session",
        "title",
        "created_at",
        "last_active_at",
        "message_count",
        "started_on",
        "has_thumbs_down",
        "has_refusal",
        "channel",
    )
    list_filter = (
        "channel",
        ThumbsDownFilter,
        RefusalFilter,
        ("created_at", admin.DateFieldListFilter),
        ("last_active_at", admin.DateFieldListFilter),
    )
    search_fields = ("^token_hash", "messages__content")
    search_help_text = _(
        "Search the text of the session's messages, or the start of its token hash "
        "(the session id in logs and exports)."
    )
    ordering = ("-last_active_at",)
    list_per_page = 50
    show_full_result_count = False
    fields = (
        "session",
        "token_hash",
        "channel",
        "title",
        "started_on",
        "created_at",
        "last_active_at",
        "message_count",
        "metadata",
    )
    readonly_fields = fields
    inlines = (TranscriptInline,)

    def get_queryset(self, request):
        return reports.sessions_with_overview(super().get_queryset(request))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("session"), ordering="token_hash")
    def session(self, session):
        return session.token_hash[:12]

    @admin.display(description=_("messages"), ordering="message_count")
    def message_count(self, session):
        return session.message_count

    @admin.display(description=_("started on page"), ordering="started_on_url")
    def started_on(self, session):
        url = safe_link_url(session.started_on_url)
        if not url:
            return session.started_on_url or "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>',
            url,
            Truncator(url).chars(60),
        )

    @admin.display(description=_("thumbs-down"), boolean=True, ordering="has_thumbs_down")
    def has_thumbs_down(self, session):
        return session.has_thumbs_down

    @admin.display(description=_("not in the docs"), boolean=True, ordering="has_refusal")
    def has_refusal(self, session):
        return session.has_refusal


class GapFilter(admin.SimpleListFilter):
    title = _("gap (question the docs failed)")
    parameter_name = "gap"

    def lookups(self, request, model_admin):
        return (
            ("any", _("Refused or rated down")),
            ("refused", _("Answered 'not in the docs'")),
            ("down", _("Answer rated down")),
        )

    def queryset(self, request, queryset):
        if self.value() in {"any", "refused", "down"}:
            return queryset.filter(reports.gap_condition(self.value()))
        return queryset


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "role", "excerpt", "answer", "session_link", "page")
    list_filter = (
        GapFilter,
        "role",
        "status",
        "rating",
        "refused",
        "origin",
        "channel",
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("session", "reply")
    search_fields = ("content", "^session__token_hash")
    search_help_text = _("Search message text, or the start of the session's token hash.")
    ordering = ("-created_at", "-id")
    list_per_page = 100
    show_full_result_count = False
    fields = (
        "session_link",
        "role",
        "text",
        "sources_links",
        "status",
        "origin",
        "refused",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "latency_ms",
        "ttft_ms",
        "feedback",
        "rated_at",
        "page_url",
        "client_message_id",
        "error",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("text"))
    def excerpt(self, message):
        return Truncator(" ".join(message.content.split())).chars(140)

    @admin.display(description=_("text"))
    def text(self, message):
        return format_html('<div style="white-space:pre-wrap">{}</div>', message.content)

    @admin.display(description=_("answer"))
    def answer(self, message):
        """For a question, how it was answered: refused, rated, or failed."""
        if message.role != ChatMessage.Role.USER:
            return feedback_text(message) if message.rating else "—"
        reply = getattr(message, "reply", None)
        if reply is None:
            return _("no answer stored")
        parts = []
        if reply.refused:
            parts.append(str(_("not in the docs")))
        if reply.status != ChatMessage.Status.COMPLETE:
            parts.append(reply.get_status_display().lower())
        if reply.rating:
            parts.append(feedback_text(reply))
        return "; ".join(parts) or _("answered")

    @admin.display(description=_("session"), ordering="session__last_active_at")
    def session_link(self, message):
        url = reverse("admin:chat_chatsession_change", args=[message.session_id])
        return format_html('<a href="{}">{}</a>', url, message.session.token_hash[:12])

    @admin.display(description=_("page"))
    def page(self, message):
        return Truncator(message.page_url).chars(60) if message.page_url else "—"

    @admin.display(description=_("sources"))
    def sources_links(self, message):
        return sources_html(message.sources)

    @admin.display(description=_("feedback"))
    def feedback(self, message):
        return feedback_text(message)
