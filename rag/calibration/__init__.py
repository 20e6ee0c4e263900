"""The "not covered" threshold of one index, measured on the index's own corpus.

A single global threshold cannot transfer: relevance scores depend on a corpus's size,
vocabulary and page style. So at ingestion each index scores two sets of questions with the
same ranking and the same ``relevance_score`` the chat uses:

- off-topic questions (``offtopic.txt``, bundled): cooking, geography, chit-chat… what no
  software documentation answers; their scores show how well *anything* matches here;
- questions built from the corpus's own headings ("How do I <heading>?"): what a covered
  question scores at the very least.

The threshold sits at the top of the off-topic scores (their 0.9 quantile), and
never above a low quantile of the heading questions, so a corpus whose off-topic noise is
high still answers its own topics. It is stored with the index generation (``stats.json``)
and reported by ``rag_search``. A site can still pin one with ``RAG_RELEVANCE_THRESHOLD``.
"""

import math
import re
from collections import defaultdict
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from .. import sparse
from ..scoring import RELEVANCE_HITS, CorpusStats, index_text, relevance_of_vectors

OFFTOPIC_QUANTILE = 0.9
# Added to the off-topic quantile. Measured: 0 (a margin of 0.08 refused 4-8% of the
# answerable questions on every corpus; near-misses are left to the named-subject check).
OFFTOPIC_MARGIN = 0.0
HEADING_QUANTILE = 0.05
HEADING_SAMPLE = 80
# Without a corpus to measure (tiny test indexes): the value measured on the Jest set.
FALLBACK_THRESHOLD = 0.3189
_HEADING_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")


@dataclass(frozen=True)
class Calibration:
    threshold: float
    offtopic_quantile: float
    heading_quantile: float
    offtopic_questions: int
    heading_questions: int

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "Calibration | None":
        if not isinstance(data, dict):
            return None
        try:
            return cls(**{k: data[k] for k in cls.__dataclass_fields__})
        except (KeyError, TypeError):
            return None


@dataclass(frozen=True)
class _Doc:
    title: str
    heading_path: list
    text: str


@lru_cache(maxsize=1)
def offtopic_questions() -> tuple[str, ...]:
    path = Path(__file__).with_name("offtopic.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def heading_questions(docs: list[_Doc], limit: int = HEADING_SAMPLE) -> list[str]:
    """"How do I <heading>?" for an even sample of the corpus's distinct headings."""
    headings = []
    seen = set()
    for doc in docs:
        heading = (doc.heading_path[-1] if doc.heading_path else doc.title) or ""
        words = _HEADING_WORDS.findall(heading)
        key = " ".join(words).lower()
        if len(words) >= 2 and key not in seen:
            seen.add(key)
            headings.append(" ".join(words))
    if len(headings) > limit:
        step = len(headings) / limit
        headings = [headings[int(i * step)] for i in range(limit)]
    return [f"How do I {h[0].lower() + h[1:]}?" for h in headings]


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class _Scorer:
    """The index's sparse ranking (BM25 documents × IDF-weighted query), in memory."""

    def __init__(self, vectors: list, documents: int, df: dict[int, int]):
        self.vectors = vectors
        self.documents = documents
        self.df = df
        self.postings: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for n, vector in enumerate(vectors):
            for term, value in zip(vector.indices, vector.values):
                self.postings[term].append((n, value))

    def top(self, query: str, k: int = RELEVANCE_HITS) -> list:
        vector = sparse.encode_query(query)
        scores: dict[int, float] = defaultdict(float)
        for term, weight in zip(vector.indices, vector.values):
            idf = sparse.idf(self.documents, self.df.get(term, 0))
            for n, value in self.postings.get(term, ()):
                scores[n] += weight * idf * value
        best = sorted(scores, key=lambda n: -scores[n])[:k]
        return [self.vectors[n] for n in best]


def calibrate(chunks, *, documents: int, df: dict[int, int], vectors: list | None = None) -> Calibration:
    """The threshold for an index holding ``chunks`` (anything with title/heading_path/text).

    ``vectors``: the chunks' sparse document vectors when the caller has them already
    (ingestion does), which saves encoding the corpus a second time.
    """
    docs = [_Doc(c.title, list(c.heading_path or []), c.text) for c in chunks]
    if vectors is None:
        vectors = [sparse.encode_document(index_text(d.title, d.heading_path, d.text)) for d in docs]
    stats = CorpusStats(documents=documents, df=df)
    scorer = _Scorer(vectors, documents, df)

    def scores(questions) -> list[float]:
        return [relevance_of_vectors(query=q, documents=scorer.top(q), stats=stats)
                for q in questions]

    offtopic = scores(offtopic_questions())
    own = scores(heading_questions(docs))
    if not docs or not own:
        return Calibration(FALLBACK_THRESHOLD, 0.0, 0.0, len(offtopic), len(own))
    high_offtopic = _quantile(offtopic, OFFTOPIC_QUANTILE)
    low_own = _quantile(own, HEADING_QUANTILE)
    threshold = min(high_offtopic + OFFTOPIC_MARGIN, low_own)
    return Calibration(round(threshold, 4), round(high_offtopic, 4), round(low_own, 4),
                       len(offtopic), len(own))
