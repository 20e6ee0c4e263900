"""Admin for the docs index: what is indexed, and what a question would retrieve.

- Indexed pages: read-only (``ingest_docs`` owns these rows): path, URL, chunks, content hash,
  when last indexed.
- Test retrieval (``admin/rag/indexedpage/test-retrieval/``, linked from the list): type a
  question, see the hits ``rag.retrieval.search`` returns (score, path, URL, heading,
  snippet) and whether the chat would answer from them or say the docs don't cover it.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from .exceptions import RetrievalUnavailable
from .models import IndexedPage

SNIPPET_CHARS = 300


class TestRetrievalForm(forms.Form):
    question = forms.CharField(
        label=_("Question"),
        max_length=4000,
        strip=True,
        widget=forms.TextInput(attrs={"size": 80, "autofocus": True}),
    )
    k = forms.IntegerField(label=_("Results"), min_value=1, max_value=50, initial=5)
    collection = forms.CharField(
        label=_("Collection"),
        max_length=100,
        required=False,
        help_text=_("Empty: the configured collection."),
    )


def test_retrieval(*, question: str, k: int, collection: str | None) -> dict:
    """Run the real search and the chat's covered/refused decision for one question."""
    from . import relevance, retrieval

    result = retrieval.search(query=question, k=k, collection=collection or None)
    decision = relevance.decide(question=question, query=question, hits=result.hits)
    return {
        "hits": [
            {
                "score": hit.score,
                "path": hit.path,
                "url": hit.url,
                "title": hit.title,
                "heading": hit.heading,
                "snippet": Truncator(" ".join((hit.text or "").split())).chars(SNIPPET_CHARS),
            }
            for hit in result.hits
        ],
        "mode": result.mode,
        "elapsed_ms": round(result.elapsed_ms, 1),
        "decision": decision,
    }


@admin.register(IndexedPage)
class IndexedPageAdmin(admin.ModelAdmin):
    list_display = (
        "path",
        "title",
        "page_link",
        "collection",
        "chunk_count",
        "short_hash",
        "last_indexed_at",
    )
    list_filter = ("collection", "version", "locale")
    search_fields = ("path", "title", "url")
    ordering = ("collection", "path")
    list_per_page = 100
    fields = (
        "collection",
        "path",
        "page_link",
        "title",
        "version",
        "locale",
        "chunk_count",
        "content_hash",
        "last_indexed_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Rows mirror the index; remove pages from the docs and re-run ingest_docs instead.
        return False

    @admin.display(description=_("URL"), ordering="url")
    def page_link(self, page):
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', page.url, page.url
        )

    @admin.display(description=_("content hash"), ordering="content_hash")
    def short_hash(self, page):
        return page.content_hash[:12]

    def get_urls(self):
        view = self.admin_site.admin_view(self.test_retrieval_view)
        return [
            path("test-retrieval/", view, name="rag_indexedpage_test_retrieval"),
            *super().get_urls(),
        ]

    def test_retrieval_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = TestRetrievalForm(request.GET if "question" in request.GET else None)
        outcome, error = None, None
        if form.is_valid():
            try:
                outcome = test_retrieval(
                    question=form.cleaned_data["question"],
                    k=form.cleaned_data["k"],
                    collection=form.cleaned_data["collection"],
                )
            except RetrievalUnavailable as exc:
                error = str(exc)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Test retrieval"),
            "opts": self.opts,
            "form": form,
            "outcome": outcome,
            "error": error,
        }
        return TemplateResponse(request, "admin/rag/test_retrieval.html", context)
