"""Fixtures shared by every app's tests.

- ``fake_openai``: a real OpenAI-compatible HTTP server on 127.0.0.1 (see
  testing/openai_server.py), reset before each test that uses it.
- ``llm``: settings pointing the real ``openai`` client at that server.
- ``server_db`` / ``start_server``: the project under uvicorn in subprocesses on this test's
  database (testing/servers.py), for the fault, abuse and multi-process tests.
- Every test gets its own empty search index directory, so tests never share index state.
"""

import pytest

from testing.openai_server import FakeOpenAI
from testing.servers import AppServer, ServerDatabase, wait_until


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


@pytest.fixture
def server_db(transactional_db, tmp_path) -> ServerDatabase:
    """The database a subprocess server shares with this test (see ``ServerDatabase``)."""
    return ServerDatabase.for_test(tmp_path)


@pytest.fixture
def start_server(server_db, tmp_path):
    """``start_server(**env)`` → a running ``AppServer`` on this test's database; every
    server is stopped at the end of the test (before the database is flushed)."""
    servers: list[AppServer] = []

    def start(*, database: ServerDatabase | None = None, llm=None, **kwargs) -> AppServer:
        server = AppServer(tmp_path / f"server{len(servers)}", database=database or server_db,
                           llm_base_url=llm.base_url if llm is not None else None, **kwargs)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        if server.proc is not None and server.proc.poll() is not None:
            # It died during the test: its log is the only record of why (shown with the
            # failure as captured teardown output).
            print(f"uvicorn on port {server.port} exited with {server.proc.returncode} during "
                  f"the test; its log ends:\n{server.log_text()[-4000:]}")
        server.stop()
    if server_db.vendor == "postgresql" and not server_db.pooled:
        # Let the backends of the stopped servers exit before the test database is flushed
        # or dropped ("database is being accessed by other users"). Through PgBouncer the
        # backends belong to its pool, not to the servers, and outlive them.
        names = tuple(server.application_name for server in servers)
        if names:
            wait_until(lambda: not server_db.query(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = ANY(%s)", (list(names),)),
                timeout=10)
