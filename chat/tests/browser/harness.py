"""Real servers and a real browser for the widget's end-to-end tests.

- ``ChatServer``: the Django project under uvicorn in a subprocess (production-like settings:
  DEBUG off, explicit CORS allowlist), on a free 127.0.0.1 port, with its own data directory,
  migrated and with a docs folder ingested.
- ``StaticServer``: a plain static file server on another 127.0.0.1 port (another origin),
  for the built Docusaurus site or a hostile page.
- ``browser()``: Debian's Chromium driven by Playwright; ``PageWatch`` records every console
  error, page error, failed request and HTTP error so a test can assert there were none.

Browser tests skip with the reason when Chromium or Playwright is missing, except on CI
(``CI=true``), where a missing browser is a failure.
"""

import functools
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from testing.processes import stop_process

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = REPO / "artifacts" / "screenshots"


def require_browser() -> None:
    """Skip (or fail on CI) unless Chromium and Playwright are both installed."""
    problems = []
    if not Path(CHROMIUM).exists():
        problems.append(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("playwright not installed (pip install -r requirements-dev.txt)")
    if problems:
        reason = "browser tests need Chromium and Playwright: " + "; ".join(problems)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
            last = exc
        except OSError as exc:
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s: {last}")


class ChatServer:
    """The chat service under uvicorn, as it runs in production."""

    def __init__(self, data_dir: Path, *, cors_origins: list[str], port: int | None = None,
                 llm_base_url: str | None = None):
        self.port = port or free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.env = {
            key: value for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "DATABASE_DIRECT_URL", "REDIS_URL", "QDRANT_URL",
                           "OPENAI_API_KEY", "OPENAI_BASE_URL", "DJANGO_SETTINGS_MODULE"}
        }
        self.env.update({
            "DEBUG": "false",
            "SECRET_KEY": "browser-tests-" + "x" * 50,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "CORS_ALLOWED_ORIGINS": ",".join([self.origin, *cors_origins]),
            "CHATSITE_DATA_DIR": str(data_dir),
            "STATIC_ROOT": str(data_dir / "static"),
            "DJANGO_SETTINGS_MODULE": "chatsite.settings",
            "LOG_LEVEL": "WARNING",
            "DEMO_DOCS_DIR": str(REPO / "docs"),  # the demo page is off by default without DEBUG
            # Generous limits: the suite asks a handful of questions from one IP.
            "CHAT_RATE_IP": "1000/min",
            "CHAT_RATE_SESSION": "1000/min",
        })
        if llm_base_url:
            self.env.update({"OPENAI_API_KEY": "sk-test-not-a-real-key", "OPENAI_BASE_URL": llm_base_url,
                             "CHAT_MODEL": "fake-model"})
        self.proc: subprocess.Popen | None = None
        self.log = data_dir / "uvicorn.log"

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=REPO, env=self.env,
            capture_output=True, text=True, timeout=600,
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def prepare(self, docs: Path, base_url: str) -> "ChatServer":
        """Create the database and index ``docs`` with links under ``base_url``."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--noinput")
        self.manage("ingest_docs", str(docs), "--base-url", base_url)
        return self

    def start(self) -> "ChatServer":
        self._log_file = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "chatsite.asgi:application",
             "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"],
            cwd=REPO, env=self.env, stdout=self._log_file, stderr=subprocess.STDOUT,
        )
        try:
            wait_for_http(self.origin + "/static/chat/widget.js", proc=self.proc)
        except RuntimeError:
            self.stop()
            raise RuntimeError(self.log.read_text(errors="replace")) from None
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        if getattr(self, "_log_file", None):
            self._log_file.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class StaticServer:
    """Serves a directory on its own 127.0.0.1 origin (Docusaurus build output, test pages)."""

    def __init__(self, directory: Path, port: int | None = None):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port or 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"

    def start(self) -> "StaticServer":
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RecordingServer:
    """An "evil" host on its own 127.0.0.1 origin that answers 200 to anything and records
    every request that reaches it (method and path with the query), so a test can prove
    that nothing from a conversation was delivered there."""

    def __init__(self):
        self.requests: list[str] = []
        recorded = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def _record(self):
                recorded.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(b"ok")

            do_GET = do_POST = do_HEAD = do_PUT = do_OPTIONS = _record

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.host = f"127.0.0.1:{self.port}"

    def start(self) -> "RecordingServer":
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


class PageWatch:
    """Collects what would be a bug on a real site: console errors, uncaught exceptions,
    failed requests (including CORS rejections) and HTTP error responses."""

    def __init__(self, page, *, allow_hosts=("127.0.0.1",)):
        self.problems: list[str] = []
        self.sent: list = []  # every request the page made (playwright Request objects)
        self.allow_hosts = allow_hosts
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        page.on("request", lambda request: self.sent.append(request))

    def _console(self, msg):
        # A test page without a favicon is not a widget bug.
        if msg.type in ("error", "warning") and not msg.location.get("url", "").endswith("/favicon.ico"):
            self.problems.append(f"console {msg.type}: {msg.text}")

    def _failed(self, request):
        # A request the widget aborted on purpose (the stop button) is not a failure.
        if "ERR_ABORTED" in (request.failure or "") and request.url.endswith("/chat"):
            return
        self.problems.append(f"request failed: {request.method} {request.url} {request.failure}")

    def _response(self, response):
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def assert_clean(self):
        assert not self.problems, "\n".join(self.problems)

    def foreign_requests(self) -> list[str]:
        from urllib.parse import urlsplit

        urls = [request.url for request in self.sent]
        return [u for u in urls
                if urlsplit(u).scheme in ("http", "https") and urlsplit(u).hostname not in self.allow_hosts]


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def make_docusaurus_site(api_origin: str) -> Path:
    """Create/build the Docusaurus site (cached outside the repo); returns its build dir."""
    if not shutil.which("npx"):
        reason = "the Docusaurus test needs Node.js and npm (apt-get install nodejs npm)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    script = Path(__file__).with_name("make_docusaurus_site.sh")
    result = subprocess.run(["bash", str(script), api_origin], capture_output=True, text=True, timeout=1200)
    if result.returncode:
        raise RuntimeError(f"building the Docusaurus site failed:\n{result.stderr[-4000:]}")
    return Path(result.stdout.strip().splitlines()[-1])
