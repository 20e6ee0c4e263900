"""Sparse BM25-style vectors computed client-side, so retrieval works with no model.

Qdrant applies the IDF part (``Modifier.IDF`` on the sparse vector); documents carry the
BM25 term-frequency saturation with length normalisation, queries carry one per term.
Tokens are hashed to stable 31-bit indices, so no vocabulary has to be stored.

Tokenisation suits docs: identifiers are indexed whole and by their parts
(``setupFilesAfterEnv`` → ``setupfilesafterenv``, ``setup``, ``files``, ``after``, ``env``;
``jest.config.js`` → ``jest.config.js``, ``jest``, ``config``, ``js``; ``--watch`` → ``watch``).
"""

import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass

BM25_K1 = 1.2
BM25_B = 0.75
# Typical chunk length in tokens; documents are normalised against it.
AVERAGE_LENGTH = 120.0

_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/@$]*[A-Za-z0-9_]|[A-Za-z0-9_]")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_SPLIT = re.compile(r"[._\-/@$]+")

STOPWORDS = frozenset(
    """a an and are as at be but by can do does for from how i if in into is it its me my
    of on or so that the their them then there these this to was we what when where which
    who why will with you your should would could i'm im it's don't""".split()
)


@dataclass(frozen=True)
class SparseVector:
    indices: list[int]
    values: list[float]


def tokenize(text: str) -> list[str]:
    """Lower-cased terms of ``text``: whole identifiers plus their parts, no stopwords."""
    terms: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group(0)
        lowered = word.lower()
        parts = [p for p in _SPLIT.split(word) if p]
        pieces = []
        for part in parts:
            pieces.extend(_CAMEL.findall(part) or [part])
        pieces = [p.lower() for p in pieces]
        if lowered not in STOPWORDS:
            terms.append(lowered)
        if len(pieces) > 1:
            for piece in pieces:
                if piece != lowered and piece not in STOPWORDS:
                    terms.append(piece)
    return terms


def term_index(term: str) -> int:
    return zlib.crc32(term.encode("utf-8")) & 0x7FFFFFFF


def _vector(weights: dict[int, float]) -> SparseVector:
    indices = sorted(weights)
    return SparseVector(indices=indices, values=[weights[i] for i in indices])


def encode_document(text: str) -> SparseVector:
    terms = tokenize(text)
    counts = Counter(term_index(t) for t in terms)
    length = max(len(terms), 1)
    norm = BM25_K1 * (1 - BM25_B + BM25_B * length / AVERAGE_LENGTH)
    return _vector({i: (tf * (BM25_K1 + 1)) / (tf + norm) for i, tf in counts.items()})


def encode_query(text: str) -> SparseVector:
    """One weight per distinct term; a repeated term weighs more, sub-linearly (1 + ln tf).

    Repetition is how a caller emphasises part of a query (rag.rewrite repeats the user's own
    question so it outweighs terms borrowed from earlier turns).
    """
    counts = Counter(term_index(t) for t in tokenize(text))
    return _vector({i: 1.0 + math.log(tf) for i, tf in counts.items()})


def idf(document_count: int, containing: int) -> float:
    """Qdrant's IDF formula, for code that needs to reason about scores."""
    return math.log(1 + (document_count - containing + 0.5) / (containing + 0.5))
