"""The orchestration the chat app calls: question in, a stream of answer events out.

``answer_stream`` follows the contract in docs/architecture.md: rewrite a follow-up into a
standalone query, search the index (scoped by the page's docs version and locale, preferring
the page the user is on), decide whether the docs cover the question, then stream an LLM
answer over the numbered context, or an extractive answer offline, or an honest refusal with
the nearest pages. Retrieval failures never raise (a ``notice`` and the answer goes on);
LLM failures raise ``GenerationError`` after the deltas already yielded.
"""

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field

from .clients import llm_configured
from .conf import rag_settings
from .exceptions import GenerationError, RetrievalUnavailable
from .extractive import extractive_answer, refusal_text
from .generation import (
    LEAK_REPLY,
    CitationFilter,
    LeakGuard,
    Usage,
    build_messages,
    filter_urls,
    stream_chat,
    system_prompt,
    urls_in,
)
from .index import note_degraded_answer
from .relevance import (
    RELEVANCE_HITS,
    Decision,
    Scope,
    corpus_stats,
    decide,
    prefer_page,
    scope_for_page,
)
from .rewrite import rewrite_query

logger = logging.getLogger(__name__)

SEARCH_K = 8
CONTEXT_K = 6
NEAREST_PAGES = 3
SNIPPET_CHARS = 220
OFFLINE_MODEL = "offline-extractive"
REFUSAL_MODEL = "refusal"


@dataclass(frozen=True)
class AnswerEvent:
    kind: str  # "sources" | "notice" | "delta" | "done"
    data: dict


@dataclass
class Retrieval:
    """What the answer is built from (also what rag_eval scores)."""

    query: str
    rewrite: str  # how the query was formed: "none" | "llm" | "offline"
    hits: list = field(default_factory=list)  # all hits, best first (page preference applied)
    decision: Decision | None = None
    failed: bool = False
    retrieval_ms: int = 0

    @property
    def refused(self) -> bool:
        return bool(self.decision and self.decision.refused)


@dataclass
class Answer:
    text: str
    sources: list[dict]
    refused: bool
    cited: list[int]
    notices: list[dict]
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    ttft_ms: int | None
    retrieval_ms: int


def _search(**kwargs):
    from . import retrieval

    return retrieval.search(**kwargs)


async def retrieve(*, question: str, history: list[dict] | None = None, page_url: str | None = None,
                   collection: str | None = None, k: int = SEARCH_K) -> Retrieval:
    """Rewrite, search (scoped, page-preferred) and decide; never raises on index failures."""
    history = history or []
    rewritten = await rewrite_query(question=question, history=history)
    result = Retrieval(query=rewritten.query, rewrite=rewritten.method)
    started = time.monotonic()
    stats = await asyncio.to_thread(corpus_stats, collection) if page_url else None
    scope = scope_for_page(page_url, stats)
    try:
        found = await asyncio.to_thread(
            _search, query=rewritten.query, k=k, collection=collection,
            version=scope.version, locale=scope.locale,
        )
        if not found.hits and (scope.version or scope.locale):
            # The page's version/locale is not indexed: search everything rather than nothing.
            scope = Scope()
            found = await asyncio.to_thread(_search, query=rewritten.query, k=k,
                                            collection=collection)
        hits = list(found.hits)
        if getattr(found, "mode", "sparse") == "hybrid":
            # The relevance decision is calibrated on the sparse ranking; fused (RRF) order
            # can push the best lexical match out of the top hits it looks at.
            relevance_hits = list((await asyncio.to_thread(
                _search, query=rewritten.query, k=RELEVANCE_HITS, collection=collection,
                version=scope.version, locale=scope.locale, sparse_only=True)).hits)
        else:
            relevance_hits = hits
    except RetrievalUnavailable as exc:
        note_degraded_answer(f"retrieval unavailable: {exc}")
        result.failed = True
        hits = relevance_hits = []
    except Exception as exc:  # the answer must go on whatever the index does
        logger.warning("retrieval failed", exc_info=True)
        note_degraded_answer(f"retrieval failed: {type(exc).__name__}")
        result.failed = True
        hits = relevance_hits = []
    result.retrieval_ms = int((time.monotonic() - started) * 1000)
    result.hits = prefer_page(hits, page_url)
    if not result.failed:
        # Corpus statistics may have to be read from the index: keep it off the event loop.
        result.decision = await asyncio.to_thread(
            decide, question=question, query=rewritten.query,
            hits=prefer_page(relevance_hits, page_url), collection=collection, stats=stats)
    logger.info(
        "rag.retrieve hits=%d refused=%s reason=%s score=%.3f rewrite=%s scope=%s/%s ms=%d",
        len(result.hits), result.refused,
        result.decision.reason if result.decision else "retrieval_failed",
        result.decision.score if result.decision else 0.0, result.rewrite,
        scope.version or "-", scope.locale or "-", result.retrieval_ms,
    )
    return result


def _snippet(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    flat = re.sub(r"\s+", " ", " ".join(lines)).strip()
    if len(flat) <= SNIPPET_CHARS:
        return flat
    cut = flat.rfind(" ", 0, SNIPPET_CHARS)
    return flat[: cut if cut > 0 else SNIPPET_CHARS] + " …"


def source_for(n: int, hit) -> dict:
    return {
        "n": n,
        "title": hit.title or "",
        "heading": hit.heading or "",
        "url": hit.url or "",
        "path": hit.path or "",
        "score": round(float(hit.score), 4),
        "snippet": _snippet(hit.text or ""),
    }


def sources_for(retrieved: Retrieval) -> list[dict]:
    """Context sources when covered; otherwise one source per nearest page."""
    if retrieved.refused:
        pages, nearest = set(), []
        for hit in retrieved.hits:
            if hit.path not in pages:
                pages.add(hit.path)
                nearest.append(hit)
            if len(nearest) == NEAREST_PAGES:
                break
        return [source_for(n, hit) for n, hit in enumerate(nearest, 1)]
    return [source_for(n, hit) for n, hit in enumerate(retrieved.hits[:CONTEXT_K], 1)]


def _chunks(retrieved: Retrieval, sources: list[dict]) -> list[dict]:
    return [
        {"n": s["n"], "title": s["title"], "heading": s["heading"], "text": hit.text or ""}
        for s, hit in zip(sources, retrieved.hits)
    ]


def _pieces(text: str) -> list[str]:
    """An offline answer streamed in paragraph-sized deltas (joined they are the text)."""
    return [piece for piece in re.findall(r"[^\n]*\n*", text) if piece]


async def answer_stream(*, question: str, history: list[dict] | None = None,
                        page_url: str | None = None,
                        collection: str | None = None) -> AsyncIterator[AnswerEvent]:
    """Events ``sources``, ``notice``*, ``delta``*, ``done`` (see docs/architecture.md)."""
    history = history or []
    retrieved = await retrieve(question=question, history=history, page_url=page_url,
                               collection=collection)
    sources = [] if retrieved.failed else sources_for(retrieved)
    refused = retrieved.refused
    yield AnswerEvent("sources", {"sources": sources, "refused": refused})

    online = llm_configured()
    if retrieved.failed:
        yield AnswerEvent("notice", {
            "code": "retrieval_unavailable",
            "message": "The documentation search is unavailable right now; "
                       + ("this answer does not use the docs." if online
                          else "no answer can be given offline."),
        })
    done = {"model": REFUSAL_MODEL, "prompt_tokens": None, "completion_tokens": None,
            "ttft_ms": None, "retrieval_ms": retrieved.retrieval_ms, "refused": refused,
            "cited": []}

    if refused or (retrieved.failed and not online):
        text = refusal_text(nearest=sources, retrieval_failed=retrieved.failed)
        yield AnswerEvent("delta", {"text": text})
        yield AnswerEvent("done", done)
        return

    if not online:
        yield AnswerEvent("notice", {
            "code": "offline_mode",
            "message": "No language model is configured: the answer quotes the documentation.",
        })
        text, cited = extractive_answer(query=retrieved.query, sources=_chunks(retrieved, sources))
        for piece in _pieces(text):
            yield AnswerEvent("delta", {"text": piece})
        yield AnswerEvent("done", {**done, "model": OFFLINE_MODEL, "cited": sorted(cited)})
        return

    chunks = None if retrieved.failed else _chunks(retrieved, sources)
    messages = build_messages(question=question, history=history, chunks=chunks)
    allowed_urls = [rag_settings.DOCS_BASE_URL] + [s["url"] for s in sources]
    # URLs quoted in the docs are kept only verbatim: nothing may be appended to them.
    exact_urls = [url for chunk in chunks or [] for url in urls_in(chunk["text"])]
    citations = CitationFilter(valid={s["n"] for s in sources})
    guard = LeakGuard(system_prompt())
    usage = Usage()

    def emit(text: str) -> AnswerEvent | None:
        text = filter_urls(text, allowed_urls, exact_urls) if text else text
        return AnswerEvent("delta", {"text": text}) if text else None

    try:
        async with aclosing(stream_chat(messages=messages, usage=usage)) as stream:
            async for text in stream:
                event = emit(guard.feed(citations.feed(text)))
                if event:
                    yield event
                if guard.leaked:
                    break
    except GenerationError:
        event = emit(guard.feed(citations.flush()) + guard.flush())
        if event:
            yield event
        raise
    if not guard.leaked:
        event = emit(guard.feed(citations.flush()) + guard.flush())
        if event:
            yield event
    if guard.leaked:
        logger.warning("rag.answer echoed the system prompt; replaced")
        yield AnswerEvent("delta", {"text": LEAK_REPLY})
    elif not guard.released:
        raise GenerationError("llm_empty_answer", "The language model returned no answer; try again.",
                              retryable=True)
    yield AnswerEvent("done", {
        **done,
        "model": usage.model or rag_settings.CHAT_MODEL,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "ttft_ms": usage.ttft_ms,
        "cited": [] if guard.leaked else sorted(citations.cited),
    })


async def answer(*, question: str, history: list[dict] | None = None, page_url: str | None = None,
                 collection: str | None = None) -> Answer:
    """The whole answer at once (``answer_stream`` collected). Raises GenerationError."""
    sources, refused, parts, notices, done = [], False, [], [], {}
    async for event in answer_stream(question=question, history=history, page_url=page_url,
                                     collection=collection):
        if event.kind == "sources":
            sources, refused = event.data["sources"], event.data["refused"]
        elif event.kind == "notice":
            notices.append(event.data)
        elif event.kind == "delta":
            parts.append(event.data["text"])
        elif event.kind == "done":
            done = event.data
    return Answer(
        text="".join(parts), sources=sources, refused=refused, cited=done.get("cited", []),
        notices=notices, model=done.get("model", ""), prompt_tokens=done.get("prompt_tokens"),
        completion_tokens=done.get("completion_tokens"), ttft_ms=done.get("ttft_ms"),
        retrieval_ms=done.get("retrieval_ms", 0),
    )


def rag_status() -> dict:
    """For GET /chat: the LLM mode and model, and whether the index answers right now."""
    online = llm_configured()
    status = {
        "llm": {"mode": "llm" if online else "offline",
                "model": rag_settings.CHAT_MODEL if online else OFFLINE_MODEL},
        "retrieval": {"ok": False},
    }
    try:
        from .index import index_status

        info = dict(index_status())
    except Exception as exc:  # status must report, not fail
        info = {"ok": False, "error": str(exc) or type(exc).__name__}
    ok = bool(info.get("ok"))
    # This is public (the widget reads it): no hosts, paths or raw errors, which go to the log.
    status["retrieval"] = {"ok": ok, "backend": info.get("backend"), "points": info.get("points")}
    if not ok:
        logger.warning("index status: not ready: %s", info.get("error", "unknown"))
        status["retrieval"]["message"] = (
            "The docs index is not available right now; answers come without sources."
        )
    return status
