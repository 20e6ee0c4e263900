"""Real servers, sockets and clients for the fault, abuse and concurrency tests.

- ``AppServer``: the project under uvicorn in a subprocess with production-like settings
  (DEBUG off, explicit CORS allowlist), pointed at a database (``ServerDatabase``), the fake
  LLM of the test process and a closed Qdrant port by default. ``kill()`` is ``SIGKILL``: a
  worker that dies mid-answer.
- ``ServerDatabase``: the database such a server uses. On PostgreSQL it is the test database
  pytest-django created (so PgBouncer runs are covered too); on SQLite a migrated file of
  its own. ``query()`` reads rows with plain SQL, the same way on both.
- ``TCPProxy``: a TCP forwarder on 127.0.0.1 in front of PostgreSQL (or PgBouncer). ``cut()``
  is "the database server stopped" (connections reset, new ones refused), ``restore()`` is
  "it is back" on the same port, ``reset_connections()`` kills live connections only. This is
  how the suite stops "PostgreSQL" without touching the machine's real server, which other
  suites use at the same time.
- ``SilentServer``: a port that accepts connections and never answers (a hung dependency);
  ``closed_port()``: a port nothing listens on.
- ``http_json`` / ``stream_chat``: a plain ``http.client`` caller, and an SSE reader that can
  hang up after k deltas the way a closed browser tab does.
- ``streamed_llm_calls`` counts answers at the fake LLM. The fixtures built on these,
  ``server_db`` and ``start_server``, are in the root conftest.py.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from testing.processes import stop_process

REPO = Path(__file__).resolve().parents[1]
SECRET_KEY = "fault-tests-" + "k" * 52


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    return free_port()


def _reset(sock: socket.socket) -> None:
    """Drop a connection at once (no lingering), as a crashed peer or a killed backend does.

    ``shutdown`` comes first: a bare ``close()`` while another thread is blocked in
    ``recv()`` on the socket sends nothing and leaves the peer connected forever."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never sends a byte."""

    def __init__(self):
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self._listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._accepted.append(conn)

    @property
    def connections(self) -> int:
        return len(self._accepted)

    def __enter__(self) -> "SilentServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(2)
        self._listener.close()
        for conn in self._accepted:
            _reset(conn)


class TCPProxy:
    """Forwards 127.0.0.1:<port> to ``target``; can play a server that stops and comes back."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, int(target_port))
        self.port = free_port()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.accepted = 0

    # lifecycle
    def start(self) -> "TCPProxy":
        self._listener = socket.create_server(("127.0.0.1", self.port), backlog=128,
                                              reuse_port=False)
        listener = self._listener
        self._thread = threading.Thread(target=self._accept_loop, args=(listener,), daemon=True)
        self._thread.start()
        return self

    def cut(self) -> None:
        """The server is gone: live connections are reset, new ones refused."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        if self._thread is not None:
            self._thread.join(2)
        self.reset_connections()

    def restore(self) -> None:
        """The server is back, on the same address."""
        if self._listener is None:
            self.start()

    def reset_connections(self) -> int:
        """Reset every live connection (as ``pg_terminate_backend`` or a crash would)."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, upstream in pairs:
            _reset(client)
            _reset(upstream)
        return len(pairs)

    def stop(self) -> None:
        self.cut()

    def __enter__(self) -> "TCPProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # plumbing
    def _accept_loop(self, listener: socket.socket) -> None:
        listener.settimeout(0.1)
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._pairs.append((client, upstream))
                self.accepted += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            with self._lock:
                self._pairs = [p for p in self._pairs if src not in p]


_template_lock = threading.RLock()
_template: Path | None = None


def _migrated_sqlite_template() -> Path:
    """An empty, migrated SQLite database, made once per test run and copied per test."""
    global _template
    with _template_lock:
        if _template is None:
            folder = Path(tempfile.mkdtemp(prefix="chat-fault-template-"))
            path = folder / "template.sqlite3"
            db = ServerDatabase(vendor="sqlite", url=f"sqlite:///{path}", path=path)
            result = subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO,
                env=base_env(folder, database=db), capture_output=True, text=True, timeout=300)
            if result.returncode:
                raise RuntimeError(f"migrate failed:\n{result.stdout}\n{result.stderr}")
            # One self-contained file (no -wal/-shm beside it) that can be copied.
            conn = sqlite3.connect(path)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode=DELETE")
            conn.close()
            _template = path
        return _template


SAMPLE_DOCS = {
    "backups.md": "---\nid: backups\ntitle: Backups\n---\n\n# Backups\n\n## Nightly snapshots\n\n"
                  "Quokka writes a nightly snapshot of every vault to the snapshot directory; "
                  "restore a snapshot with `quokka restore SNAPSHOT`.\n",
    "install.md": "---\nid: install\ntitle: Installation\n---\n\n# Installation\n\n"
                  "## Install the quokka server\n\nInstall the quokka server with "
                  "`pip install quokka-server`, then run `quokka serve --port 8080`.\n",
}
_index_template: Path | None = None


def _indexed_template() -> Path:
    """An embedded search index of ``SAMPLE_DOCS``, built once per test run and copied per
    server (the embedded engine allows one process per folder)."""
    global _index_template
    with _template_lock:
        if _index_template is None:
            folder = Path(tempfile.mkdtemp(prefix="chat-fault-index-"))
            docs = folder / "docs"
            docs.mkdir()
            for name, text in SAMPLE_DOCS.items():
                (docs / name).write_text(text, encoding="utf-8")
            path = folder / "db.sqlite3"
            shutil.copyfile(_migrated_sqlite_template(), path)
            db = ServerDatabase(vendor="sqlite", url=f"sqlite:///{path}", path=path)
            result = subprocess.run(
                [sys.executable, "manage.py", "ingest_docs", str(docs), "--base-url",
                 "https://docs.example.test"], cwd=REPO, env=base_env(folder, database=db),
                capture_output=True, text=True, timeout=300)
            if result.returncode:
                raise RuntimeError(f"ingest_docs failed:\n{result.stdout}\n{result.stderr}")
            _index_template = folder / "index"
        return _index_template


@dataclass
class ServerDatabase:
    """The database an ``AppServer`` uses, and plain-SQL reads of it."""

    vendor: str
    url: str
    pooled: bool = False
    settings: dict = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def for_test(cls, tmp_path: Path) -> "ServerDatabase":
        """The current test database on PostgreSQL; a migrated SQLite file otherwise.

        On PostgreSQL the caller must hold ``transactional_db`` (rows are committed and
        flushed after the test, and the server sees them)."""
        from django.conf import settings
        from django.db import connection

        if connection.vendor == "postgresql":
            s = dict(connection.settings_dict)
            db = cls(vendor="postgresql", url="", pooled=bool(getattr(settings, "DATABASE_POOLED", False)),
                     settings=s)
            db.url = db.url_via(s["HOST"] or "127.0.0.1", int(s["PORT"] or 5432))
            return db
        path = tmp_path / "server-db.sqlite3"
        shutil.copyfile(_migrated_sqlite_template(), path)
        return cls(vendor="sqlite", url=f"sqlite:///{path}", path=path)

    @property
    def host_port(self) -> tuple[str, int]:
        return self.settings.get("HOST") or "127.0.0.1", int(self.settings.get("PORT") or 5432)

    def url_via(self, host: str, port: int, **params: str) -> str:
        """The PostgreSQL URL of this database at another address (e.g. a ``TCPProxy``)."""
        s = self.settings
        auth = quote(s.get("USER") or "postgres")
        if s.get("PASSWORD"):
            auth += ":" + quote(s["PASSWORD"])
        query = "&".join(f"{k}={quote(str(v))}" for k, v in params.items())
        return f"postgres://{auth}@{host}:{port}/{quote(s['NAME'])}" + (f"?{query}" if query else "")

    def connect(self, *, direct: bool = False):
        """A connection to the database; ``direct`` bypasses PgBouncer (to reach the backends
        it pools), assuming PostgreSQL itself at ``FAULTS_PG_DIRECT`` (default
        127.0.0.1:5432, where .ci/pgbouncer.sh points PgBouncer)."""
        if self.vendor == "postgresql":
            import psycopg

            host, port = self.host_port
            if direct and self.pooled:
                host, _, port = os.environ.get("FAULTS_PG_DIRECT", "127.0.0.1:5432").partition(":")
            return psycopg.connect(dbname=self.settings["NAME"], user=self.settings.get("USER") or None,
                                   password=self.settings.get("PASSWORD") or None, host=host,
                                   port=port, autocommit=True, prepare_threshold=None)
        return sqlite3.connect(self.path, timeout=20)

    def query(self, sql: str, params: tuple = (), *, direct: bool = False) -> list[tuple]:
        """Run one SQL statement written with ``%s`` placeholders; return the rows."""
        if self.vendor == "sqlite":
            sql = sql.replace("%s", "?")
        conn = self.connect(direct=direct)
        try:
            cursor = conn.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else []
            if self.vendor == "sqlite":
                conn.commit()
            return rows
        finally:
            conn.close()

    def messages(self, session_token: str | None = None) -> list[dict]:
        """The chat_history rows (of one session, when given), oldest first."""
        from chat import tokens

        sql = ("SELECT m.id, m.role, m.status, m.content, m.client_message_id, m.reply_to_id, m.error "
               "FROM chat_history m JOIN chat_chatsession s ON s.id = m.session_id")
        params: tuple = ()
        if session_token:
            sql += " WHERE s.token_hash = %s"
            params = (tokens.hash_token(session_token),)
        rows = self.query(sql + " ORDER BY m.id", params)
        keys = ("id", "role", "status", "content", "client_message_id", "reply_to_id", "error")
        return [dict(zip(keys, row)) for row in rows]


def base_env(data_dir: Path, *, database: ServerDatabase, **extra: str) -> dict:
    """Production-like environment for a server or ``manage.py`` subprocess."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_", "REDIS_", "QDRANT_", "OPENAI_", "CHAT_", "DJANGO_"))
           and k not in {"CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "LOG_LEVEL"}}
    env.update({
        "DJANGO_SETTINGS_MODULE": "chatsite.settings",
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "CORS_ALLOWED_ORIGINS": "http://docs.example.test",
        "CHATSITE_DATA_DIR": str(data_dir),
        "RAG_INDEX_DIR": str(data_dir / "index"),
        "DATABASE_URL": database.url,
        "DATABASE_POOLED": "true" if database.pooled else "false",
        "LOG_LEVEL": "INFO",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


class AppServer:
    """The project under uvicorn in a subprocess (see module docstring)."""

    def __init__(self, data_dir: Path, *, database: ServerDatabase, llm_base_url: str | None = None,
                 workers: int = 1, access_log: bool = False, port: int | None = None,
                 indexed: bool = False, db_address: tuple[str, int] | None = None,
                 uvicorn_args: tuple[str, ...] = (), **env: str):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database = database
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        defaults = {
            "QDRANT_URL": f"http://127.0.0.1:{closed_port()}", "QDRANT_TIMEOUT": "1",
            "CHAT_RATE_IP": "10000/min", "CHAT_RATE_SESSION": "10000/min",
            "CHAT_RATE_HISTORY": "10000/min",
        }
        if llm_base_url:
            defaults.update({"OPENAI_API_KEY": "sk-test-not-a-real-key",
                             "OPENAI_BASE_URL": llm_base_url, "CHAT_MODEL": "fake-model"})
        self.env = base_env(self.data_dir, database=database, **{**defaults, **env})
        # On PostgreSQL every server tags its connections, so a test can find (and kill) them
        # in pg_stat_activity, and teardown can wait until they are gone. ``db_address``
        # points the server at another address for the same database (a ``TCPProxy``).
        self.application_name = f"chat-fault-{self.port}"
        if database.vendor == "postgresql" and "DATABASE_URL" not in env:
            host, port = db_address or database.host_port
            self.env["DATABASE_URL"] = database.url_via(host, port,
                                                        application_name=self.application_name)
        if indexed:  # the embedded index holding SAMPLE_DOCS instead of an unreachable Qdrant
            shutil.copytree(_indexed_template(), self.data_dir / "index")
            self.env["QDRANT_URL"] = ""
            self.env["DOCS_BASE_URL"] = "https://docs.example.test"
        self.workers = workers
        self.uvicorn_args = list(uvicorn_args)
        self.access_log = access_log
        self.log = self.data_dir / f"uvicorn-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "AppServer":
        args = [sys.executable, "-m", "uvicorn", "chatsite.asgi:application",
                "--host", "127.0.0.1", "--port", str(self.port)]
        if self.workers > 1:
            args += ["--workers", str(self.workers)]
        if not self.access_log:
            args.append("--no-access-log")
        args += self.uvicorn_args
        self._log_file = open(self.log, "ab")
        self.proc = subprocess.Popen(args, cwd=REPO, env=self.env, stdout=self._log_file,
                                     stderr=subprocess.STDOUT)
        self._wait_ready()
        # Warm up: the first answer imports the Qdrant and OpenAI clients (over a second);
        # tests that time faults should not measure that.
        http_json(self.base, "GET", "/chat", timeout=30)
        return self

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                status, _, _ = http_json(self.base, "GET", "/healthz", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"uvicorn did not answer within {timeout}s:\n{self.log_text()}")

    def stop(self) -> None:
        stop_process(self.proc)
        if getattr(self, "_log_file", None):
            self._log_file.close()
            self._log_file = None

    def kill(self) -> None:
        """SIGKILL: the process dies at once, mid-whatever, as after an OOM kill."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.stop()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def manage(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO,
                              env={**self.env, **env}, capture_output=True, text=True, timeout=300)

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# Clients


def _connection(base: str, timeout: float, source: str | None = None) -> http.client.HTTPConnection:
    host, port = base.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=timeout,
                                      source_address=(source, 0) if source else None)


def http_json(base: str, method: str, path: str, payload=None, *, headers: dict | None = None,
              timeout: float = 30, source: str | None = None, raw: bytes | None = None):
    """One request; returns ``(status, headers (lower-cased), body)`` with JSON bodies decoded.

    ``source`` binds the client to another loopback address (e.g. 127.0.0.2), so the server
    sees a different client IP."""
    conn = _connection(base, timeout, source)
    body = raw if raw is not None else (json.dumps(payload).encode() if payload is not None else None)
    all_headers = {"Content-Type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    try:
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        response_headers = {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()
    if response_headers.get("content-type", "").startswith("application/json") and data:
        return response.status, response_headers, json.loads(data)
    return response.status, response_headers, data


@dataclass
class StreamResult:
    status: int
    headers: dict
    events: list[tuple[str, dict]]
    body: object = None  # the JSON error body when the response was not a stream
    hung_up: bool = False

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    @property
    def text(self) -> str:
        return "".join(d["text"] for n, d in self.events if n == "delta")

    def first(self, name: str) -> dict | None:
        return next((d for n, d in self.events if n == name), None)


def stream_chat(base: str, payload: dict, *, hang_up_after_deltas: int | None = None,
                headers: dict | None = None, timeout: float = 60, on_event=None,
                source: str | None = None) -> StreamResult:
    """``POST /chat`` with ``Accept: text/event-stream``, reading events as they arrive.

    With ``hang_up_after_deltas=k`` the socket is closed as soon as the k-th delta has been
    read: the client has seen exactly those k deltas. ``on_event(name, data)`` is called for
    each event as it arrives (e.g. to inject a fault mid-answer)."""
    conn = _connection(base, timeout, source)
    conn.request("POST", "/chat", body=json.dumps(payload).encode(),
                 headers={"Content-Type": "application/json", "Accept": "text/event-stream",
                          **(headers or {})})
    response = conn.getresponse()
    response_headers = {k.lower(): v for k, v in response.getheaders()}
    if not response_headers.get("content-type", "").startswith("text/event-stream"):
        data = response.read()
        conn.close()
        body = json.loads(data) if data else None
        return StreamResult(response.status, response_headers, [], body=body)
    events: list[tuple[str, dict]] = []
    name, data_lines, deltas = "message", [], 0
    try:
        while True:
            line = response.readline()
            if not line:
                break
            line = line.decode("utf-8").rstrip("\r\n")
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data_lines.append(line[5:].lstrip())
            elif line == "" and data_lines:
                event = (name, json.loads("\n".join(data_lines)))
                events.append(event)
                name, data_lines = "message", []
                if on_event:
                    on_event(*event)
                if event[0] == "delta":
                    deltas += 1
                    if hang_up_after_deltas is not None and deltas >= hang_up_after_deltas:
                        conn.sock.shutdown(socket.SHUT_RDWR)
                        return StreamResult(response.status, response_headers, events, hung_up=True)
    finally:
        conn.close()
    return StreamResult(response.status, response_headers, events)


def wait_until(predicate, *, timeout: float = 15.0, interval: float = 0.05):
    """Poll ``predicate`` until it returns a truthy value; that value, or the last one."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


def streamed_llm_calls(fake, question: str | None = None) -> int:
    """Streamed chat completions the fake LLM received (answers, not query rewrites), for
    ``question`` when given."""
    calls = 0
    for request in list(fake.requests):
        body = request["body"]
        if not request["path"].endswith("/chat/completions") or not body.get("stream"):
            continue
        if question is None or question in json.dumps(body.get("messages", [])[-1:]):
            calls += 1
    return calls

