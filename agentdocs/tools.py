"""What the MCP tools do, independent of MCP: search the index, return a page, answer.

Each function validates its arguments (``InvalidArgument`` naming the field), is read-only
towards the docs, and returns plain dicts the MCP layer serialises. ``ask`` goes through the
chat's own turn (``chat.turns``), so an agent gets exactly the answer the widget would give,
the question is stored with ``channel=mcp`` and the chat's budgets apply.
"""

import asyncio
import logging

from chat import turns
from chat.conf import chat_settings
from chat.events import Reply
from chat.exceptions import ChatError
from chat.models import ChatSession
from chat.selectors import history_within_cap
from rag.exceptions import RetrievalUnavailable
from rag.services import source_for
from rag.types import collect

from .conf import agent_settings
from .exceptions import AgentDocsError, DocsUnavailable, InvalidArgument, PageNotFound
from .pages import docs_snapshot

logger = logging.getLogger("agentdocs.tools")

ROLES = ("user", "assistant")


def _text_arg(value, *, field: str, limit: int, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidArgument(f"{field} must be a string.", field=field)
    value = value.strip()
    if not value:
        if not required:
            return None
        raise InvalidArgument(f"{field} must not be empty.", field=field)
    if "\x00" in value:
        raise InvalidArgument(f"{field} must not contain NUL characters.", field=field)
    if len(value) > limit:
        raise InvalidArgument(
            f"{field} is {len(value)} characters; the limit is {limit}. Shorten it.", field=field)
    return value


def _search(query: str, k: int, version: str | None, locale: str | None):
    from rag import retrieval

    return retrieval.search(query=query, k=k, version=version, locale=locale)


async def search_docs(*, query: str, version: str | None = None, locale: str | None = None,
                      k: int = 5) -> dict:
    """The ``k`` best-matching sections, best first."""
    limit = agent_settings.MAX_QUERY_CHARS
    query = _text_arg(query, field="query", limit=limit)
    version = _text_arg(version, field="version", limit=100, required=False)
    locale = _text_arg(locale, field="locale", limit=35, required=False)
    most = agent_settings.SEARCH_MAX_K
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= most:
        raise InvalidArgument(f"k must be a whole number from 1 to {most}.", field="k")
    try:
        found = await asyncio.to_thread(_search, query, k, version, locale)
    except RetrievalUnavailable as exc:
        logger.warning("agentdocs.search_docs index unavailable: %s", exc)
        raise DocsUnavailable() from None
    results = []
    for n, hit in enumerate(found.hits, 1):
        source = source_for(n, hit)
        results.append({
            "rank": n, "title": source["title"], "heading_path": list(hit.heading_path),
            "url": source["url"], "path": source["path"], "snippet": source["snippet"],
            "score": source["score"], "version": hit.version, "locale": hit.locale,
        })
    return {"query": query, "results": results}


async def get_page(*, url_or_path: str) -> dict:
    """One indexed page as Markdown (see ``agentdocs.pages``)."""
    ref = _text_arg(url_or_path, field="url_or_path", limit=agent_settings.MAX_QUERY_CHARS)
    snapshot = await asyncio.to_thread(docs_snapshot)
    page = snapshot.find(ref)
    if page is None:
        raise PageNotFound(
            f"No indexed page matches {ref[:200]!r}. Pass a page URL (as search_docs returns "
            "it), its path such as /docs/getting-started, or a docs file path.",
            field="url_or_path")
    return {"title": page.title, "url": page.url, "path": page.path, "version": page.version,
            "locale": page.locale, "markdown": page.markdown}


def _history(history) -> list[dict]:
    if history is None:
        return []
    if not isinstance(history, list):
        raise InvalidArgument("history must be a list of {role, content} messages.",
                              field="history")
    most = agent_settings.ASK_MAX_HISTORY
    if len(history) > most:
        raise InvalidArgument(f"history has {len(history)} messages; at most {most} are "
                              "accepted (send the most recent ones).", field="history")
    cleaned = []
    for i, item in enumerate(history):
        field = f"history[{i}]"
        if not isinstance(item, dict) or item.get("role") not in ROLES:
            raise InvalidArgument(f"{field} must be an object with role 'user' or 'assistant' "
                                  "and a content string.", field=field)
        content = _text_arg(item.get("content"), field=f"{field}.content",
                            limit=chat_settings.MAX_MESSAGE_CHARS)
        cleaned.append({"role": item["role"], "content": content})
    return history_within_cap(cleaned)


async def ask(*, question: str, history: list | None = None) -> dict:
    """The chat's answer to ``question`` with its sources (``refused`` when not covered)."""
    question = _text_arg(question, field="question", limit=chat_settings.MAX_MESSAGE_CHARS)
    earlier = _history(history)
    try:
        turn = await turns.turn_prepare(message=question, channel=ChatSession.Channel.MCP)
    except ChatError as exc:
        raise AgentDocsError(exc.message, field=exc.field, retry_after=exc.retry_after) from None
    if earlier and not turn.replay:
        # A fresh session per call: the conversation so far is the agent's, not stored here.
        turn.history = earlier
    reply = await collect(turns.turn_events(turn), Reply())
    if reply.error is not None:
        retry = reply.error.retry_after
        raise AgentDocsError(reply.error.message + (f" Retry in {retry} s." if retry else ""),
                             retry_after=retry)
    notices = [notice.message for notice in reply.notices]
    if reply.refused:
        notices.append("The documentation does not cover this question; the sources are the "
                       "nearest pages, not an answer.")
    return {
        "answer": reply.text, "refused": reply.refused, "notices": notices,
        "sources": [{k: s.get(k) for k in ("n", "title", "heading", "url", "snippet", "score")}
                    for s in reply.sources],
    }
