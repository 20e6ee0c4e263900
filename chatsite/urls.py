"""Project URLs: the chat API, health checks, the OpenAPI schema, admin and the demo page."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from agentdocs import views as agentdocs_views
from chat import health
from insights import views as insights_views

from .docs_viewer import demo_page, docs_page

urlpatterns = [
    path("", demo_page, name="demo"),  # only with DEMO_DOCS_DIR or DEBUG (docs_viewer)
    path("", include("chat.urls")),
    path("chatkit", include("chat.chatkit.urls")),
    path("api/ingest", include("rag.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("admin/insights/dashboard/", admin.site.admin_view(insights_views.dashboard),
         name="insights-dashboard"),
    path("admin/", admin.site.urls),
    path("llms.txt", agentdocs_views.llms_txt_view, name="llms-txt"),
    path("llms-full.txt", agentdocs_views.llms_full_txt_view, name="llms-full-txt"),
    path("docs/", docs_page, name="docs-index"),
    path("docs/<path:path>", docs_page, name="docs-page"),
]

# Unrouted paths under /chat answer with the API's JSON 404 (chat.exceptions).
handler404 = "chat.exceptions.json_not_found"
