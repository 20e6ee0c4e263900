"""Admin for the docs index: what is indexed, and what a question would retrieve.

- Indexed pages: read-only (``ingest_docs`` owns these rows): path, URL, chunks, content hash,
  when last indexed.
- Test retrieval (``admin/rag/indexedpage/test-retrieval/``, linked from the list): type a
  question (and, optionally, the page it is asked on and the question before it), see what
  the chat would retrieve and decide. It calls the chat's own service,
  ``rag.services.retrieve``: the same rewriting of follow-ups, page scope (docs version and
  locale, with the fallback version), sparse-only relevance hits and covered/refused
  decision, so the admin and the chat cannot disagree.
"""

from asgiref.sync import async_to_sync

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from .models import IndexedPage
from .services import SEARCH_K, retrieve

SNIPPET_CHARS = 300


class TestRetrievalForm(forms.Form):
    question = forms.CharField(
        label=_("Question"),
        max_length=4000,
        strip=True,
        widget=forms.TextInput(attrs={"size": 80, "autofocus": True}),
    )
    page_url = forms.CharField(
        label=_("Asked on page"),
        max_length=2000,
        required=False,
        widget=forms.TextInput(attrs={"size": 80}),
        help_text=_("Optional: the docs page URL the question is asked on; its version and "
                    "locale scope the search, as in the chat."),
    )
    previous_question = forms.CharField(
        label=_("Previous question"),
        max_length=4000,
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"size": 80}),
        help_text=_("Optional: the question asked before, to test how a follow-up is rewritten."),
    )
    k = forms.IntegerField(label=_("Results"), min_value=1, max_value=50, initial=SEARCH_K,
                           required=False, help_text=_("Empty: %(k)s, as the chat.") % {"k": SEARCH_K})
    collection = forms.CharField(
        label=_("Collection"),
        max_length=100,
        required=False,
        help_text=_("Empty: the configured collection."),
    )


def test_retrieval(*, question: str, k: int | None = None, collection: str | None = None,
                   page_url: str | None = None, previous_question: str | None = None) -> dict:
    """What the chat's retrieval (``rag.services.retrieve``) gives for one question.

    ``failed`` is true when the index could not be searched (the chat then answers without
    the docs); the page then shows that instead of hits.
    """
    history = [{"role": "user", "content": previous_question}] if previous_question else []
    result = async_to_sync(retrieve)(question=question, history=history, page_url=page_url or None,
                                     collection=collection or None, k=k or SEARCH_K)
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
        "query": result.query,
        "rewrite": result.rewrite,
        "scope": result.scope,
        "scope_notice": result.scope_notice,
        "elapsed_ms": result.retrieval_ms,
        "decision": result.decision,
        "failed": result.failed,
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
            outcome = test_retrieval(**form.cleaned_data)
            if outcome["failed"]:
                outcome, error = None, _("the chat would answer without the docs (see the server log).")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Test retrieval"),
            "opts": self.opts,
            "form": form,
            "outcome": outcome,
            "error": error,
        }
        return TemplateResponse(request, "admin/rag/test_retrieval.html", context)
