"""The liveness port answers from its own thread while the event loop is busy, and says 503
when the loop is stuck rather than merely busy."""

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from chatsite.liveness import LivenessServer, LoopWatch, WatchLoop, parse_address

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def loop():
    """An event loop running in its own thread, like uvicorn's."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def serve(watch: LoopWatch, max_stall: float) -> LivenessServer:
    server = LivenessServer(("127.0.0.1", 0), watch, max_stall=max_stall)
    server.start()
    return server


def get(server: LivenessServer, path: str = "/healthz") -> tuple[int, dict]:
    url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_a_responsive_loop_is_alive_and_its_lag_reported(loop):
    watch = LoopWatch()
    watch.attach(loop)
    server = serve(watch, max_stall=30)
    try:
        status, body = get(server)
        assert status == 200 and body["status"] == "ok"
        assert "event_loop_lag_ms" in body
    finally:
        server.shutdown()
        server.server_close()


def test_a_busy_loop_does_not_delay_the_probe_and_a_stuck_one_is_reported(loop):
    watch = LoopWatch()
    watch.attach(loop)
    server = serve(watch, max_stall=0.5)
    release = threading.Event()
    loop.call_soon_threadsafe(release.wait, 30)  # the loop now blocks until released
    try:
        # Answered while the loop is blocked: the probe never waits on the loop.
        status, body = get(server)
        assert status == 200 and not release.is_set()
        wait_for(lambda: watch.stalled_for() > 0.5)
        status, body = get(server)
        assert status == 503 and not release.is_set()
        assert body["status"] == "event_loop_stalled" and "HEALTHZ_MAX_LOOP_STALL" in body["detail"]
    finally:
        release.set()
    wait_for(lambda: watch.stalled_for() == 0)
    status, body = get(server)
    assert status == 200 and body["status"] == "ok"
    server.shutdown()
    server.server_close()


def test_other_paths_get_a_json_404(loop):
    server = serve(LoopWatch(), max_stall=30)
    try:
        status, body = get(server, "/admin/")
        assert status == 404 and body["error"] == "not_found"
        status, body = get(server)
        assert status == 200 and body["event_loop"] == "not started yet"
    finally:
        server.shutdown()
        server.server_close()


def test_the_asgi_wrapper_hands_its_loop_to_the_watch():
    watch = LoopWatch()
    calls = []

    async def app(scope, receive, send):
        calls.append(scope["type"])

    asyncio.run(WatchLoop(app, watch)({"type": "http"}, None, None))
    assert watch.attached and calls == ["http"]


@pytest.mark.parametrize("value, expected", [
    (":8081", ("0.0.0.0", 8081)), ("127.0.0.1:9000", ("127.0.0.1", 9000)), ("[::1]:9000", ("::1", 9000)),
])
def test_addresses_are_parsed_as_host_and_port(value, expected):
    assert parse_address(value) == expected


@pytest.mark.parametrize("value", ["8081", "host:", "host:http", ":0", ":70000"])
def test_a_malformed_address_is_refused_at_startup(tmp_path, value):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "chatsite.settings", "DEBUG": "true",
                "CHATSITE_DATA_DIR": str(tmp_path), "HEALTHZ_ADDRESS": value})
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "HEALTHZ_ADDRESS: expected host:port" in result.stderr


@pytest.mark.slow
def test_every_worker_process_serves_the_liveness_port(start_server):
    from testing.servers import free_port

    port = free_port()
    server = start_server(workers=2, HEALTHZ_ADDRESS=f"127.0.0.1:{port}")
    # Both workers bind the port (SO_REUSEPORT): neither fails to start, and probes answer.
    for _ in range(6):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert response.status == 200
            assert json.loads(response.read())["status"] == "ok"
    assert "Address already in use" not in server.log_text()
    assert "Traceback" not in server.log_text()
