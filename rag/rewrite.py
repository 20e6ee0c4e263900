"""Follow-up questions rewritten into standalone search queries.

"what about for a single file?" cannot be searched on its own: the topic lives in the earlier
turns. With an LLM configured, a short non-streamed call rewrites the question using the
recent history (prompt ``rag/prompts/rewrite.txt``); if that call fails, or offline, a
deterministic rewrite combines the question with the key terms of the last exchange: the
previous user message, and the code spans (option, flag and function names) of the last
answer. The question is repeated so its own terms weigh more than the borrowed ones
(``rag.sparse.encode_query`` weights repeated terms).
"""

import logging
import re
from dataclasses import dataclass

from .clients import llm_configured
from .exceptions import GenerationError
from .sparse import tokenize

logger = logging.getLogger(__name__)

REWRITE_MAX_TOKENS = 80
# The rewrite delays the answer: a slow model falls back to the offline rewrite quickly.
REWRITE_TIMEOUT = 8.0
HISTORY_CHARS = 1200
# A question with this many content terms and no reference to earlier turns stands alone.
STANDALONE_TERMS = 7
_ANAPHORA = re.compile(
    r"\b(it|its|that|this|these|those|them|they|there|same|also|instead|else|one|ones|"
    r"what about|how about|and)\b",
    re.IGNORECASE,
)
# Narrower than _ANAPHORA: what makes a question lean on the conversation even when its own
# words retrieve something. A connective or "what about" at the start ("and for yarn?"),
# "instead"/"the same", or a pronoun with almost nothing before it to refer to ("can I run it
# by hand", "does that also work"). A pronoun after several content words usually points
# inside the question ("the process never exits, what keeps it alive?"), and "that" after
# two is usually a relative pronoun ("tests that fail").
_LEADS_BACK = re.compile(
    r"^\W*((ok|okay|so|right|thanks|great)\W+)?"
    r"(and|or|but|also|then|what about|how about|what if|same)\b", re.IGNORECASE)
_POINTS_BACK = re.compile(r"\b(instead|else|the same|same thing)\W*$", re.IGNORECASE)
# "that" before an article or a subject is a conjunction ("assert that an error is thrown").
_CONJUNCTION_THAT = re.compile(r"\s+(a|an|the|my|our|your|his|her|it|i|we|you|they|there|this)\b",
                               re.IGNORECASE)
_PRONOUN = re.compile(r"\b(it|its|this|these|those|them|they|there|that)\b", re.IGNORECASE)
_EXPLETIVE = re.compile(r"\b(is|was|would|will|does|isn't|wouldn't)\s+it\s+"
                        r"(be|possible|ok|okay|safe|worth|necessary|better|a good|a bad)\b",
                        re.IGNORECASE)
PRONOUN_CONTEXT_TERMS = 4
THAT_CONTEXT_TERMS = 2
_CODE_SPAN = re.compile(r"`([^`\n]{1,80})`")


@dataclass(frozen=True)
class Rewrite:
    query: str
    method: str  # "none" | "llm" | "offline"


def is_standalone(question: str) -> bool:
    return len(set(tokenize(question))) >= STANDALONE_TERMS and not _ANAPHORA.search(question)


def refers_back(question: str) -> bool:
    """Whether the question points at earlier turns (see _LEADS_BACK / _PRONOUN above)."""
    if _LEADS_BACK.search(question) or _POINTS_BACK.search(question):
        return True
    text = _EXPLETIVE.sub(" ", question)
    for match in _PRONOUN.finditer(text):
        before = len(tokenize(text[:match.start()]))
        word = match.group(1).lower()
        if word == "there" and not text[match.end():].strip(" ?.!"):
            return True  # "... in there?"
        if word == "there" or (word == "that" and _CONJUNCTION_THAT.match(text, match.end())):
            continue  # "is there a way", "check that the..." are not references
        if before < (THAT_CONTEXT_TERMS if word == "that" else PRONOUN_CONTEXT_TERMS):
            return True
    return False


def _last(history: list[dict], role: str) -> str:
    for item in reversed(history or []):
        if item.get("role") == role and str(item.get("content") or "").strip():
            return str(item["content"]).strip()
    return ""


def offline_rewrite(*, question: str, history: list[dict]) -> str:
    """The question (twice, for weight), the last user message, the last answer's code spans."""
    if not history or is_standalone(question):
        return question
    previous_question = _last(history, "user")[:HISTORY_CHARS]
    answer = _last(history, "assistant")[:HISTORY_CHARS]
    spans = " ".join(dict.fromkeys(_CODE_SPAN.findall(answer)))
    parts = [question, question, previous_question, spans]
    return " ".join(p for p in parts if p).strip()


def _transcript(history: list[dict]) -> str:
    """The conversation for the rewrite prompt: the same messages the answer prompt gets
    (the caller's history cap), each clipped to HISTORY_CHARS."""
    lines = []
    for item in history or []:
        role = item.get("role")
        if role in ("user", "assistant"):
            content = str(item.get("content") or "").strip()[:HISTORY_CHARS]
            lines.append(f"{role}: {content}")
    return "\n".join(lines)


async def rewrite_query(*, question: str, history: list[dict]) -> Rewrite:
    """A standalone search query for ``question`` given the conversation so far."""
    if not history:
        return Rewrite(query=question, method="none")
    if llm_configured():
        from .generation import complete, load_prompt

        messages = [
            {"role": "system", "content": load_prompt("rewrite")},
            {
                "role": "user",
                "content": f"Conversation:\n{_transcript(history)}\n\nLatest message: {question}",
            },
        ]
        try:
            query = await complete(messages=messages, max_tokens=REWRITE_MAX_TOKENS,
                                   timeout=REWRITE_TIMEOUT)
        except GenerationError as exc:
            logger.warning("query rewrite failed (%s); using the offline rewrite", exc.code)
        else:
            query = " ".join(query.split()).strip("\"'")
            if query and len(query) <= 500:
                return Rewrite(query=query, method="llm")
    return Rewrite(query=offline_rewrite(question=question, history=history), method="offline")
