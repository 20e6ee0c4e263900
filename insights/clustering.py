"""Lexical clustering of the questions the docs failed, into topics a docs team can act on.

A question is the set of its retrieval terms (``rag.sparse.tokenize``: identifiers whole and
by their parts, light stemming, no function words), each weighted by its IDF in the docs
index when one is available: words every page uses ("jest", "config") weigh little, words the
docs never use ("cypress", "weather") weigh most, which is what separates one gap from another.

Clustering is online and greedy so that a topic, once a person has looked at it or marked it
"fixed in docs", keeps its identity: a new question joins the most similar topic when the
cosine similarity with the topic's centroid reaches ``JOIN_SIMILARITY``, else it starts one.
"""

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rag import sparse

JOIN_SIMILARITY = 0.3
LABEL_TERMS = 4

Weight = Callable[[str], float]


def uniform_weight(term: str) -> float:
    return 1.0


def question_terms(text: str) -> set[str]:
    return set(sparse.tokenize(text or ""))


@dataclass
class Centroid:
    """A topic's lexical centre: how many of its ``size`` questions contain each term."""

    terms: dict[str, int] = field(default_factory=dict)
    size: int = 0

    def add(self, terms: Iterable[str]) -> None:
        for term in terms:
            self.terms[term] = self.terms.get(term, 0) + 1
        self.size += 1


def similarity(terms: set[str], centroid: Centroid, weight: Weight) -> float:
    """Cosine between a question's weighted term set and a topic's mean term vector."""
    if not terms or not centroid.size:
        return 0.0
    q_norm = math.sqrt(sum(weight(t) ** 2 for t in terms))
    c_norm = math.sqrt(sum((weight(t) * n / centroid.size) ** 2 for t, n in centroid.terms.items()))
    if not q_norm or not c_norm:
        return 0.0
    dot = sum(weight(t) ** 2 * centroid.terms[t] / centroid.size for t in terms if t in centroid.terms)
    return dot / (q_norm * c_norm)


def best_topic(terms: set[str], centroids: list[Centroid], weight: Weight,
               threshold: float = JOIN_SIMILARITY) -> int | None:
    """Index of the centroid the question joins, or None when it starts a new topic."""
    best, best_score = None, threshold
    for position, centroid in enumerate(centroids):
        score = similarity(terms, centroid, weight)
        if score >= best_score:
            best, best_score = position, score
    return best


def cluster(texts: list[str], weight: Weight = uniform_weight) -> list[int]:
    """Topic number of each text, in order (the same online rule the rollup applies)."""
    centroids: list[Centroid] = []
    labels = []
    for text in texts:
        terms = question_terms(text)
        position = best_topic(terms, centroids, weight)
        if position is None:
            centroids.append(Centroid())
            position = len(centroids) - 1
        centroids[position].add(terms)
        labels.append(position)
    return labels


def label(centroid: Centroid, weight: Weight, n: int = LABEL_TERMS) -> str:
    """The topic's most characteristic terms: frequent in the topic and rare in the docs."""
    # Whole identifiers before their parts at equal weight, so the parts can be skipped.
    ranked = sorted(centroid.terms.items(),
                    key=lambda item: (-item[1] * weight(item[0]), -len(item[0]), item[0]))
    chosen: list[str] = []
    for term, _ in ranked:
        # Skip a part when its whole identifier is already there ("runalltimers" / "timer").
        if any(term in other and term != other for other in chosen):
            continue
        chosen.append(term)
        if len(chosen) == n:
            break
    return ", ".join(chosen) or "(no words)"


def index_weight() -> Weight:
    """IDF from the live docs index, or uniform weights when the index cannot be read."""
    from rag.relevance import corpus_stats

    stats = corpus_stats()
    if stats is None or not stats.documents:
        return uniform_weight
    cache: dict[str, float] = {}

    def weight(term: str) -> float:
        if term not in cache:
            cache[term] = stats.idf(sparse.term_index(term))
        return cache[term]

    return weight
