"""Fixtures for the chat API tests: clients, an SSE helper, sessions, and database faults."""

import pytest

from django.core.cache import cache
from django.test import AsyncClient
from rest_framework.test import APIClient

from chat import services, sse


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle and budget counters never leak between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def aclient():
    return AsyncClient()


async def _stream(aclient, payload: dict, **headers):
    response = await aclient.post(
        "/chat", payload, content_type="application/json",
        headers={"accept": "text/event-stream", **headers},
    )
    if not response.streaming:
        return response, None
    body = b"".join([chunk async for chunk in response.streaming_content])
    return response, sse.parse_events(body)


@pytest.fixture
def ask(aclient):
    """``await ask({...})`` → ``(response, [(event, data), ...])`` over SSE (events None when
    the response is a JSON error)."""

    async def ask(payload: dict, **headers):
        return await _stream(aclient, payload, **headers)

    return ask


@pytest.fixture
def session_token(db):
    """A stored session and its raw token."""
    _, token = services.session_create()
    return token


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def qdrant_down(settings):
    """The search index configured as a Qdrant server on a closed port."""
    from rag import clients

    settings.RAG_QDRANT_URL = f"http://127.0.0.1:{closed_port()}"
    settings.RAG_QDRANT_TIMEOUT = 2.0
    clients.reset_clients()
    yield
    clients.reset_clients()


@pytest.fixture
def llm_answers(llm, qdrant_down):
    """The fake LLM answers every question (retrieval is down, so it answers without
    context whatever the index holds): the LLM path, deterministic."""
    return llm


class DatabaseSwitch:
    """Makes every database access fail as when the server is unreachable: opening or using
    a connection raises ``OperationalError``, in every thread, until ``up()``."""

    def __init__(self):
        self._patch = pytest.MonkeyPatch()

    def down(self):
        from django.db import OperationalError
        from django.db.backends.base.base import BaseDatabaseWrapper

        def unreachable(wrapper, *args, **kwargs):
            raise OperationalError("could not connect to server: Connection refused (test)")

        self._patch.setattr(BaseDatabaseWrapper, "ensure_connection", unreachable)

    def up(self):
        self._patch.undo()


@pytest.fixture
def database():
    switch = DatabaseSwitch()
    yield switch
    switch.up()


def chat_completion_calls(fake) -> int:
    return fake.calls.get("/v1/chat/completions", 0)


@pytest.fixture
def indexed_docs(tmp_path, transactional_db):
    """A small Docusaurus docs tree, ingested into this test's embedded index."""
    from rag.ingestion import ingest_docs

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "install.md").write_text(
        "---\nid: install\ntitle: Installation\n---\n\n# Installation\n\n"
        "## Install the quokka server\n\nInstall the quokka server with `pip install quokka-server`, "
        "then run `quokka serve --port 8080` to start the quokka server.\n",
        encoding="utf-8",
    )
    (docs / "backups.md").write_text(
        "---\nid: backups\ntitle: Backups\n---\n\n# Backups\n\n## Nightly snapshots\n\n"
        "Quokka writes a nightly snapshot of every vault to the snapshot directory; restore a "
        "snapshot with `quokka restore SNAPSHOT`.\n",
        encoding="utf-8",
    )
    ingest_docs(docs_path=docs, base_url="https://docs.example.test")
    return docs
