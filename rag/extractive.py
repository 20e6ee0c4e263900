"""Offline answers (no LLM configured): quote the most relevant passages with ``[n]`` citations.

The passages are whole blocks of the retrieved chunks — paragraphs, list items, admonitions
and fenced code blocks, never cut inside a code block — ranked by how many of the query's
terms they contain (rarer terms among the candidates count more), with a bonus for the
better-ranked chunk. A paragraph that introduces a code block ("for example:") brings the
code block with it. The result is deterministic for a given query and hits.
"""

import math
import re
from collections import Counter
from dataclasses import dataclass

from .sparse import tokenize

MAX_PASSAGES = 3
MAX_PASSAGE_CHARS = 1200
MAX_CHUNKS = 4

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")


@dataclass(frozen=True)
class Passage:
    n: int  # source number
    order: int  # position of the block inside its chunk
    text: str
    is_code: bool
    score: float = 0.0


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


def _terms(text: str) -> set[str]:
    return set(tokenize(text))


def extractive_answer(*, query: str, sources: list[dict]) -> tuple[str, list[int]]:
    """The answer markdown and the source numbers it cites.

    ``sources`` are dicts with ``n``, ``title``, ``heading`` and ``text`` (best first).
    """
    query_terms = _terms(query)
    candidates: list[Passage] = []
    for rank, source in enumerate(sources[:MAX_CHUNKS]):
        for order, (block, is_code) in enumerate(split_blocks(source["text"])):
            candidates.append(Passage(n=source["n"], order=order, text=block, is_code=is_code,
                                      score=float(rank)))
    if not candidates:
        return "", []

    # Rarity among the candidate blocks (measured better than corpus-wide IDF here: it
    # favours the words that tell these few blocks apart).
    block_terms = [_terms(p.text) for p in candidates]
    df = Counter(t for terms in block_terms for t in terms & query_terms)
    total = len(candidates)

    def weight(term: str) -> float:
        return math.log(1 + total / (1 + df[term]))

    scored = []
    for passage, terms in zip(candidates, block_terms):
        rank = passage.score
        score = sum(weight(t) for t in terms & query_terms)
        if passage.is_code:
            score *= 0.6  # prose explains; code comes along with its paragraph
        score *= 1.0 / (1.0 + 0.25 * rank)
        scored.append(Passage(n=passage.n, order=passage.order, text=passage.text,
                              is_code=passage.is_code, score=score))

    by_position = {(p.n, p.order): p for p in scored}
    chosen: list[Passage] = []
    used_chars = 0
    for passage in sorted(scored, key=lambda p: (-p.score, p.n, p.order)):
        if len(chosen) >= MAX_PASSAGES or passage.score <= 0:
            break
        if any(c.n == passage.n and c.order == passage.order for c in chosen):
            continue
        group = [passage]
        following = by_position.get((passage.n, passage.order + 1))
        if not passage.is_code and following and following.is_code and passage.text.rstrip().endswith(":"):
            group.append(following)
        size = sum(len(p.text) for p in group)
        if chosen and used_chars + size > MAX_PASSAGE_CHARS * MAX_PASSAGES:
            continue
        chosen.extend(group)
        used_chars += size
    if not chosen:
        # No block shares a term with the query: quote the start of the best chunk.
        top_n = sources[0]["n"]
        chosen = [min((p for p in scored if p.n == top_n), key=lambda p: p.order,
                      default=scored[0])]

    titles = {s["n"]: " › ".join(x for x in (s.get("title"), s.get("heading")) if x) for s in sources}
    # Present passages grouped by source, in the sources' order, blocks in document order.
    chosen.sort(key=lambda p: (p.n, p.order))
    lines = ["Here is what the documentation says:", ""]
    cited: list[int] = []
    current_n = None
    for passage in chosen:
        if passage.n != current_n:
            current_n = passage.n
            cited.append(passage.n)
            lines.append(f"**{titles.get(passage.n) or 'Source'}** [{passage.n}]")
            lines.append("")
        lines.append(_quote(passage))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n", cited


def _quote(passage: Passage) -> str:
    text = passage.text
    if passage.is_code:
        return text  # code blocks stay intact (a blockquote would break copy-paste)
    if len(text) > MAX_PASSAGE_CHARS:
        cut = text.rfind(" ", 0, MAX_PASSAGE_CHARS)
        text = text[: cut if cut > 0 else MAX_PASSAGE_CHARS].rstrip() + " …"
    return "\n".join("> " + line if line.strip() else ">" for line in text.splitlines())


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
