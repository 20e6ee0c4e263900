"""Factories for external clients (OpenAI-compatible LLM, Qdrant server), cached per process.

The search index built on them is ``rag.index.get_index()``; it imports this module, never the
reverse, and registers its reset with ``on_reset``. The cached clients are dropped when their
settings change (Django's ``setting_changed``) and by ``reset_clients()``. Nothing here reads
settings at import time.
"""

import math
from functools import lru_cache
from typing import TYPE_CHECKING

from django.core.signals import setting_changed
from django.dispatch import receiver

from .conf import rag_settings

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI


def llm_configured() -> bool:
    return bool(rag_settings.OPENAI_API_KEY)


@lru_cache(maxsize=1)
def get_async_openai() -> "AsyncOpenAI | None":
    """The async client for chat completions and embeddings, or None in offline mode."""
    if not llm_configured():
        return None
    from openai import AsyncOpenAI  # imported on first use: it costs ~0.4 s at start-up

    return AsyncOpenAI(
        api_key=rag_settings.OPENAI_API_KEY,
        base_url=rag_settings.OPENAI_BASE_URL or None,
        timeout=rag_settings.LLM_TIMEOUT,
        max_retries=0,
    )


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
    get_async_openai.cache_clear()
    get_openai.cache_clear()
    for func in _resetters:
        func()


_LLM_SETTINGS = frozenset({"RAG_OPENAI_API_KEY", "RAG_OPENAI_BASE_URL", "RAG_LLM_TIMEOUT"})


@receiver(setting_changed)
def _reset_on_setting_changed(*, setting: str, **kwargs) -> None:
    if setting in _LLM_SETTINGS:
        get_async_openai.cache_clear()
        get_openai.cache_clear()
