"""The sparse relevance score: how well the best retrieved chunks match a question.

One owner for what both the "not covered" decision (``rag.relevance``) and the per-index
calibration of its threshold (``rag.calibration``) compute, so the two always measure the
same thing and neither imports the other.
"""

import math
from dataclasses import dataclass, field

from . import sparse

# The top hits whose best match is the relevance score.
RELEVANCE_HITS = 3


@dataclass(frozen=True)
class CorpusStats:
    documents: int
    df: dict[int, int]  # term index → number of chunks containing the term
    # page path (URL path, no trailing slash) → (version, locale), for scoping by page_url
    pages: dict[str, tuple[str, str]] = field(default_factory=dict)
    # rag.calibration.Calibration of this index (None: not calibrated, the fallback applies)
    calibration: object = None

    def idf(self, term: int) -> float:
        return sparse.idf(self.documents, self.df.get(term, 0))


def index_text(title: str, heading_path, text: str) -> str:
    """A chunk's text as the relevance score reads it: its breadcrumb, then its body."""
    return f"{' > '.join([title or '', *(heading_path or [])])}\n\n{text or ''}"


def relevance_score(*, query: str, hits, stats: CorpusStats) -> float:
    """How well the best of the top hits matches the query, comparable across queries.

    The BM25 score S of the best of the first RELEVANCE_HITS hits (computed here from the
    hit text, so it does not depend on the index's score or on hybrid fusion), normalised as
    S / sqrt(M × U): M is the query's maximum attainable score (the sum over its terms of
    query weight × IDF × (k1 + 1), terms absent from the corpus counting with full IDF), U the
    score of one perfectly matched unique term. That is the geometric mean of "share of the
    query matched" (S / M, which punishes long chatty questions) and "amount matched" (S / U,
    which lets any long question pass); it was the best of the normalisations measured on the
    Jest set (docs/quality.md), and is dimensionless, so it carries over to other corpora.
    """
    if not hits:
        return 0.0
    documents = [sparse.encode_document(index_text(h.title, h.heading_path, h.text))
                 for h in hits[:RELEVANCE_HITS]]
    return relevance_of_vectors(query=query, documents=documents, stats=stats)


def relevance_of_vectors(*, query: str, documents: list, stats: CorpusStats) -> float:
    """``relevance_score`` over already encoded hit vectors (rag.calibration reuses them)."""
    query_vector = sparse.encode_query(query)
    if not query_vector.indices or not documents:
        return 0.0
    weights = dict(zip(query_vector.indices, query_vector.values))
    mass = sum(w * stats.idf(t) * (sparse.BM25_K1 + 1) for t, w in weights.items())
    best = 0.0
    for document in documents[:RELEVANCE_HITS]:
        score = sum(weights[t] * stats.idf(t) * v
                    for t, v in zip(document.indices, document.values) if t in weights)
        best = max(best, score)
    # One perfectly matched term absent elsewhere: the unit that makes scores comparable
    # across corpora of different sizes (IDF grows with the log of the chunk count).
    unit = sparse.idf(stats.documents, 0) * (sparse.BM25_K1 + 1)
    return best / math.sqrt(mass * unit) if mass > 0 and unit > 0 else 0.0
