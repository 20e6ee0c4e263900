"""Dense embeddings, with an on-disk cache so unchanged text is never embedded twice.

``embed_texts(texts)`` returns one vector per text, or None when no embedding model is
configured (offline: the index then holds sparse vectors only). The provider is chosen by
``RAG_EMBEDDING_MODEL``: a plain model name goes to the OpenAI-compatible endpoint
(``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``) in batches; ``local:<name>`` is reserved for an
in-process model (sentence-transformers), registered in ``PROVIDERS``.

The cache is a small SQLite file in ``RAG_INDEX_DIR`` keyed by (model, sha256(text)); it lives
beside the index, outside any index generation, so rebuilding a generation re-uses it.
``EmbeddingStats`` counts the HTTP calls actually made (the number ingestion reports).
"""

import hashlib
import logging
import sqlite3
import threading
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .clients import get_openai
from .conf import rag_settings
from .exceptions import EmbeddingError

logger = logging.getLogger(__name__)

BATCH_SIZE = 64
CACHE_FILE = "embeddings.sqlite3"

Provider = Callable[[str, list[str]], list[list[float]]]


@dataclass
class EmbeddingStats:
    calls: int = 0
    texts: int = 0
    cached: int = 0


def model_key() -> str | None:
    """The configured model as stored in the index and cache (``name`` or ``name@dims``)."""
    model = rag_settings.EMBEDDING_MODEL
    if not model:
        return None
    if model.startswith("local:"):
        return model
    if not rag_settings.OPENAI_API_KEY:
        return None
    dims = rag_settings.EMBEDDING_DIMENSIONS
    return f"{model}@{dims}" if dims else model


def embeddings_configured() -> bool:
    return model_key() is not None


def _openai_provider(model: str, texts: list[str]) -> list[list[float]]:
    client = get_openai()
    if client is None:
        raise EmbeddingError("embeddings need OPENAI_API_KEY (and EMBEDDING_MODEL)")
    kwargs = {}
    if rag_settings.EMBEDDING_DIMENSIONS:
        kwargs["dimensions"] = rag_settings.EMBEDDING_DIMENSIONS
    try:
        response = client.embeddings.create(model=model, input=texts, **kwargs)
    except Exception as exc:  # the SDK raises many types; callers need one
        raise EmbeddingError(
            f"the embedding endpoint failed ({type(exc).__name__}: {exc}); check OPENAI_BASE_URL,"
            " OPENAI_API_KEY and EMBEDDING_MODEL, or unset EMBEDDING_MODEL for sparse-only search"
        ) from exc
    data = sorted(response.data, key=lambda item: item.index)
    if len(data) != len(texts):
        raise EmbeddingError(f"the embedding endpoint returned {len(data)} vectors for {len(texts)} texts")
    return [list(item.embedding) for item in data]


def _local_provider(model: str, texts: list[str]) -> list[list[float]]:
    try:
        from sentence_transformers import SentenceTransformer  # optional dependency
    except ImportError as exc:
        raise EmbeddingError(
            f"EMBEDDING_MODEL={model!r} needs the sentence-transformers package; install it or"
            " use an OpenAI-compatible embedding model"
        ) from exc
    encoder = _local_models.get(model)
    if encoder is None:
        encoder = _local_models[model] = SentenceTransformer(model.removeprefix("local:"))
    return [list(map(float, v)) for v in encoder.encode(texts, normalize_embeddings=True)]


_local_models: dict[str, object] = {}
PROVIDERS: dict[str, Provider] = {"local": _local_provider}


def _provider(model: str) -> Provider:
    prefix, _, _ = model.partition(":")
    return PROVIDERS.get(prefix, _openai_provider) if ":" in model else _openai_provider


class EmbeddingCache:
    """(model, sha256(text)) → float32 vector, in SQLite; safe across threads and processes."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, digest TEXT NOT NULL,"
                " vector BLOB NOT NULL, PRIMARY KEY (model, digest))"
            )
            self._local.conn = conn
        return conn

    @staticmethod
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get_many(self, model: str, digests: Sequence[str]) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        conn = self._connection()
        unique = list(dict.fromkeys(digests))
        for start in range(0, len(unique), 500):
            part = unique[start:start + 500]
            rows = conn.execute(
                f"SELECT digest, vector FROM embeddings WHERE model = ? AND digest IN"
                f" ({','.join('?' * len(part))})",
                [model, *part],
            )
            for digest, blob in rows:
                found[digest] = array("f", blob).tolist()
        return found

    def put_many(self, model: str, items: dict[str, list[float]]) -> None:
        conn = self._connection()
        with conn:
            conn.executemany(
                "INSERT OR REPLACE INTO embeddings (model, digest, vector) VALUES (?, ?, ?)",
                [(model, d, array("f", v).tobytes()) for d, v in items.items()],
            )

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


_caches: dict[Path, EmbeddingCache] = {}
_caches_lock = threading.Lock()


def get_cache() -> EmbeddingCache:
    path = Path(rag_settings.INDEX_DIR) / CACHE_FILE
    with _caches_lock:
        cache = _caches.get(path)
        if cache is None:
            cache = _caches[path] = EmbeddingCache(path)
        return cache


def embed_texts(texts: Sequence[str], *, stats: EmbeddingStats | None = None) -> list[list[float]] | None:
    """One vector per text (cached ones from disk), or None when embeddings are off.

    Raises ``EmbeddingError`` when the endpoint fails.
    """
    model = model_key()
    if model is None:
        return None
    stats = stats if stats is not None else EmbeddingStats()
    texts = list(texts)
    cache = get_cache()
    digests = [cache.digest(t) for t in texts]
    vectors = cache.get_many(model, digests)
    stats.texts += len(texts)
    missing: dict[str, str] = {}
    for digest, text in zip(digests, texts, strict=True):
        if digest not in vectors:
            missing.setdefault(digest, text)
    stats.cached += len(texts) - sum(1 for d in digests if d in missing)
    provider = _provider(rag_settings.EMBEDDING_MODEL)
    pending = list(missing.items())
    for start in range(0, len(pending), BATCH_SIZE):
        batch = pending[start:start + BATCH_SIZE]
        fresh = provider(rag_settings.EMBEDDING_MODEL, [text for _, text in batch])
        stats.calls += 1
        new = {digest: vector for (digest, _), vector in zip(batch, fresh, strict=True)}
        cache.put_many(model, new)
        vectors.update(new)
    return [vectors[d] for d in digests]


def embed_query(text: str) -> list[float] | None:
    """The query's vector, or None when embeddings are off. Raises ``EmbeddingError``."""
    vectors = embed_texts([text])
    return vectors[0] if vectors else None


def _reset() -> None:
    with _caches_lock:
        for cache in _caches.values():
            cache.close()
        _caches.clear()


def _register_reset() -> None:
    from .clients import on_reset

    on_reset(_reset)


_register_reset()
