"""Client CPU per streamed LLM event: httpx's transport vs aiohttp's (issue 17).

A streamed answer is one socket read per token, so the HTTP/1.1 parser under the openai
client runs once per token. This starts the fake LLM (``bench/fake_llm.py``: 250 ms to the
first token, 50 tokens/s, 200 tokens), opens N concurrent streams through
``openai.AsyncOpenAI`` with each transport, reads the bodies the way ``rag.generation.stream_chat``
does (``with_streaming_response``, raw bytes), and prints this process's CPU time per SSE
event received. ``rag.clients.get_async_openai`` uses the aiohttp transport.

    .venv/bin/python bench/llm_transport.py [--n 200] [--rounds 2]
"""

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h  # noqa: E402


async def _one(client) -> int:
    events = 0
    async with client.chat.completions.with_streaming_response.create(
            model="fake-model", messages=[{"role": "user", "content": "hi"}], stream=True) as response:
        async for raw in response.http_response.aiter_bytes():
            events += raw.count(b"data:")
    return events


async def measure(transport: str, url: str, n: int) -> dict:
    import openai

    http_client = (openai.DefaultAioHttpClient() if transport == "aiohttp"
                   else openai.DefaultAsyncHttpxClient())
    client = openai.AsyncOpenAI(base_url=url, api_key="bench", http_client=http_client, max_retries=0)
    try:
        await _one(client)  # warm up: connection, imports
        cpu = time.process_time()
        events = sum(await asyncio.gather(*[_one(client) for _ in range(n)]))
        cpu = time.process_time() - cpu
    finally:
        await client.close()
    return {"transport": transport, "n": n, "events": events, "cpu_s": round(cpu, 2),
            "us_per_event": round(1e6 * cpu / events, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="concurrent streams")
    parser.add_argument("--rounds", type=int, default=2, help="runs per transport, interleaved")
    args = parser.parse_args()
    runs = []
    with h.workdir("llm-transport") as tmp:
        fake, url = h.fake_llm(tmp, ttft=0.25, tps=50, tokens=200)
        try:
            for _ in range(args.rounds):
                for transport in ("httpx", "aiohttp"):
                    runs.append(asyncio.run(measure(transport, url, args.n)))
                    h.say(f"  {runs[-1]}")
        finally:
            fake.stop()
    h.say(h.table(["transport", "N", "events", "CPU s", "µs per event"],
                  [[r["transport"], r["n"], r["events"], r["cpu_s"], r["us_per_event"]] for r in runs]))
    h.write_results("llm-transport", {"runs": runs})
    return 0


if __name__ == "__main__":
    sys.exit(main())
