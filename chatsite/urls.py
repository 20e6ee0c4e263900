"""Project URLs: the chat API, health checks, the OpenAPI schema, admin and the demo page."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from chat import health

from .docs_viewer import demo_page, docs_page

urlpatterns = [
    path("", demo_page, name="demo"),  # only with DEMO_DOCS_DIR or DEBUG (docs_viewer)
    path("", include("chat.urls")),
    path("chatkit", include("chat.chatkit.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("admin/", admin.site.urls),
    path("docs/", docs_page, name="docs-index"),
    path("docs/<path:path>", docs_page, name="docs-page"),
]

# Unrouted paths under /chat answer with the API's JSON 404 (chat.exceptions).
handler404 = "chat.exceptions.json_not_found"
