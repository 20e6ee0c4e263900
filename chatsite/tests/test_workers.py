"""Several worker processes on the embedded index: every answer comes with sources.

The production shapes from docs/operations.md: ``uvicorn --workers N`` and gunicorn with
uvicorn workers, N = 2 and 4, on the embedded (Qdrant Edge) index. Before generations were
written without a write-ahead log, the first worker held the engine's lock and the others
answered without sources (HTTP 200). Also checked: re-indexing while they serve, which must
switch every worker to the new generation without a single source-less answer.
"""

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from testing.servers import REPO, SAMPLE_DOCS, AppServer, http_json, stream_chat

pytestmark = pytest.mark.slow

QUESTIONS = [
    "How do I install the quokka server?",
    "How do I restore a snapshot?",
    "Which port does quokka serve on?",
    "Where are the nightly snapshots written?",
]
UPGRADE_PAGE = ("---\nid: upgrade\ntitle: Upgrading\n---\n\n# Upgrading\n\n## Upgrade the quokka server\n\n"
                "Upgrade the quokka server with `quokka upgrade --to {version}`; it keeps every vault.\n")


class GunicornServer(AppServer):
    """The same server under ``gunicorn -k uvicorn.workers.UvicornWorker -w N``."""

    def start(self) -> "GunicornServer":
        args = [sys.executable, "-m", "gunicorn", "chatsite.asgi:application",
                "-k", "uvicorn.workers.UvicornWorker", "-w", str(self.workers),
                "-b", f"127.0.0.1:{self.port}", "--graceful-timeout", "5"]
        self._log_file = open(self.log, "ab")
        self.proc = subprocess.Popen(args, cwd=REPO, env=self.env, stdout=self._log_file,
                                     stderr=subprocess.STDOUT)
        self._wait_ready(timeout=60)
        http_json(self.base, "GET", "/chat", timeout=30)
        return self


@pytest.fixture
def serve(server_db, tmp_path):  # noqa: F811 - the fixture imported above
    servers = []

    def start(command: str, workers: int) -> AppServer:
        cls = GunicornServer if command == "gunicorn" else AppServer
        server = cls(tmp_path / "server", database=server_db, workers=workers, indexed=True)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


def worker_pids(server: AppServer) -> list[int]:
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def pids_with_index_open(server: AppServer) -> dict[int, set[str]]:
    """Worker pid → the index generations it has memory-mapped."""
    found = {}
    for pid in worker_pids(server):
        try:
            maps = Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            continue
        generations = {part for line in maps.splitlines() if "/edge/docs/gen-" in line
                       for part in line.split("/") if part.startswith("gen-")}
        if generations:
            found[pid] = generations
    return found


def ask(server: AppServer, question: str) -> list[dict]:
    result = stream_chat(server.base, {"message": question}, timeout=60)
    assert result.status == 200, result.body
    sources = result.first("sources")
    return sources["sources"] if sources else []


def ask_many(server: AppServer, questions: list[str], *, parallel: int) -> list[tuple[str, list[dict]]]:
    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(lambda q: (q, ask(server, q)), questions))


@pytest.mark.parametrize("workers", [2, 4])
@pytest.mark.parametrize("command", ["uvicorn", "gunicorn"])
def test_every_worker_answers_from_the_embedded_index(serve, command, workers):
    server = serve(command, workers)
    assert len(worker_pids(server)) >= workers

    answers = ask_many(server, QUESTIONS * 6 * workers, parallel=2 * workers)

    without = [q for q, sources in answers if not sources]
    assert not without, f"{len(without)} of {len(answers)} answers had no sources"
    assert len(pids_with_index_open(server)) >= 2, "more than one worker served from the index"
    assert "answer degraded" not in server.log_text()
    assert "locked by another process" not in server.log_text()


@pytest.mark.parametrize("workers", [2, 4])
@pytest.mark.parametrize("command", ["uvicorn", "gunicorn"])
def test_reindexing_while_serving_switches_every_worker_without_a_sourceless_answer(
        serve, tmp_path, command, workers):
    server = serve(command, workers)
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in SAMPLE_DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")

    answers: list[tuple[str, list[dict]]] = []
    stop = threading.Event()

    def keep_asking():
        n = 0
        while not stop.is_set():
            question = QUESTIONS[n % len(QUESTIONS)]
            answers.append((question, ask(server, question)))
            n += 1

    askers = [threading.Thread(target=keep_asking) for _ in range(workers)]
    for thread in askers:
        thread.start()
    try:
        for version in range(1, 4):
            (docs / "upgrade.md").write_text(UPGRADE_PAGE.format(version=f"{version}.0"), encoding="utf-8")
            result = server.manage("ingest_docs", str(docs), "--base-url", "https://docs.example.test")
            assert result.returncode == 0, result.stderr
            time.sleep(0.5)
    finally:
        stop.set()
        for thread in askers:
            thread.join(60)

    assert len(answers) >= 4 * workers
    without = [q for q, sources in answers if not sources]
    assert not without, f"{len(without)} of {len(answers)} answers during re-indexing had no sources"

    # After the last switch every worker that answers cites the newest page.
    after = ask_many(server, ["How do I upgrade the quokka server?"] * 4 * workers, parallel=2 * workers)
    for _, sources in after:
        assert any(s["url"].split("#")[0].endswith("/docs/upgrade") for s in sources), sources
    assert "answer degraded" not in server.log_text()
