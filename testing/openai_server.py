"""A real HTTP server on 127.0.0.1 that speaks the parts of the OpenAI API we use.

Tests and benchmarks point the real ``openai`` client at it (``OPENAI_BASE_URL``). It serves
``POST /v1/chat/completions`` (streaming SSE chunks then ``data: [DONE]``, or one JSON body)
and ``POST /v1/embeddings`` (deterministic vectors from hashed words, so similar texts get
similar vectors). Behaviour is set on the instance between requests:

- ``reply``: the text to answer (a string, or a callable taking the request body).
- ``ttft`` / ``tokens_per_second``: timing of the stream.
- ``fail_with``: an HTTP status to answer with (e.g. 500, 429) instead of a reply.
- ``reset_after_tokens``: close the connection abruptly after that many tokens.
- ``hang``: accept the request and never answer (for timeout tests).

Every request body is recorded in ``requests`` (and counted per path in ``calls``).
"""

import hashlib
import json
import math
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def fake_embedding(text: str, dimensions: int) -> list[float]:
    vector = [0.0] * dimensions
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        slot = int.from_bytes(digest[:4], "little") % dimensions
        vector[slot] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def split_tokens(text: str) -> list[str]:
    """Split text into stream chunks that join back to exactly ``text``."""
    return re.findall(r"\s*\S+|\s+", text) or [""]


class FakeOpenAI:
    def __init__(self, *, reply="This is the answer [1].", ttft=0.0, tokens_per_second=0.0,
                 dimensions=64, model="fake-model"):
        self.reply = reply
        self.ttft = ttft
        self.tokens_per_second = tokens_per_second
        self.dimensions = dimensions
        self.model = model
        self.fail_with: int | None = None
        self.reset_after_tokens: int | None = None
        self.hang = False
        self.requests: list[dict] = []
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._release = threading.Event()

    # lifecycle
    def start(self, port: int = 0) -> "FakeOpenAI":
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._server.request_queue_size = 1024
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.calls.clear()
        self.fail_with = None
        self.reset_after_tokens = None
        self.hang = False

    def record(self, path: str, body: dict) -> None:
        with self._lock:
            self.requests.append({"path": path, "body": body})
            self.calls[path] = self.calls.get(path, 0) + 1

    def reply_for(self, body: dict) -> str:
        return self.reply(body) if callable(self.reply) else self.reply


def _make_handler(fake: FakeOpenAI):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep test output quiet
            pass

        def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return self._json(400, {"error": {"message": "bad json"}})
            path = self.path.split("?")[0]
            fake.record(path, body)
            if fake.hang:
                fake._release.wait(120)
                return
            if fake.fail_with:
                headers = {"Retry-After": "1"} if fake.fail_with == 429 else None
                return self._json(
                    fake.fail_with,
                    {"error": {"message": f"fake failure {fake.fail_with}", "type": "server_error"}},
                    headers,
                )
            if path.endswith("/embeddings"):
                return self._embeddings(body)
            if path.endswith("/chat/completions"):
                return self._chat(body)
            return self._json(404, {"error": {"message": f"unknown path {path}"}})

        def _embeddings(self, body):
            inputs = body.get("input")
            inputs = [inputs] if isinstance(inputs, str) else list(inputs or [])
            dims = body.get("dimensions") or fake.dimensions
            data = [
                {"object": "embedding", "index": i, "embedding": fake_embedding(text, dims)}
                for i, text in enumerate(inputs)
            ]
            tokens = sum(len(str(t).split()) for t in inputs)
            self._json(200, {
                "object": "list", "data": data, "model": body.get("model", fake.model),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            })

        def _chat(self, body):
            text = fake.reply_for(body)
            prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
            tokens = split_tokens(text)
            usage = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": len(tokens),
                "total_tokens": prompt_tokens + len(tokens),
            }
            created = int(time.time())
            if fake.ttft:
                time.sleep(fake.ttft)
            if not body.get("stream"):
                return self._json(200, {
                    "id": "chatcmpl-fake", "object": "chat.completion", "created": created,
                    "model": fake.model,
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": usage,
                })
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()

            def send(payload):
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()

            base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                    "created": created, "model": fake.model}
            try:
                send({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                           "finish_reason": None}]})
                for n, token in enumerate(tokens):
                    if fake.reset_after_tokens is not None and n >= fake.reset_after_tokens:
                        self.connection.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                        )
                        self.connection.close()
                        return
                    if fake.tokens_per_second and n:
                        time.sleep(1.0 / fake.tokens_per_second)
                    send({**base, "choices": [{"index": 0, "delta": {"content": token},
                                               "finish_reason": None}]})
                send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                if (body.get("stream_options") or {}).get("include_usage"):
                    send({**base, "choices": [], "usage": usage})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

    return Handler
