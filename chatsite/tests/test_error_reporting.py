"""The DEBUG 500 page never shows connection URLs, passwords or keys."""

import secrets
import sys

import pytest

from django.test import RequestFactory
from django.views import debug

PASSWORD = "pw-" + secrets.token_hex(8)  # built at run time: the page shows source lines


def _raise_with_secrets_in_locals():
    dsn = f"postgres://app:{PASSWORD}@db.internal:5432/chat"  # noqa: F841 (shown on the page)
    conn_params = {"host": "db.internal", "password": PASSWORD}  # noqa: F841
    libpq = f"host=db.internal user=app password={PASSWORD}"  # noqa: F841
    raise RuntimeError("boom")


@pytest.fixture
def debug_page(settings):
    settings.DEBUG = True
    settings.DATABASE_URL = f"postgres://app:{PASSWORD}@db.internal:5432/chat"
    settings.DATABASE_DIRECT_URL = f"postgres://app:{PASSWORD}@db-direct.internal/chat"
    settings.REDIS_URL = f"redis://:{PASSWORD}@cache.internal:6379/0"
    settings.RAG_QDRANT_URL = f"https://qdrant.internal:6333/?api_key={PASSWORD}"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"redis://u:{PASSWORD}@cache.internal/1"}}
    debug.get_default_exception_reporter_filter.cache_clear()
    request = RequestFactory().get("/chat/boom", HTTP_X_DATABASE_URL=settings.DATABASE_URL)
    try:
        _raise_with_secrets_in_locals()
    except RuntimeError:
        html = debug.technical_500_response(request, *sys.exc_info()).content.decode()
    yield html
    debug.get_default_exception_reporter_filter.cache_clear()


def test_debug_500_page_shows_no_connection_password(debug_page):
    assert "RuntimeError" in debug_page  # it is the real page
    assert "_raise_with_secrets_in_locals" in debug_page
    assert PASSWORD not in debug_page


def test_debug_500_page_still_names_the_hidden_settings(debug_page):
    assert "DATABASE_URL" in debug_page
    assert "REDIS_URL" in debug_page
    assert "db.internal" in debug_page  # the frame's host stays visible for debugging
