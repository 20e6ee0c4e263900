"""Values derived from a collection's live index, kept until another generation goes live.

The "not covered" statistics (``rag.relevance``) and the version/locale catalog
(``rag.scope``) are read from the index's stored chunks and manifest: too slow for every
question, and only worth recomputing when a new generation is published. Backends without
generations (a Qdrant server) recompute after ``ttl`` seconds instead.
"""

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from .base import SearchIndex
from .factory import get_index

T = TypeVar("T")


class PerGeneration(Generic[T]):
    """One cached value (the newest read wins), keyed by index, collection and generation."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self._entry: tuple[tuple, float, T] | None = None
        self._lock = threading.Lock()

    def get(self, collection: str, build: Callable[[SearchIndex], T | None]) -> T | None:
        """The cached value, or ``build(index)``'s (not kept when it is None)."""
        index = get_index()
        generation = index.current_generation(collection)
        key = (id(index), collection, generation)
        now = time.monotonic()
        with self._lock:
            entry = self._entry
        if entry and entry[0] == key and (generation is not None or now - entry[1] < self.ttl):
            return entry[2]
        value = build(index)
        if value is not None:
            with self._lock:
                self._entry = (key, now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entry = None
