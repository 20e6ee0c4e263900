"""Fixtures shared by every app's tests.

- ``fake_openai``: a real OpenAI-compatible HTTP server on 127.0.0.1 (see
  rag/tests/openai_server.py), reset before each test that uses it.
- ``llm``: settings pointing the real ``openai`` client at that server.
- Every test gets its own empty search index directory, so tests never share index state.
"""

import pytest

from rag.tests.openai_server import FakeOpenAI


@pytest.fixture(scope="session")
def _fake_openai_server():
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(_fake_openai_server):
    server = _fake_openai_server
    server.reset()
    server.reply = "This is the answer [1]."
    server.ttft = 0.0
    server.tokens_per_second = 0.0
    yield server
    server.reset()


@pytest.fixture
def llm(settings, fake_openai):
    """LLM and embeddings configured against the local fake server."""
    from rag import clients

    settings.RAG_OPENAI_API_KEY = "sk-test-not-a-real-key"
    settings.RAG_OPENAI_BASE_URL = fake_openai.base_url
    settings.RAG_CHAT_MODEL = "fake-model"
    clients.reset_clients()
    yield fake_openai
    clients.reset_clients()


@pytest.fixture(autouse=True)
def isolated_index(settings, tmp_path):
    """Each test gets a fresh, empty embedded index directory."""
    from rag import clients

    settings.RAG_INDEX_DIR = tmp_path / "index"
    clients.reset_clients()
    yield settings.RAG_INDEX_DIR
    clients.reset_clients()
