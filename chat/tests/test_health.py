"""GET /healthz (liveness) and GET /readyz (database and search index readiness)."""

from pathlib import Path

import pytest

from django.core.management import call_command
from django.db import connections

from chat.tests.conftest import closed_port

DOC = """---
id: install
title: Install
---

# Install

Run the installer and answer the questions about proxies and ports.
"""


@pytest.fixture
def ingested(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "install.md").write_text(DOC, encoding="utf-8")
    call_command("ingest_docs", str(docs), "--base-url", "https://docs.example.test", verbosity=0)


@pytest.fixture
def database_unreachable(transactional_db, monkeypatch):
    """The default database pointed at a server that is not there.

    PostgreSQL: a closed port on 127.0.0.1 (connection refused). SQLite: a file in a
    directory that does not exist (unable to open). The live connection is set aside, not
    closed, and put back afterwards, so the test database survives (SQLite's in-memory test
    database lives as long as that connection).
    """
    wrapper = connections["default"]
    monkeypatch.setattr(wrapper, "connection", None)
    if wrapper.vendor == "postgresql":
        monkeypatch.setitem(wrapper.settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(wrapper.settings_dict, "PORT", str(closed_port()))
        # A psycopg pool would hand out connections opened to the real server.
        options = {k: v for k, v in wrapper.settings_dict.get("OPTIONS", {}).items() if k != "pool"}
        monkeypatch.setitem(wrapper.settings_dict, "OPTIONS", options)
    else:
        missing = Path("/nonexistent-readyz-test") / "db.sqlite3"
        monkeypatch.setitem(wrapper.settings_dict, "NAME", str(missing))
    yield
    monkeypatch.undo()


def test_healthz_is_ok_without_touching_the_database(client):
    # No database fixture: pytest-django fails any query, so this also proves none is made.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ok_with_database_and_search_index_latency(client, ingested):
    response = client.get("/readyz")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "search_index"}
    for check in body["checks"].values():
        assert check["ok"] is True
        assert isinstance(check["latency_ms"], float) and check["latency_ms"] >= 0
    assert "failed" not in body
    assert not response.has_header("Retry-After")


@pytest.mark.django_db
def test_readyz_is_503_naming_the_search_index_when_it_is_unreachable(client, qdrant_down):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["search_index"]
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["search_index"]["ok"] is False


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(
    client, database_unreachable, qdrant_down, settings
):
    settings.CHAT_RETRY_AFTER_SECONDS = 7

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response["Retry-After"] == "7"
    body = response.json()
    assert "database" in body["failed"]
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["error"].startswith("unavailable (")


def test_readyz_does_not_reveal_connection_details(client, database_unreachable, qdrant_down):
    text = client.get("/readyz").content.decode()

    assert "127.0.0.1" not in text
    assert "nonexistent-readyz-test" not in text


@pytest.mark.django_db
def test_database_is_reachable_again_after_the_outage_test(client):
    from chat.models import ChatSession

    assert ChatSession.objects.count() == 0


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_plain_http_even_when_https_is_enforced(client, settings, path, db):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get(path).status_code in {200, 503}
    assert client.get("/admin/").status_code == 301


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_accept_only_get(client, path):
    assert client.post(path).status_code == 405
