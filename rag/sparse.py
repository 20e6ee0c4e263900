"""Sparse BM25-style vectors computed client-side, so retrieval works with no model.

Qdrant applies the IDF part (``Modifier.IDF`` on the sparse vector); documents carry the
BM25 term-frequency saturation with length normalisation, queries carry one per term.
Tokens are hashed to stable 31-bit indices, so no vocabulary has to be stored.

Tokenisation suits docs: identifiers are indexed whole and by their parts
(``setupFilesAfterEnv`` → ``setupfilesafterenv``, ``setup``, ``file``, ``after``, ``env``;
``jest.config.js`` → ``jest.config.js``, ``jest``, ``config``, ``js``; ``--watch`` → ``watch``),
plain words are lightly stemmed (plurals, -ing, -ed), contractions folded, and common English
function words dropped. Each change was measured on the Jest question set (docs/quality.md).
"""

import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass

# Bump when tokenize() changes: every page's hash changes, so ingestion re-encodes it.
TOKENIZER_VERSION = 2
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
    who why will with you your should would could i'm im it's don't
    am been being did doing had has have having he her hers him his our ours she than too
    very were while whom yours dont doesnt didnt cant isnt arent wont  shouldnt wouldnt
    couldnt ive youre theyre thats whats hows theres lets us they any some such
    just really actually please thanks thank hi hello hey ok okay also still even""".split()
)
# Contractions and possessives are folded before tokenising: "doesn't" → "doesnt",
# "React's" → "React", "I'm" → "I".
_CONTRACTION = re.compile(r"(?<=[A-Za-z])['’](?:(s|ll|re|ve|d|m)\b|(t)\b)", re.IGNORECASE)


def _fold_contractions(text: str) -> str:
    return _CONTRACTION.sub(lambda m: m.group(2) or "", text)


@dataclass(frozen=True)
class SparseVector:
    indices: list[int]
    values: list[float]


_PLAIN = re.compile(r"^[a-z]+$")


def stem(word: str) -> str:
    """A light English stemmer for plain lower-case words (plurals, -ing, -ed).

    "failures" → "failure", "mocking" → "mock", "mocked" → "mock", "libraries" → "library".
    Only plain words are stemmed: a whole identifier (``tohavebeencalled``) stays exact.
    """
    if len(word) < 4 or not _PLAIN.match(word):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            if len(word) > 4 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # "stopping" → "stop", but "installing" → "install"
            break
    return word


def tokenize(text: str) -> list[str]:
    """Terms of ``text``: whole identifiers (exact) plus their stemmed parts, no stopwords.

    ``jest.runAllTimers()`` → ``jest.runalltimers``, ``runalltimers``, ``jest``, ``run``,
    ``all``, ``timer``: a user typing ``runAllTimers``, ``timers`` or the full call finds it.
    """
    terms: list[str] = []
    for match in _WORD.finditer(_fold_contractions(text)):
        word = match.group(0)
        lowered = word.lower()
        parts = [p for p in _SPLIT.split(word) if p]
        exact, pieces = [], []
        for part in parts:
            camel = _CAMEL.findall(part) or [part]
            if len(parts) > 1 and len(camel) > 1:
                exact.append(part.lower())  # a dotted/dashed identifier's own identifiers
            pieces.extend(c.lower() for c in camel)
        if len(pieces) > 1:
            if lowered not in STOPWORDS:
                terms.append(lowered)
            terms.extend(exact)
            terms.extend(stem(p) for p in pieces if p != lowered and p not in STOPWORDS)
        elif lowered not in STOPWORDS:
            terms.append(stem(lowered))
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
