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
# Narrower than _ANAPHORA: words that make a question lean on the conversation even when its
# own words retrieve something ("How do I use it with ESLint?", "and for yarn?"). "that",
# "one" and "and" inside a sentence are too common in standalone questions to count.
_REFERS_BACK = re.compile(
    r"^\W*(and|or|but|also|what about|how about|then|same)\b"
    r"|\b(it|its|this|these|those|them|they|the same|instead|else|that one|the other)\b",
    re.IGNORECASE,
)
_CODE_SPAN = re.compile(r"`([^`\n]{1,80})`")


@dataclass(frozen=True)
class Rewrite:
    query: str
    method: str  # "none" | "llm" | "offline"


def is_standalone(question: str) -> bool:
    return len(set(tokenize(question))) >= STANDALONE_TERMS and not _ANAPHORA.search(question)


def refers_back(question: str) -> bool:
    """Whether the question points at earlier turns (a pronoun, "what about…", "instead")."""
    return bool(_REFERS_BACK.search(question))


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
    lines = []
    for item in (history or [])[-4:]:
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
