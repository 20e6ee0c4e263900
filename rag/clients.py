"""Factories for external clients (OpenAI-compatible LLM, search index), cached per process.

Tests call ``reset_clients()`` after changing settings. Nothing here reads settings at import
time.
"""

from functools import lru_cache

from openai import AsyncOpenAI, OpenAI

from .conf import rag_settings


def llm_configured() -> bool:
    return bool(rag_settings.OPENAI_API_KEY)


@lru_cache(maxsize=1)
def get_async_openai() -> AsyncOpenAI | None:
    """The async client for chat completions and embeddings, or None in offline mode."""
    if not llm_configured():
        return None
    return AsyncOpenAI(
        api_key=rag_settings.OPENAI_API_KEY,
        base_url=rag_settings.OPENAI_BASE_URL or None,
        timeout=rag_settings.LLM_TIMEOUT,
        max_retries=0,
    )


@lru_cache(maxsize=1)
def get_openai() -> OpenAI | None:
    """The sync client (ingestion, commands), or None in offline mode."""
    if not llm_configured():
        return None
    return OpenAI(
        api_key=rag_settings.OPENAI_API_KEY,
        base_url=rag_settings.OPENAI_BASE_URL or None,
        timeout=rag_settings.LLM_TIMEOUT,
        max_retries=0,
    )


_resetters = []


def on_reset(func):
    """Register a function that drops another cached client (e.g. the index)."""
    _resetters.append(func)
    return func


def reset_clients() -> None:
    get_async_openai.cache_clear()
    get_openai.cache_clear()
    for func in _resetters:
        func()
