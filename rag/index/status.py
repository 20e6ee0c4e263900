"""How the index is doing, for GET /chat and /readyz: its status and the degraded-answer count."""

import logging
import os
import threading

from ..conf import rag_settings
from .factory import get_index

logger = logging.getLogger(__name__)

_degraded = {"count": 0}
_degraded_lock = threading.Lock()


def note_degraded_answer(reason: str) -> int:
    """Count (per process) and log an answer given without retrieval; returns the count.

    Such answers still return HTTP 200, so this log line and the ``degraded_answers`` figure
    in ``/readyz`` are how an operator sees them.
    """
    with _degraded_lock:
        _degraded["count"] += 1
        count = _degraded["count"]
    logger.error("answer degraded: no retrieval (%s); %d degraded answers in process %d",
                 reason, count, os.getpid())
    return count


def degraded_answers() -> int:
    return _degraded["count"]


def index_status(collection: str | None = None) -> dict:
    """``{"ok", "backend", "collection", "points", "error"?, "degraded_answers"}``; never raises."""
    collection = collection or rag_settings.COLLECTION
    try:
        index = get_index()
    except Exception as exc:  # noqa: BLE001 - status reports, it never raises
        return {"ok": False, "backend": "qdrant" if rag_settings.QDRANT_URL else "edge",
                "collection": collection, "error": str(exc), "degraded_answers": degraded_answers()}
    return {**index.status(collection), "degraded_answers": degraded_answers()}
