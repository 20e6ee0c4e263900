"""Slow clients are dropped, with the server options we ship (``UVICORN_OPTS`` in the
Makefile). ``/healthz`` latency under load is measured by bench/healthz_under_load.py."""

import re
import shlex
import socket
import time
from pathlib import Path

import pytest

from testing.servers import http_json, stream_chat

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def shipped_uvicorn_options() -> tuple[str, ...]:
    makefile = (REPO / "Makefile").read_text()
    return tuple(shlex.split(re.search(r"^UVICORN_OPTS := (.*)$", makefile, re.M).group(1)))


def _open(server, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(data)
    return sock


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def test_slow_clients_are_dropped_but_slow_answers_are_not(start_server, fake_openai):
    server = start_server(llm=fake_openai, uvicorn_args=shipped_uvicorn_options(),
                          SERVER_HEADER_TIMEOUT="2", SERVER_BODY_TIMEOUT="3")
    silent = [_open(server, b"") for _ in range(20)]
    partial_headers = [_open(server, b"POST /chat HTTP/1.1\r\nHost: 127.0.0.1\r\n") for _ in range(20)]
    partial_body = [_open(server, b"POST /chat HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"m")
                    for _ in range(20)]
    trickle = _open(server, b"GET /chat HTTP/1.1\r\n")
    started = time.monotonic()
    for i in range(4):  # a header byte every half second keeps no connection alive
        time.sleep(0.5)
        trickle.sendall(f"X-{i}: y\r\n".encode())

    assert all(_closed_by_server(s, 4) for s in silent + partial_headers)
    assert _closed_by_server(trickle, 4)
    assert all(_closed_by_server(s, 4) for s in partial_body)
    assert time.monotonic() - started < 12

    # An answer that streams for longer than both timeouts is not cut.
    fake_openai.reply = " ".join(["word"] * 40)
    fake_openai.tokens_per_second = 8  # about 5 s
    result = stream_chat(server.base, {"message": "Tell me a long story"})
    assert result.names[-1] == "done"
    assert http_json(server.base, "GET", "/healthz")[0] == 200
    for sock in silent + partial_headers + partial_body + [trickle]:
        sock.close()
