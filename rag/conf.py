"""The rag app's settings, read lazily with defaults and the ``RAG_`` prefix."""

from pathlib import Path

from django.conf import settings

DEFAULTS = {
    "QDRANT_URL": "",
    "QDRANT_API_KEY": "",
    "QDRANT_TIMEOUT": 5.0,
    "INDEX_DIR": Path("data/index"),
    "COLLECTION": "docs",
    "DOCS_BASE_URL": "",
    "OPENAI_API_KEY": "",
    "OPENAI_BASE_URL": "",
    "CHAT_MODEL": "gpt-4o-mini",
    "EMBEDDING_MODEL": "",
    "EMBEDDING_DIMENSIONS": 0,
    "LLM_TIMEOUT": 60.0,
    "MAX_TOKENS": 800,
    # Below this relevance score (rag.relevance.relevance_score) a question counts as not
    # covered by the docs. None: the threshold each index calibrates on its own corpus at
    # ingestion (rag.calibration, docs/quality.md); a number pins one for every index.
    "RELEVANCE_THRESHOLD": None,
    # Cosine threshold for the dense check; None: the value measured for the configured
    # embedding model (rag.relevance.DENSE_THRESHOLDS), 0 turns the check off.
    "DENSE_RELEVANCE_THRESHOLD": None,
    # POST /api/ingest: the bearer token CI sends ("" = the endpoint is off and answers 404)
    # and the largest upload accepted (bytes, gzip or not; decompressed at most 10x that).
    "INGEST_TOKEN": "",
    "INGEST_MAX_BYTES": 20 * 1024 * 1024,
    # Dotted path of the async context manager that runs rag_eval's conversation mode through
    # the chat turn (the chat app provides it; rag does not import chat). "" turns it off.
    "CONVERSATION_RUNNER": "",
}


class RagSettings:
    def __getattr__(self, name: str):
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown rag setting: {name}")
        return getattr(settings, f"RAG_{name}", DEFAULTS[name])


rag_settings = RagSettings()
