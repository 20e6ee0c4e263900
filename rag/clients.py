"""Factories for external clients (OpenAI-compatible LLM, Qdrant server), cached per process.

The search index built on them is ``rag.index.get_index()``; it imports this module, never the
reverse, and registers its reset with ``on_reset``. The cached clients are dropped when their
settings change (Django's ``setting_changed``) and by ``reset_clients()``. Nothing here reads
settings at import time.
"""

import asyncio
import math
import weakref
from functools import lru_cache
from typing import TYPE_CHECKING

from django.core.signals import setting_changed
from django.dispatch import receiver

from .conf import rag_settings

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI


def llm_configured() -> bool:
    return bool(rag_settings.OPENAI_API_KEY)


# One async client per event loop: its connections (aiohttp's, below) belong to the loop that
# opened them. A server process has one loop; tests and commands may run several in turn.
_async_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncOpenAI]" = (
    weakref.WeakKeyDictionary())
# The loop holds its async generators weakly: each client's closer is kept here.
_closers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, object]" = weakref.WeakKeyDictionary()


def get_async_openai() -> "AsyncOpenAI | None":
    """The async client for chat completions and embeddings (for the running event loop), or
    None in offline mode.

    Its HTTP transport is aiohttp's (``openai[aiohttp]``): a streamed answer is one read per
    token, and httpx's pure-Python HTTP/1.1 parser costs ~95 µs of CPU per streamed event
    where aiohttp's C parser costs ~43 µs (200 concurrent streams of 200 tokens, measured in
    docs/benchmarks.md) — at a few hundred concurrent streams, the difference between a
    process that keeps up and one that falls behind.
    """
    if not llm_configured():
        return None
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        from openai import AsyncOpenAI, DefaultAioHttpClient  # first use: ~0.4 s to import

        client = AsyncOpenAI(
            api_key=rag_settings.OPENAI_API_KEY,
            base_url=rag_settings.OPENAI_BASE_URL or None,
            timeout=rag_settings.LLM_TIMEOUT,
            max_retries=0,
            http_client=DefaultAioHttpClient(timeout=rag_settings.LLM_TIMEOUT),
        )
        closer = _closed_at_loop_shutdown(client)
        loop.create_task(anext(closer))  # runs it to its ``yield``
        _async_clients[loop] = client
        _closers[loop] = closer
    return client


async def _closed_at_loop_shutdown(client: "AsyncOpenAI"):
    """Close ``client`` when its loop shuts down: ``asyncio.run`` (uvicorn's, a command's, a
    test's) closes the async generators still open on the loop before closing the loop, so
    the connections are released cleanly instead of reported as unclosed when collected."""
    try:
        yield
    finally:
        await client.close()


def _forget_async_clients() -> None:
    """Drop the cached async clients; each is closed on its loop (now, or at its shutdown)."""
    for loop, closer in list(_closers.items()):
        if loop.is_running():
            asyncio.run_coroutine_threadsafe(closer.aclose(), loop)
    _async_clients.clear()
    _closers.clear()


@lru_cache(maxsize=1)
def get_openai() -> "OpenAI | None":
    """The sync client (ingestion, commands), or None in offline mode."""
    if not llm_configured():
        return None
    from openai import OpenAI

    return OpenAI(
        api_key=rag_settings.OPENAI_API_KEY,
        base_url=rag_settings.OPENAI_BASE_URL or None,
        timeout=rag_settings.LLM_TIMEOUT,
        max_retries=0,
    )


def get_qdrant_client():
    """A qdrant-client for the server at ``QDRANT_URL`` (None when the embedded index is used)."""
    if not rag_settings.QDRANT_URL:
        return None
    from qdrant_client import QdrantClient

    return QdrantClient(
        url=rag_settings.QDRANT_URL,
        api_key=rag_settings.QDRANT_API_KEY or None,
        timeout=max(1, math.ceil(float(rag_settings.QDRANT_TIMEOUT))),
        check_compatibility=False,  # no extra request at start-up; the status check reports
    )


_resetters: list = []


def on_reset(func):
    """Register a function that ``reset_clients()`` calls to drop another cache (e.g. the index)."""
    _resetters.append(func)
    return func


def reset_clients() -> None:
    _forget_async_clients()
    get_openai.cache_clear()
    for func in _resetters:
        func()


_LLM_SETTINGS = frozenset({"RAG_OPENAI_API_KEY", "RAG_OPENAI_BASE_URL", "RAG_LLM_TIMEOUT"})


@receiver(setting_changed)
def _reset_on_setting_changed(*, setting: str, **kwargs) -> None:
    if setting in _LLM_SETTINGS:
        _forget_async_clients()
        get_openai.cache_clear()
