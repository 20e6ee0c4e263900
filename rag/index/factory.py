"""The one accessor for the configured index: ``get_index()``, shared per process.

The backend follows the settings: ``ServerIndex`` when ``RAG_QDRANT_URL`` is set (its client
from ``rag.clients``), else ``EdgeIndex`` under ``RAG_INDEX_DIR``. The instance is dropped and
closed when one of those settings changes (Django's ``setting_changed``, sent by
``override_settings`` and pytest-django's ``settings``, as DRF's ``api_settings`` does) and by
``rag.clients.reset_clients()``. This module imports ``rag.clients``, never the reverse.
"""

import threading
from pathlib import Path

from django.core.signals import setting_changed
from django.dispatch import receiver

from ..clients import get_qdrant_client, on_reset
from ..conf import rag_settings
from .base import SearchIndex
from .edge import EdgeIndex
from .server import ServerIndex

INDEX_SETTINGS = frozenset({"RAG_QDRANT_URL", "RAG_QDRANT_API_KEY", "RAG_QDRANT_TIMEOUT", "RAG_INDEX_DIR"})

_current: dict[str, tuple[tuple, SearchIndex]] = {}
_lock = threading.Lock()


def _settings_key() -> tuple:
    # The raw values: resolving INDEX_DIR here cost ~60 µs per call, several calls per question.
    return (rag_settings.QDRANT_URL, rag_settings.QDRANT_API_KEY, rag_settings.QDRANT_TIMEOUT,
            rag_settings.INDEX_DIR)


def get_index() -> SearchIndex:
    """The search index backend for the current settings, one per process.

    Also checked against the settings it depends on, so settings changed without the signal
    still get a matching index.
    """
    key = _settings_key()
    stale = None
    with _lock:
        cached = _current.get("index")
        if cached is not None and cached[0] == key:
            return cached[1]
        if rag_settings.QDRANT_URL:
            index = ServerIndex(get_qdrant_client(), location=f"the Qdrant server at {rag_settings.QDRANT_URL}")
        else:
            index = EdgeIndex(Path(rag_settings.INDEX_DIR))
        if cached is not None:
            stale = cached[1]
        _current["index"] = (key, index)
    if stale is not None:
        stale.close()
    return index


@on_reset
def reset_index() -> None:
    """Close and forget the shared index; the next ``get_index()`` opens a fresh one."""
    with _lock:
        cached = _current.pop("index", None)
    if cached is not None:
        cached[1].close()


@receiver(setting_changed)
def _reset_on_setting_changed(*, setting: str, **kwargs) -> None:
    if setting in INDEX_SETTINGS:
        reset_index()
