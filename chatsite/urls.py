"""Project URLs: the chat API, health checks, the OpenAPI schema, admin and the demo page."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView

from chat import health

from .docs_viewer import docs_page

urlpatterns = [
    path("", TemplateView.as_view(template_name="demo.html"), name="demo"),
    path("", include("chat.urls")),
    path("chatkit", include("chat.chatkit.urls")),
    path("api/ingest", include("rag.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("admin/", admin.site.urls),
    path("docs/", docs_page, name="docs-index"),
    path("docs/<path:path>", docs_page, name="docs-page"),
]

# Unrouted paths under /chat answer with the API's JSON 404 (chat.exceptions).
handler404 = "chat.exceptions.json_not_found"
