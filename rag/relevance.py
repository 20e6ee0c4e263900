"""Decisions about retrieved hits: covered or not, which page to prefer, which scope to search.

- ``decide``: whether the hits answer the question at all. The main signal is relevance
  (see ``relevance_score``) against the threshold calibrated for this index at ingestion
  (``rag.calibration``); a question naming something the docs barely mention and the hits do
  not contain is refused too, and prompt-injection phrasing is refused as an extra layer.
- ``prefer_page``: the page the user is reading moves up when it is relevant.
- ``scope_from_page_url``: Docusaurus version and locale from the page's URL
  (``/docs/next/...``, ``/fr/docs/...``, ``/docs/2.x/...``).
"""

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from . import sparse
from .calibration import FALLBACK_THRESHOLD, Calibration, calibrate
from .conf import rag_settings
from .index.cache import PerGeneration
from .scoring import RELEVANCE_HITS, CorpusStats, index_text, relevance_score

logger = logging.getLogger(__name__)

STATS_TTL = 300.0
PAGE_MIN_RATIO = 0.5

_INJECTION = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(ignore|disregard|forget|override)\b.{0,40}\b(previous|prior|above|earlier|all|your|the)\b"
        r".{0,20}\b(instructions?|rules|prompts?|directions|guidelines)\b",
        r"\b(system|hidden|initial|original|developer)\s+(prompt|instructions?|message|rules)\b",
        r"\byou\s+are\s+now\b",
        r"\b(maintenance|developer|debug|god|jailbreak|dan)\s+mode\b",
        r"\bfrom\s+now\s+on\b.{0,80}\b(answer|reply|respond|tell|say|always)\b",
        r"\breply\s+(with\s+)?['\"“]?(understood|ok|yes|confirmed)\b",
        r"\b(notice|message|instruction)s?\s+from\s+(the\s+)?(site\s+)?(admins?|administrators?|developers?|owners?)\b",
        r"\bcurl\b[^|\n]{0,200}\|\s*(sudo\s+)?(ba|z)?sh\b",
        r"\b(print|reveal|show|repeat|output|dump)\b.{0,40}\b(your|the)\b.{0,20}\b(prompt|instructions)\b",
    )
]


def looks_like_injection(text: str) -> bool:
    return any(p.search(text) for p in _INJECTION)


@dataclass(frozen=True)
class Decision:
    refused: bool
    reason: str  # "covered" | "no_hits" | "below_threshold" | "unknown_subject" |
    #              "below_dense_threshold" | "injection"
    score: float  # sparse relevance score
    dense_score: float | None = None  # best cosine similarity, when a dense check ran


# --- corpus statistics and the relevance score ---------------------------------------------


_stats_cache: PerGeneration[CorpusStats] = PerGeneration(STATS_TTL)


def corpus_stats(collection: str | None = None) -> CorpusStats | None:
    """Document frequencies of every term in the collection (cached; None if unreadable).

    Read from the index's stored chunks, so they always match what was ingested. The cache
    is keyed by the embedded index's generation (a re-index invalidates it) and otherwise
    refreshed every STATS_TTL seconds.
    """
    collection = collection or rag_settings.COLLECTION
    try:
        return _stats_cache.get(collection, lambda index: _read_stats(index, collection))
    except Exception:
        logger.warning("corpus statistics unavailable; relevance threshold not applied",
                       exc_info=True)
        return None


def _read_stats(index, collection: str) -> CorpusStats | None:
    manifest = index.manifest(collection)
    if manifest is None:
        return None
    saved = index.term_stats(collection)
    if saved is not None:
        documents, df = saved
    calibration = Calibration.from_dict(index.calibration(collection))
    if saved is None or calibration is None:
        # Not kept by this backend (Qdrant server): count and calibrate from the stored
        # chunks, encoding each once (the result is cached, see above).
        chunks = [c for cs in index.stored_chunks(collection, list(manifest.pages)).values()
                  for c in cs]
        vectors = [sparse.encode_document(index_text(c.title, c.heading_path, c.text))
                   for c in chunks]
        if saved is None:
            df: Counter = Counter()
            for vector in vectors:
                df.update(vector.indices)
            documents = len(chunks)
        if calibration is None:
            calibration = calibrate(chunks, documents=documents, df=dict(df), vectors=vectors)
    pages = {_page(entry.url): (entry.version, entry.locale)
             for entry in manifest.pages.values() if entry.url}
    return CorpusStats(documents=documents, df=dict(df), pages=pages, calibration=calibration)


def relevance_threshold(stats: CorpusStats | None) -> float:
    """RAG_RELEVANCE_THRESHOLD when a site pins one, else this index's calibrated value."""
    configured = rag_settings.RELEVANCE_THRESHOLD
    if configured is not None:
        return float(configured)
    calibration = stats.calibration if stats is not None else None
    return float(calibration.threshold) if calibration is not None else FALLBACK_THRESHOLD


# A product or API name: Capitalised (Zustand, PostgreSQL, SwiftUI, QueryClient), not at the
# start of a sentence. lowerCamel names are left out: users paste their own identifiers
# (``setPizzaCount``), which the docs cannot contain.
_NAME = re.compile(r"\b[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*\b")
# "The docs barely mention it": in at most this many chunks (two versions of one mention).
RARE_NAME_CHUNKS = 2
SUBJECT_HITS = 5


def unknown_subject(*, question: str, hits, stats: CorpusStats) -> bool:
    """Whether the question names something the docs barely mention and the hits lack.

    "How do I persist a Zustand store with its persist middleware?" on the Redux docs matches
    persist/store/middleware well, so its relevance score is high; but Zustand appears in one
    chunk of the whole corpus and in none of the hits: the docs do not cover it.
    """
    text = " ".join(index_text(h.title, h.heading_path, h.text) for h in hits[:SUBJECT_HITS]).lower()
    for match in _NAME.finditer(question):
        before = question[:match.start()].rstrip()
        if not before or before[-1] in ".?!:;([\"'`":
            continue  # sentence start: capitalised anyway
        name = match.group(0)
        terms = sparse.tokenize(name)
        if not terms or name.lower() in text:
            continue
        if stats.df.get(sparse.term_index(terms[0]), 0) <= RARE_NAME_CHUNKS:
            return True
    return False


# Cosine thresholds measured for embedding models on the Jest set (docs/quality.md); a
# model not listed here gets no dense check unless RAG_DENSE_RELEVANCE_THRESHOLD is set.
DENSE_THRESHOLDS = {"all-minilm-l6-v2": 0.324}


def dense_threshold() -> float:
    configured = rag_settings.DENSE_RELEVANCE_THRESHOLD
    if configured is not None:
        return float(configured)
    model = (rag_settings.EMBEDDING_MODEL or "").lower().replace("_", "-")
    return next((value for name, value in DENSE_THRESHOLDS.items() if name in model), 0.0)


def dense_relevance(*, query: str, hits) -> float | None:
    """Best cosine similarity between the query and the top hits, or None without embeddings.

    Chunk vectors come from the embedding cache filled at ingestion (same text), so this
    usually embeds only the query.
    """
    from .embeddings import embed_texts, embeddings_configured

    if not hits or not embeddings_configured():
        return None
    texts = [query] + [index_text(h.title, h.heading_path, h.text) for h in hits[:RELEVANCE_HITS]]
    try:
        vectors = embed_texts(texts)
    except Exception:
        logger.warning("dense relevance unavailable; using the sparse score alone", exc_info=True)
        return None
    if not vectors:
        return None

    def norm(v):
        return math.sqrt(sum(x * x for x in v)) or 1.0

    q = vectors[0]
    return max(sum(a * b for a, b in zip(q, v)) / (norm(q) * norm(v)) for v in vectors[1:])


def decide(*, question: str, query: str | None = None, hits, collection: str | None = None,
           stats: CorpusStats | None = None) -> Decision:
    """Covered or not. ``query`` is the (rewritten) search query, ``question`` the user's words.

    Refused when the question reads as a prompt injection, when nothing was retrieved, when
    the sparse relevance score is below RAG_RELEVANCE_THRESHOLD, or — with a dense model that
    has a calibrated threshold — when the best cosine similarity is below it.
    """
    if looks_like_injection(question):
        return Decision(True, "injection", 0.0)
    if not hits:
        return Decision(True, "no_hits", 0.0)
    query = query or question
    stats = stats or corpus_stats(collection)
    if stats is None:
        return Decision(False, "covered", 0.0)  # cannot judge: answer rather than refuse
    score = relevance_score(query=query, hits=hits, stats=stats)
    if score < relevance_threshold(stats):
        return Decision(True, "below_threshold", score)
    if unknown_subject(question=question, hits=hits, stats=stats):
        return Decision(True, "unknown_subject", score)
    threshold = dense_threshold()
    if threshold > 0:
        cosine = dense_relevance(query=query, hits=hits)
        if cosine is not None and cosine < threshold:
            return Decision(True, "below_dense_threshold", score, cosine)
        return Decision(False, "covered", score, cosine)
    return Decision(False, "covered", score)


def _page(url: str) -> str:
    parts = urlsplit(url or "")
    return parts.path.rstrip("/") or "/"


def prefer_page(hits: list, page_url: str | None) -> list:
    """Hits re-ranked so the current page's relevant chunks come first.

    A chunk of the page counts as relevant when its score is at least PAGE_MIN_RATIO of the
    best hit's (scores are only comparable within one result list).
    """
    if not page_url or not hits:
        return hits
    page = _page(page_url)
    top = max(h.score for h in hits)
    preferred = [h for h in hits if _page(h.url) == page and top > 0 and h.score >= PAGE_MIN_RATIO * top]
    if not preferred:
        return hits
    return preferred + [h for h in hits if h not in preferred]
