"""Factories for external clients (OpenAI-compatible LLM, search index), cached per process.

Tests call ``reset_clients()`` after changing settings. Nothing here reads settings at import
time.
"""

import math
import threading
from functools import lru_cache
from typing import TYPE_CHECKING
from pathlib import Path

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


_indexes: dict[tuple, object] = {}
_indexes_lock = threading.Lock()


def get_search_index():
    """The search index backend for the current settings, one per process and setting.

    Keyed by the settings it depends on, so a test that changes ``RAG_QDRANT_URL`` or
    ``RAG_INDEX_DIR`` gets a matching index even before ``reset_clients()``.
    """
    from .index import EdgeIndex, ServerIndex

    key = (rag_settings.QDRANT_URL, rag_settings.QDRANT_API_KEY, float(rag_settings.QDRANT_TIMEOUT),
           str(Path(rag_settings.INDEX_DIR).resolve()) if not rag_settings.QDRANT_URL else "")
    with _indexes_lock:
        index = _indexes.get(key)
        if index is None:
            if rag_settings.QDRANT_URL:
                index = ServerIndex(get_qdrant_client(), location=f"the Qdrant server at {rag_settings.QDRANT_URL}")
            else:
                index = EdgeIndex(Path(rag_settings.INDEX_DIR))
            _indexes[key] = index
        return index


def _close_indexes() -> None:
    with _indexes_lock:
        indexes = list(_indexes.values())
        _indexes.clear()
    for index in indexes:
        index.close()


_resetters = [_close_indexes]


def on_reset(func):
    """Register a function that drops another cached client (e.g. the index)."""
    _resetters.append(func)
    return func


def reset_clients() -> None:
    get_async_openai.cache_clear()
    get_openai.cache_clear()
    for func in _resetters:
        func()
