"""Shared plumbing for the benchmark scripts in ``bench/``.

Machine details, percentiles, printed tables and ``bench/results/<name>.json``; the processes
a benchmark runs on 127.0.0.1 (the fake LLM, uvicorn, gunicorn, ``manage.py``) with an
environment that points the service at throw-away data; a PostgreSQL database created for
one run and dropped after it; and the corpora (the Jest docs replicated under different
paths, or generated pages). Nothing here touches the developer's ``data/`` folder.
"""

import contextlib
import datetime as dt
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
JEST_DOCS = Path(os.environ.get("BENCH_JEST_DOCS", "/work/shared/corpora/jest/docs"))
JEST_QA = JEST_DOCS.parent / "qa.jsonl"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BASE_URL = "https://docs.bench.test"


# --- numbers and output -------------------------------------------------------------------

def percentile(values, q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(values) -> dict:
    values = list(values)
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    return {
        "n": len(values),
        "p50": round(percentile(values, 0.50), 3),
        "p95": round(percentile(values, 0.95), 3),
        "p99": round(percentile(values, 0.99), 3),
        "max": round(max(values), 3),
        "mean": round(statistics.fmean(values), 3),
    }


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(headers: list[str], rows: list[list]) -> str:
    """An aligned plain-text table (also valid-looking markdown)."""
    cells = [[str(h) for h in headers]] + [[fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem_kb = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                  if line.startswith("model name")), platform.processor())
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                                capture_output=True, timeout=5).stdout.strip()
    except Exception:
        commit = ""
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": commit,
        # Other work on the machine skews every number; recorded so a run can be judged.
        "load_average_1m_5m_15m": list(os.getloadavg()),
    }


def write_results(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    body = {"benchmark": name, "machine": machine(), **payload}
    path.write_text(json.dumps(body, indent=2, default=str) + "\n")
    say(f"\nwrote {path.relative_to(ROOT)}")
    return path


# --- processes ----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f} s")


def rss_mb(pid: int, *, children: bool = False) -> float:
    """Resident memory of a process (and optionally its direct children), in MB."""
    pids = [pid]
    if children:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
                pids.append(int(line))
    total = 0
    for p in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return round(total / 1024, 1)


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User + system CPU time a process (and its live children) has used so far."""
    pids = [pid]
    if children:
        with contextlib.suppress(OSError):
            pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for p in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / tick


class Proc:
    """A child process with its output in a log file; stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, args: list[str], *, env: dict, log: Path, cwd: Path = ROOT):
        self.args = args
        self.log_path = log
        self._log = open(log, "wb")
        self.popen = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE,
                                      stderr=self._log, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def read_ready(self, timeout: float = 30.0) -> int:
        """For bench/fake_llm.py: the port from its ``READY <port>`` line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.popen.stdout.readline().decode()
            if line.startswith("READY "):
                return int(line.split()[1])
            if not line and self.popen.poll() is not None:
                break
        raise RuntimeError(f"{self.args[1]} did not start; see {self.log_path}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def fake_llm(tmp: Path, *, ttft: float = 0.0, tps: float = 0.0, tokens: int = 200,
             impl: str = "asyncio", name: str = "fake_llm") -> tuple[Proc, str]:
    """Start bench/fake_llm.py; returns the process and its OpenAI base URL."""
    proc = Proc([PYTHON, str(BENCH / "fake_llm.py"), "--ttft", str(ttft), "--tps", str(tps),
                 "--tokens", str(tokens), "--impl", impl],
                env={**os.environ, "PYTHONUNBUFFERED": "1"}, log=tmp / f"{name}.log")
    port = proc.read_ready()
    return proc, f"http://127.0.0.1:{port}/v1"


def app_env(tmp: Path, *, database_url: str, index_dir: Path, llm_url: str | None = None,
            embedding_model: str | None = None, **extra) -> dict:
    """Environment for the service: throw-away data, generous limits, nothing external."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"OPENAI_API_KEY", "OPENAI_BASE_URL", "QDRANT_URL", "QDRANT_API_KEY",
                        "REDIS_URL", "EMBEDDING_MODEL", "EMBEDDING_DIMENSIONS", "DATABASE_URL",
                        "DATABASE_DIRECT_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update({
        "DJANGO_SETTINGS_MODULE": "chatsite.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdefghijkl",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "CHATSITE_DATA_DIR": str(tmp),
        "STATIC_ROOT": str(tmp / "static"),
        "DATABASE_URL": database_url,
        "RAG_INDEX_DIR": str(index_dir),
        "DOCS_BASE_URL": BASE_URL,
        # The benchmark is one client IP sending thousands of answers: lift the limits.
        "CHAT_RATE_IP": "10000000/min",
        "CHAT_RATE_SESSION": "10000000/min",
        "CHAT_RATE_HISTORY": "10000000/min",
        "CHAT_SESSION_DAILY_TOKENS": str(10**12),
        "CHAT_GLOBAL_DAILY_TOKENS": str(10**12),
        "PYTHONUNBUFFERED": "1",
    })
    if llm_url:
        env.update({"OPENAI_API_KEY": "sk-bench-not-a-real-key", "OPENAI_BASE_URL": llm_url,
                    "CHAT_MODEL": "fake-model"})
    if embedding_model:
        env["EMBEDDING_MODEL"] = embedding_model
        if llm_url is None:
            raise ValueError("embeddings need the fake server's URL")
    env.update({k: str(v) for k, v in extra.items()})
    (tmp / "static").mkdir(parents=True, exist_ok=True)
    return env


def manage(env: dict, *args: str, timeout: float = 300) -> str:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, text=True,
                            capture_output=True, timeout=timeout)
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def uvicorn(env: dict, tmp: Path, *, port: int | None = None, name: str = "uvicorn") -> tuple[Proc, int]:
    port = port or free_port()
    proc = Proc([PYTHON, "-m", "uvicorn", "chatsite.asgi:application", "--host", "127.0.0.1",
                 "--port", str(port), "--no-access-log", "--backlog", "4096",
                 "--timeout-keep-alive", "30"],
                env=env, log=tmp / f"{name}.log")
    wait_port(port, 60, proc.popen)
    return proc, port


def gunicorn(env: dict, tmp: Path, *, workers: int = 4, port: int | None = None,
             timeout: int = 120, name: str = "gunicorn") -> tuple[Proc, int]:
    port = port or free_port()
    proc = Proc([PYTHON, "-m", "gunicorn", "chatsite.wsgi:application", "--bind",
                 f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "sync",
                 "--timeout", str(timeout), "--backlog", "4096"],
                env=env, log=tmp / f"{name}.log")
    wait_port(port, 60, proc.popen)
    return proc, port


# --- databases ----------------------------------------------------------------------------

def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:
        return False


@contextlib.contextmanager
def postgres_database(prefix: str = "chatsite_bench"):
    """A fresh PostgreSQL database for one run (dropped afterwards); yields its URL."""
    import psycopg

    name = f"{prefix}_{os.getpid()}_{random.randrange(10**6)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def database(kind: str, tmp: Path):
    """``kind`` "sqlite" or "postgres": yields a DATABASE_URL for a fresh database."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.sqlite3'}"
    elif kind == "postgres":
        with postgres_database() as url:
            yield url
    else:
        raise ValueError(kind)


@contextlib.contextmanager
def workdir(prefix: str):
    path = Path(tempfile.mkdtemp(prefix=f"chatsite-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --- corpora ------------------------------------------------------------------------------

def jest_questions(limit: int | None = None) -> list[str]:
    """Questions of the Jest question set the docs cover (not the out-of-scope ones)."""
    questions = []
    for line in JEST_QA.read_text().splitlines():
        item = json.loads(line)
        if item.get("expected"):
            questions.append(item["question"])
    return questions[:limit] if limit else questions


def replicated_jest(dest: Path, copies: int) -> Path:
    """The Jest docs copied ``copies`` times under ``copyNN/`` (different paths and URLs)."""
    for n in range(copies):
        target = dest / f"copy{n:03d}"
        shutil.copytree(JEST_DOCS, target)
    return dest


VOCAB = ("test mock module timer snapshot config worker cache transform coverage async promise "
         "hook render fixture matcher spy reset restore environment node jsdom babel typescript "
         "watch bail parallel shard retry timeout setup teardown describe expect resolve reject "
         "server client request response stream token index query vector search page route "
         "plugin theme sidebar locale version deploy build serve proxy header cookie session").split()


def generated_corpus(dest: Path, pages: int, *, seed: int = 7, sections: int = 6) -> Path:
    """``pages`` Docusaurus pages with front matter, ``sections`` h2 sections each, in
    folders of 50; deterministic for a seed."""
    rng = random.Random(seed)
    for n in range(pages):
        folder = dest / f"area{n // 50:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        parts = [f"---\nid: page{n}\ntitle: Page {n} {rng.choice(VOCAB)}\nsidebar_position: {n % 50}\n---\n",
                 f"# Page {n}\n\nIntro {' '.join(rng.choices(VOCAB, k=40))}.\n"]
        for s in range(sections):
            words = " ".join(rng.choices(VOCAB, k=rng.randint(80, 160)))
            parts.append(f"\n## Section {s} {rng.choice(VOCAB)}\n\n{words} term{n}x{s}.\n\n"
                         f"```js\nconst {rng.choice(VOCAB)} = require('{rng.choice(VOCAB)}');\n```\n")
        (folder / f"page{n}.md").write_text("".join(parts))
    return dest


# --- one Django process per database --------------------------------------------------------

def django_setup(env: dict) -> None:
    """Configure this process as the service would be by ``env`` and set Django up.

    Call before importing any app module; once per process."""
    for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "QDRANT_URL", "REDIS_URL", "EMBEDDING_MODEL"):
        os.environ.pop(key, None)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def run_children(script: Path, dbs: list[str], args: list[str], tmp: Path,
                 timeout: float = 300) -> dict:
    """Run ``script --db <db> --json-out <file> ARGS`` once per database, in a fresh process
    each (Django settings are per process); returns {db: its JSON}. Output passes through."""
    results = {}
    for db in dbs:
        if db == "postgres" and not postgres_available():
            say(f"(PostgreSQL at {PG_ADMIN_URL} not reachable: skipped)")
            results[db] = {"skipped": "PostgreSQL not reachable"}
            continue
        out = tmp / f"{db}.json"
        subprocess.run([PYTHON, str(script), "--db", db, "--json-out", str(out), *args],
                       cwd=ROOT, check=True, timeout=timeout)
        results[db] = json.loads(out.read_text())
    return results
