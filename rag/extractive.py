"""Offline answers (no LLM configured): one focused quote of the docs, with ``[n]`` citations.

The answer is built from whole blocks of the retrieved chunks (paragraphs, lists,
admonitions, fenced code blocks, never cut inside a code block):

1. **The best section first.** Each retrieved chunk is scored by the query terms it (and its
   heading) contains, rarer terms among the candidates counting more, with a prior for the
   retriever's rank. From the best one come its lead paragraph and the blocks that match the
   query best, in document order, within a budget.
2. **A lead-in never loses what it introduces.** A paragraph ending with ":" ("do the
   following:") brings the block after it (usually the code), and a quoted code block brings
   the sentence that introduces it.
3. **At most two supporting passages** from other sections, only when they match the query
   nearly as well as the best block.

Soft-wrapped source lines are re-flowed into paragraphs, so a reader never sees the
author's line breaks as hard breaks. Citations are numbered in order of appearance from
``[1]``; the caller renumbers its sources the same way (``ExtractiveAnswer.cited`` maps each
number to the source it came from). The result is deterministic for a given query and hits.
"""

import math
import re
from collections import Counter
from dataclasses import dataclass

from .sparse import tokenize

# How many retrieved chunks are read (the caller passes its context sources, best first).
MAX_CHUNKS = 6
# Rank prior: a chunk's score is divided by (1 + RANK_DECAY * rank).
RANK_DECAY = 0.25
# Characters quoted from the best section (see CODE_SHARE; a long code block is cut at
# MAX_CODE_CHARS).
SECTION_CHARS = 1200
# Code counts at this share of its length against SECTION_CHARS: the code a lead sentence
# introduces is the answer as much as the sentence, but a section of many examples is not
# quoted whole (0.5 kept the key facts of 0 with shorter answers; 1 lost some).
CODE_SHARE = 0.5
# Supporting passages from other sections, and how well they must match (share of the best
# block's score).
MAX_SUPPORTING = 2
SUPPORT_RATIO = 0.5
SUPPORT_CHARS = 500
# A code block longer than this is cut at a line boundary and marked, never mid-line.
MAX_CODE_CHARS = 1500
# Weight of query terms found in a chunk's title/heading, relative to terms in its body.
HEADING_WEIGHT = 0.5
# The section's lead sentence(s) when its first paragraph is too long to quote whole.
LEAD_CHARS = 300
# Code blocks score as prose does (0.6 and 0.8 were measured lower).
CODE_WEIGHT = 1.0
# BM25-like length normalisation of block scores (0 = none, 1 = full; 0.3 measured best).
LENGTH_NORM = 0.3

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
# Lines that start their own line in Markdown: list items, quotes, tables, HTML, rules.
_OWN_LINE = re.compile(r"^\s*([-*+]\s|\d+[.)]\s|>|\||<|(-{3,}|\*{3,}|_{3,})\s*$)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*\[(])")
_PSEUDO_HEADING = re.compile(r"^(\*\*|__)[^*_\n]+(\*\*|__):?$")


@dataclass(frozen=True)
class Block:
    source: int  # index into the sources list
    order: int  # position inside its chunk
    text: str
    is_code: bool


@dataclass(frozen=True)
class ExtractiveAnswer:
    """The answer Markdown and, for citation ``[i]``, the ``n`` of the source it quotes
    (``cited[i - 1]``): citations are numbered in order of appearance."""

    text: str
    cited: list[int]


def split_blocks(text: str) -> list[tuple[str, bool]]:
    """``(block, is_code)`` pairs: blank-line separated blocks, fenced code kept whole."""
    blocks: list[tuple[str, bool]] = []
    current: list[str] = []
    fence: str | None = None

    def close(is_code: bool = False) -> None:
        if current and any(line.strip() for line in current):
            blocks.append(("\n".join(current).strip("\n"), is_code))
        current.clear()

    for line in text.splitlines():
        match = _FENCE.match(line)
        if fence:
            current.append(line)
            if match and match.group(1) == fence:
                close(is_code=True)
                fence = None
            continue
        if match:
            close()
            fence = match.group(1)
            current.append(line)
            continue
        if not line.strip():
            close()
            continue
        if _HEADING.match(line):
            close()
            continue  # headings are shown as the source's title, not quoted
        current.append(line)
    if fence:  # unterminated fence: keep it as code, closed
        current.append(fence)
        close(is_code=True)
    close()
    return blocks


def reflow(block: str) -> str:
    """Join soft-wrapped lines into one line per paragraph or list item.

    A line stays on its own when it starts a list item, quote, table row or HTML block, or
    when the previous line ends with a Markdown hard break (two spaces or a backslash).
    """
    lines: list[str] = []
    hard_break = False
    for line in block.splitlines():
        if not line.strip():
            continue
        if not lines or hard_break or _OWN_LINE.match(line) or lines[-1].lstrip().startswith("|"):
            lines.append(line.rstrip().removesuffix("\\").rstrip())
        else:
            lines[-1] = lines[-1] + " " + line.strip().removesuffix("\\").rstrip()
        hard_break = line.endswith("  ") or line.rstrip().endswith("\\")
    return "\n".join(lines)


def _terms(text: str) -> set[str]:
    return set(tokenize(text))


def _title(source: dict) -> str:
    return " › ".join(x for x in (source.get("title"), source.get("heading")) if x) or "Source"


def extractive_answer(*, query: str, sources: list[dict]) -> ExtractiveAnswer:
    """The focused answer for ``query`` from ``sources`` (dicts with ``n``, ``title``,
    ``heading`` and ``text``, best first)."""
    sources = sources[:MAX_CHUNKS]
    chunks = [
        [Block(source=i, order=o, text=text, is_code=code)
         for o, (text, code) in enumerate(split_blocks(s.get("text") or ""))]
        for i, s in enumerate(sources)
    ]
    blocks = [b for chunk in chunks for b in chunk]
    if not blocks:
        return ExtractiveAnswer(text="", cited=[])

    query_terms = _terms(query)
    block_terms = {(b.source, b.order): _terms(b.text) & query_terms for b in blocks}
    # Rarity among the candidate blocks: favours the words that tell these blocks apart.
    df = Counter(t for terms in block_terms.values() for t in terms)

    def weight(term: str) -> float:
        return math.log(1 + len(blocks) / (1 + df[term]))

    words = {(b.source, b.order): max(1, len(b.text.split())) for b in blocks}
    average_words = sum(words.values()) / len(words)

    def block_score(block: Block) -> float:
        score = sum(weight(t) for t in block_terms[(block.source, block.order)])
        # Long blocks match more words by chance: normalise like BM25 does.
        score /= 1 - LENGTH_NORM + LENGTH_NORM * words[(block.source, block.order)] / average_words
        return score * (CODE_WEIGHT if block.is_code else 1.0)

    def chunk_score(i: int) -> float:
        body = set().union(*(block_terms[(b.source, b.order)] for b in chunks[i])) if chunks[i] else set()
        heading = _terms(f"{sources[i].get('title', '')} {sources[i].get('heading', '')}") & query_terms
        score = sum(weight(t) for t in body) + HEADING_WEIGHT * sum(weight(t) for t in heading)
        return score / (1.0 + RANK_DECAY * i)

    best = max(range(len(sources)), key=lambda i: (chunk_score(i), -i))
    if not chunks[best]:
        best = next(i for i, chunk in enumerate(chunks) if chunk)

    section, shortened = _section_blocks(chunks[best], block_score)
    chosen: dict[int, set[int]] = {best: section}

    # Supporting passages: the best blocks of other sections, when they match nearly as well.
    top = max((block_score(b) for b in chunks[best]), default=0.0)
    others = sorted(
        (b for b in blocks if b.source != best and block_score(b) > 0),
        key=lambda b: (-block_score(b) / (1.0 + RANK_DECAY * b.source), b.source, b.order),
    )
    for block in others:
        if len(chosen) > MAX_SUPPORTING:
            break
        if block.source in chosen or block_score(block) < SUPPORT_RATIO * top:
            continue
        group = _with_context(chunks[block.source], block.order)
        if sum(len(chunks[block.source][o].text) for o in group
               if not chunks[block.source][o].is_code) > SUPPORT_CHARS * 2:
            continue
        if _duplicates(chunks[block.source], group, chosen, chunks):
            continue
        chosen[block.source] = group

    lines: list[str] = []
    cited: list[int] = []
    for source_index, orders in chosen.items():  # best section first, then supporting ones
        cited.append(sources[source_index]["n"])
        lines.append(f"**{_title(sources[source_index])}** [{len(cited)}]")
        lines.append("")
        for order in sorted(orders):
            block = chunks[source_index][order]
            lines.append(shortened[order] if source_index == best and order in shortened
                         else _render(block))
            lines.append("")
    return ExtractiveAnswer(text="\n".join(lines).rstrip() + "\n", cited=cited)


def _with_context(chunk: list[Block], order: int) -> set[int]:
    """A block plus what it cannot go without: the block a lead-in (":") introduces, and the
    sentence that introduces a code block."""
    group = {order}
    block = chunk[order]
    if not block.is_code and _is_lead_in(block.text) and order + 1 < len(chunk):
        group.add(order + 1)
    if block.is_code and order > 0 and not chunk[order - 1].is_code:
        group.add(order - 1)
    return group


def _is_lead_in(text: str) -> bool:
    """A sentence ending with ":" or a bold line standing as a heading ("**Differences**")."""
    text = text.strip()
    return text.endswith(":") or bool(_PSEUDO_HEADING.match(text))


def _section_blocks(chunk: list[Block], block_score) -> tuple[set[int], dict[int, str]]:
    """The lead of the section and its best-matching blocks, within the budget.

    Returns the block positions and, for a lead paragraph too long for what is left of the
    budget, its first sentences (the lead sentence(s) of the section).
    """
    if sum(len(b.text) * (CODE_SHARE if b.is_code else 1) for b in chunk) <= SECTION_CHARS:
        return {b.order for b in chunk}, {}  # a short section is quoted whole
    chosen: set[int] = set()
    shortened: dict[int, str] = {}
    prose = 0

    def add(order: int) -> bool:
        nonlocal prose
        group = _with_context(chunk, order) - chosen
        size = sum(len(chunk[o].text) * (CODE_SHARE if chunk[o].is_code else 1) for o in group)
        if chosen and prose + size > SECTION_CHARS:
            return False
        chosen.update(group)
        prose += size
        return True

    lead = next((b.order for b in chunk if not b.is_code), chunk[0].order)
    ranked = sorted((b for b in chunk if block_score(b) > 0),
                    key=lambda b: (-block_score(b), b.order))
    if ranked and ranked[0].order != lead:
        add(ranked[0].order)
    if not add(lead) and not chunk[lead].is_code:
        sentences = _lead_sentences(reflow(chunk[lead].text), LEAD_CHARS)
        if sentences:
            chosen.add(lead)
            shortened[lead] = sentences
            prose += len(sentences)
    for block in ranked:
        add(block.order)
    return chosen, shortened


def _lead_sentences(text: str, limit: int) -> str:
    """The first sentences of a paragraph, up to ``limit`` characters (at least one)."""
    sentences = _SENTENCE_END.split(text)
    kept = sentences[0]
    for sentence in sentences[1:]:
        if len(kept) + 1 + len(sentence) > limit:
            break
        kept += " " + sentence
    if len(kept) >= len(text):
        return text
    return kept + " …" if not kept.rstrip().endswith(":") else ""


def _duplicates(chunk: list[Block], group: set[int], chosen: dict[int, set[int]],
                chunks: list[list[Block]]) -> bool:
    """A supporting passage that repeats a quoted one (versioned or copied docs) adds nothing."""
    quoted = " ".join(_normalized(chunks[s][o].text) for s, orders in chosen.items() for o in orders)
    return any(_normalized(chunk[o].text) in quoted for o in group)


def _normalized(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def _render(block: Block) -> str:
    if not block.is_code:
        return reflow(block.text)
    text = block.text
    if len(text) <= MAX_CODE_CHARS:
        return text  # code blocks stay intact
    lines = text.splitlines()
    fence = _FENCE.match(lines[0]).group(1)
    kept, size = [], 0
    for line in lines[:-1]:
        if size + len(line) > MAX_CODE_CHARS:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept + ["…", fence])


def refusal_text(*, nearest: list[dict], retrieval_failed: bool = False) -> str:
    """The honest "not covered" answer, naming the nearest pages (no citations)."""
    if retrieval_failed:
        return (
            "I can't search the documentation right now, so I can't answer this reliably. "
            "Please try again in a moment."
        )
    text = (
        "I couldn't find this in the documentation, so I can't answer it reliably. "
        "I can only help with questions about this documentation."
    )
    titles = []
    for source in nearest:
        title = source.get("title") or source.get("path") or ""
        if title and title not in titles:
            titles.append(title)
    if titles:
        text += " The closest pages I found are: " + ", ".join(f"“{t}”" for t in titles[:3]) + "."
    return text

