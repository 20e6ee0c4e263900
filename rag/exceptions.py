"""The rag app's domain exceptions (mapped to HTTP by the chat app's exception handler)."""


class RagError(Exception):
    """Base class for errors raised by the rag app."""


class RetrievalUnavailable(RagError):
    """The search index cannot be reached or read right now."""


class IndexUnavailable(RetrievalUnavailable):
    """The index cannot be opened or written; the message says what to do."""


class IndexLocked(IndexUnavailable):
    """Another process holds the embedded index folder (or is already ingesting)."""


class IndexVersionMismatch(IndexUnavailable):
    """The index was built by another engine version or vector setup; rebuild it."""


class EmbeddingError(RagError):
    """The embedding endpoint failed (ingestion stops before the index is switched)."""


class IngestError(RagError):
    """Ingestion cannot run as asked (bad docs folder, unreadable file, index problem)."""


class GenerationError(RagError):
    """The LLM call failed. Raised after any answer deltas already yielded.

    ``code`` is stable (e.g. ``llm_unavailable``, ``llm_rate_limited``, ``llm_timeout``,
    ``llm_stream_interrupted``); ``retryable`` says whether the same request may succeed
    later, ``retry_after`` (seconds) when the provider said so.
    """

    def __init__(self, code: str, message: str, *, retryable: bool = False,
                 retry_after: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
