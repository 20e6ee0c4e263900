"""Gap topics in the admin: read-only lists, "fixed in docs", and the export action."""

from django.contrib import admin, messages
from django.http import HttpResponse
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from .export import gap_issues, log_export, render
from .models import GapQuestion, GapTopic
from .rollup import topic_mark_fixed, topic_reopen


class GapQuestionInline(admin.TabularInline):
    model = GapQuestion
    fields = ["asked_at", "reason", "channel", "text", "after_fix"]
    readonly_fields = fields
    ordering = ["-asked_at"]
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(GapTopic)
class GapTopicAdmin(admin.ModelAdmin):
    list_display = ["label", "size", "size_after_fix", "status", "last_asked_at"]
    list_filter = ["status"]
    search_fields = ["label", "questions__text"]
    readonly_fields = ["label", "size", "size_after_fix", "status", "fixed_at", "pages",
                       "created_at", "last_asked_at"]
    fields = readonly_fields
    inlines = [GapQuestionInline]
    actions = ["mark_fixed", "reopen", "export_markdown", "export_json"]
    change_list_template = "admin/insights/gaptopic/change_list.html"

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("nearest pages"))
    def pages(self, topic):
        return format_html_join(
            "", '<div><a href="{}" rel="noreferrer noopener">{}</a></div>',
            ((p.get("url") if str(p.get("url", "")).startswith(("https://", "http://", "/")) else "#",
              p.get("title") or p.get("url")) for p in topic.nearest_pages or [])) or "–"

    @admin.action(description=_("Mark fixed in docs"), permissions=["change"])
    def mark_fixed(self, request, queryset):
        for topic in queryset:
            topic_mark_fixed(topic=topic)
        self.message_user(request, _("Marked fixed; new questions of these topics are counted apart."),
                          messages.SUCCESS)

    @admin.action(description=_("Reopen"), permissions=["change"])
    def reopen(self, request, queryset):
        for topic in queryset:
            topic_reopen(topic=topic)

    def _export(self, request, queryset, fmt: str):
        ids = set(queryset.values_list("pk", flat=True))
        issues = [i for i in gap_issues(include_fixed=True, limit=10_000) if i.topic_id in ids]
        log_export(count=len(issues), fmt=fmt, by=f"admin user {request.user.pk}")
        kind = "application/json" if fmt == "json" else "text/markdown"
        response = HttpResponse(render(issues, fmt), content_type=f"{kind}; charset=utf-8")
        extension = "json" if fmt == "json" else "md"
        response["Content-Disposition"] = f'attachment; filename="docs-gaps.{extension}"'
        return response

    @admin.action(description=_("Export as issues (Markdown)"))
    def export_markdown(self, request, queryset):
        return self._export(request, queryset, "markdown")

    @admin.action(description=_("Export as issues (JSON)"))
    def export_json(self, request, queryset):
        return self._export(request, queryset, "json")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "dashboard_url": reverse("insights-dashboard")}
        return super().changelist_view(request, extra_context)

