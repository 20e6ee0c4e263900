"""Fixtures for the agent endpoints: the Jest corpus ingested once, and the project's ASGI
stack (MCP router + Django) under a real uvicorn on 127.0.0.1 for the SDK's own client."""

import shutil
import socket
import threading
import time

import pytest
import uvicorn

from django.core.cache import cache

from rag.tests.conftest import JEST_DOCS

JEST_BASE_URL = "https://jestjs.io"


@pytest.fixture(scope="session")
def _jest_index_dir(tmp_path_factory, django_db_setup, django_db_blocker):
    """The Jest docs ingested once per test run into an embedded index."""
    if not JEST_DOCS.is_dir():
        pytest.skip(f"the Jest docs corpus is not on this machine ({JEST_DOCS})")
    from django.test import override_settings

    from rag import clients
    from rag.ingestion import ingest_docs

    index_dir = tmp_path_factory.mktemp("jest-index")
    with override_settings(RAG_INDEX_DIR=index_dir), django_db_blocker.unblock():
        clients.reset_clients()
        ingest_docs(docs_path=JEST_DOCS, base_url=JEST_BASE_URL)
        clients.reset_clients()
    return index_dir


@pytest.fixture
def jest_index(settings, isolated_index, _jest_index_dir):
    """This test's index directory holds a copy of the ingested Jest corpus (a test may
    ingest a new generation into it without touching the others)."""
    from rag import clients

    shutil.copytree(_jest_index_dir, isolated_index, dirs_exist_ok=True)
    clients.reset_clients()
    yield isolated_index
    clients.reset_clients()


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


class LiveServer:
    """``chatsite.asgi``'s stack (built fresh, so settings of the test apply) under uvicorn in
    a thread, with the lifespan protocol on as in production."""

    def __init__(self):
        from django.core.asgi import get_asgi_application

        from agentdocs.asgi import AgentRouter
        from chatsite.body_limit import BodySizeLimit

        self.app = AgentRouter(BodySizeLimit(get_asgi_application()))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, lifespan="on", log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    def start(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20)
        self.sock.close()


@pytest.fixture
def live_server_factory(transactional_db):
    servers = []

    def start() -> LiveServer:
        server = LiveServer().start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def live(live_server_factory, jest_index):
    """The project on a real port with the Jest docs indexed."""
    return live_server_factory()
