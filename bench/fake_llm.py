"""An OpenAI-compatible fake LLM in its own process, for the benchmarks.

It answers like ``testing/openai_server.py`` (``FakeOpenAI``): ``POST /v1/chat/completions``
streams ``chat.completion.chunk`` events then ``data: [DONE]`` (or one JSON body when not
streaming), ``POST /v1/embeddings`` returns the same deterministic hashed-word vectors. The
reply, the time to first token and the tokens per second are fixed on the command line.

Two implementations:

- ``--impl asyncio`` (default): one event loop, so a small machine holds hundreds of
  concurrent streams at 50 tokens/s with steady timing. Adds ``GET /stats`` (calls per path)
  and ``POST /stats/reset``.
- ``--impl threading``: ``FakeOpenAI`` itself (a thread per stream), to compare with.

Prints ``READY <port>`` on stdout once listening. Stops on SIGTERM/SIGINT.

    .venv/bin/python bench/fake_llm.py --ttft 0.1 --tps 50 --tokens 200 [--port 0]
"""

import argparse
import asyncio
import json
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testing.openai_server import FakeOpenAI, fake_embedding, split_tokens  # noqa: E402

WORDS = ("jest runs each test file in its own worker so configure maxWorkers to limit "
         "parallel processes and use bail to stop after the first failing suite while "
         "snapshot files live next to the tests and mock functions record their calls").split()


def reply_text(tokens: int) -> str:
    """A deterministic answer of ``tokens`` stream chunks with a citation every 20 words."""
    words = []
    for n in range(tokens):
        word = WORDS[n % len(WORDS)]
        if n % 20 == 19:
            word += "[1]." if n % 40 == 39 else "[2]."
        words.append(word)
    return " ".join(words)


class AsyncFake:
    def __init__(self, *, reply: str, ttft: float, tps: float, dimensions: int, model: str):
        self.reply = reply
        self.ttft = ttft
        self.tps = tps
        self.dimensions = dimensions
        self.model = model
        self.calls: dict[str, int] = {}
        self.open_streams = 0
        self.max_open_streams = 0
        self.tokens_sent = 0  # content chunks streamed (for CPU per 1,000 tokens)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        key, value = line.split(":", 1)
                        headers[key.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                raw = await reader.readexactly(length) if length else b""
                path = target.split("?")[0]
                keep = await self.route(method, path, raw, writer)
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            try:
                writer.close()
            except Exception:
                pass

    async def json(self, writer, status: int, payload: dict) -> bool:
        data = json.dumps(payload).encode()
        writer.write(
            f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode() + data
        )
        await writer.drain()
        return True

    async def route(self, method: str, path: str, raw: bytes, writer) -> bool:
        if path == "/stats":
            if method == "POST":
                self.calls.clear()
                self.max_open_streams = self.open_streams
                self.tokens_sent = 0
            return await self.json(writer, 200, {"calls": self.calls, "open_streams": self.open_streams,
                                                 "max_open_streams": self.max_open_streams,
                                                 "tokens_sent": self.tokens_sent})
        self.calls[path] = self.calls.get(path, 0) + 1
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return await self.json(writer, 400, {"error": {"message": "bad json"}})
        if path.endswith("/embeddings"):
            inputs = body.get("input")
            inputs = [inputs] if isinstance(inputs, str) else list(inputs or [])
            dims = body.get("dimensions") or self.dimensions
            tokens = sum(len(str(t).split()) for t in inputs)
            return await self.json(writer, 200, {
                "object": "list", "model": body.get("model", self.model),
                "data": [{"object": "embedding", "index": i, "embedding": fake_embedding(t, dims)}
                         for i, t in enumerate(inputs)],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            })
        if path.endswith("/chat/completions"):
            return await self.chat(body, writer)
        return await self.json(writer, 404, {"error": {"message": f"unknown path {path}"}})

    async def chat(self, body: dict, writer) -> bool:
        text = self.reply
        tokens = split_tokens(text)
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(tokens),
                 "total_tokens": prompt_tokens + len(tokens)}
        created = int(time.time())
        if self.ttft:
            await asyncio.sleep(self.ttft)
        if not body.get("stream"):
            return await self.json(writer, 200, {
                "id": "chatcmpl-fake", "object": "chat.completion", "created": created,
                "model": self.model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": usage,
            })
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created,
                "model": self.model}

        def event(payload) -> bytes:
            return f"data: {json.dumps(payload)}\n\n".encode()

        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     b"Cache-Control: no-cache\r\nConnection: close\r\n\r\n")
        writer.write(event({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                                  "finish_reason": None}]}))
        self.open_streams += 1
        self.max_open_streams = max(self.max_open_streams, self.open_streams)
        try:
            for n, token in enumerate(tokens):
                if self.tps and n:
                    await asyncio.sleep(1.0 / self.tps)
                writer.write(event({**base, "choices": [{"index": 0, "delta": {"content": token},
                                                          "finish_reason": None}]}))
                self.tokens_sent += 1
                await writer.drain()
            writer.write(event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
            if (body.get("stream_options") or {}).get("include_usage"):
                writer.write(event({**base, "choices": [], "usage": usage}))
            writer.write(b"data: [DONE]\n\n")
            await writer.drain()
        finally:
            self.open_streams -= 1
        return False


async def serve_async(args, reply: str) -> None:
    fake = AsyncFake(reply=reply, ttft=args.ttft, tps=args.tps, dimensions=args.dimensions,
                     model=args.model)
    server = await asyncio.start_server(fake.handle, "127.0.0.1", args.port, backlog=4096,
                                        limit=1 << 22)
    port = server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def serve_threading(args, reply: str) -> None:
    fake = FakeOpenAI(reply=reply, ttft=args.ttft, tokens_per_second=args.tps,
                      dimensions=args.dimensions, model=args.model).start(args.port)
    print(f"READY {fake._server.server_address[1]}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--ttft", type=float, default=0.0, help="seconds before the first token")
    parser.add_argument("--tps", type=float, default=0.0, help="tokens per second (0: all at once)")
    parser.add_argument("--tokens", type=int, default=200, help="stream chunks per answer")
    parser.add_argument("--dimensions", type=int, default=64, help="embedding size")
    parser.add_argument("--model", default="fake-model", help="model name in responses")
    parser.add_argument("--impl", choices=["asyncio", "threading"], default="asyncio",
                        help="asyncio (one loop) or threading (FakeOpenAI, a thread per stream)")
    args = parser.parse_args()
    reply = reply_text(args.tokens)
    if args.impl == "asyncio":
        asyncio.run(serve_async(args, reply))
    else:
        serve_threading(args, reply)


if __name__ == "__main__":
    main()
