"""URLs of the rag app: the manifest push CI uses after `npm run build` (mounted at /api/ingest)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.ingest_push, name="ingest-push"),
]
