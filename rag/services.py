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
from contextvars import ContextVar
from dataclasses import replace

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
    stream_chat,
    system_prompt,
)
from .index import note_degraded_answer
from .link_filter import LinkPolicy, urls_in
from .relevance import (
    RELEVANCE_HITS,
    corpus_stats,
    decide,
    prefer_page,
)
from .rewrite import refers_back, rewrite_query
from .scope import ScopeChoice, choose_scope_for
from .types import Answer, Delta, Done, Event, Notice, Retrieval, Scope, Source, Sources, collect

logger = logging.getLogger(__name__)

SEARCH_K = 8
CONTEXT_K = 6
NEAREST_PAGES = 3
SNIPPET_CHARS = 220
# Deltas that arrive within this window of the last one sent go out together as one event
# (an animation frame is ~16 ms; a reader cannot tell 30 ms apart). The first is never held.
COALESCE_SECONDS = 0.03
OFFLINE_MODEL = "offline-extractive"
REFUSAL_MODEL = "refusal"
SELECTION_SEARCH_CHARS = 500  # how much of a selected passage joins the search query


def _search(**kwargs):
    from . import retrieval

    return retrieval.search(**kwargs)


# rag_eval's conversation mode drives the real chat API and reads here what each turn
# retrieved (and asks for a deeper ranking, so recall@5 sees five distinct pages); unset in
# production, where it costs one ContextVar lookup.
RETRIEVAL_PROBE: ContextVar[list | None] = ContextVar("rag_retrieval_probe", default=None)
PROBE_K: ContextVar[int | None] = ContextVar("rag_probe_k", default=None)
FUSION_RRF_K = 60
FUSE_FOLLOWUPS = True
REWRITE_WEIGHT = 4.0


def _fuse(*rankings: tuple[list, float]) -> list:
    """Weighted reciprocal-rank fusion of (hits, weight) lists; a chunk in several adds up."""
    scores: dict[str, float] = {}
    first: dict[str, object] = {}
    for hits, weight in rankings:
        for rank, hit in enumerate(hits, 1):
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + weight / (FUSION_RRF_K + rank)
            first.setdefault(hit.chunk_id, hit)
    return [first[c] for c in sorted(scores, key=lambda c: -scores[c])]


def _previous_question(history: list[dict]) -> str:
    for item in reversed(history):
        if item.get("role") == "user" and str(item.get("content") or "").strip():
            return str(item["content"]).strip()
    return ""


async def _same_topic(question: str, alone: list, history: list[dict], *, k: int, collection,
                      scope: Scope) -> bool:
    """Whether a question that points at nothing still continues the last turn's topic: the
    best page it finds alone is the best page of the last question (searched alone too: the
    rewrite holds the question's own words, so its pages always resemble the question's).
    Any overlap deeper in the two rankings is not enough: a long tutorial page matches
    almost any question somewhere."""
    previous = _previous_question(history)
    if not previous or not alone:
        return False
    found = await asyncio.to_thread(_search, query=previous, k=k, collection=collection,
                                    version=scope.version, locale=scope.locale)
    return bool(found.hits) and alone[0].path == found.hits[0].path


async def _own_words(*, question: str, history: list[dict], hits: list, relevance_hits: list,
                     scope: Scope, k: int, collection, page_url, stats, result) -> tuple[list, list]:
    """The hits to use when the query was rewritten from history.

    The question as asked is searched too (same scope). Its own results win when they are
    relevant and it does not point back at the conversation ("it", "what about…"): a new
    topic in a long chat must not inherit the old one. When it points back, both rankings
    are fused. When it retrieves nothing relevant alone, the rewrite decides only if the
    question is still on the conversation's topic: it points back, or its own best pages
    are among the previous question's (an elliptical "can visitors pick the language from
    a menu?" after a question on translations). An unrelated question asked after docs questions
    ("who won the world cup?") is judged on its own words, or the conversation's topic
    would carry it past the "not covered" decision.
    """
    alone = list((await asyncio.to_thread(
        _search, query=question, k=k, collection=collection,
        version=scope.version, locale=scope.locale)).hits)
    decision = await asyncio.to_thread(
        decide, question=question, query=question, hits=prefer_page(alone, page_url),
        collection=collection, stats=stats)
    points_back = refers_back(question)
    if decision.refused:
        if points_back or await _same_topic(question, alone, history, k=k, collection=collection,
                                            scope=scope):
            return hits, relevance_hits
        result.query, result.rewrite = question, "kept"
        return alone, alone
    if not points_back:
        result.query, result.rewrite = question, "kept"
        return alone, alone
    if not FUSE_FOLLOWUPS:
        return hits, relevance_hits
    result.rewrite += "+fused"
    return _fuse((alone, 1.0), (hits, REWRITE_WEIGHT))[:k], relevance_hits


async def retrieve(*, question: str, history: list[dict] | None = None, page_url: str | None = None,
                   collection: str | None = None, k: int = SEARCH_K,
                   scope_choice: ScopeChoice | None = None) -> Retrieval:
    """Rewrite, search (scoped, page-preferred) and decide; never raises on index failures.

    The scope is one docs version and locale (``rag.scope.choose_scope``); when it has
    nothing relevant the search is redone in the fallback (default) version, with a notice.
    """
    history = history or []
    k = PROBE_K.get() or k
    rewritten = await rewrite_query(question=question, history=history)
    result = Retrieval(query=rewritten.query, rewrite=rewritten.method)
    started = time.monotonic()
    stats = await asyncio.to_thread(corpus_stats, collection) if page_url else None
    choice = scope_choice or await asyncio.to_thread(
        choose_scope_for, question=question, page_url=page_url, collection=collection)
    scope = result.scope = choice.scope
    try:
        found = await asyncio.to_thread(
            _search, query=rewritten.query, k=k, collection=collection,
            version=scope.version, locale=scope.locale,
        )
        if not found.hits and choice.fallback:
            return await _fallback(question, history, page_url, collection, k, choice)
        if not found.hits and scope.locale:
            # Not translated: the same version in any locale rather than nothing.
            scope = result.scope = Scope(version=scope.version)
            found = await asyncio.to_thread(_search, query=rewritten.query, k=k,
                                            collection=collection, version=scope.version)
        hits = list(found.hits)
        if found.mode == "hybrid":
            # The relevance decision is calibrated on the sparse ranking; fused (RRF) order
            # can push the best lexical match out of the top hits it looks at.
            relevance_hits = list((await asyncio.to_thread(
                _search, query=rewritten.query, k=RELEVANCE_HITS, collection=collection,
                version=scope.version, locale=scope.locale, sparse_only=True)).hits)
        else:
            relevance_hits = hits
        if rewritten.query != question:
            hits, relevance_hits = await _own_words(
                question=question, history=history, hits=hits,
                relevance_hits=relevance_hits, scope=scope, k=k, collection=collection,
                page_url=page_url, stats=stats, result=result)
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
            decide, question=question, query=result.query,
            hits=prefer_page(relevance_hits, page_url), collection=collection, stats=stats)
    if result.refused and choice.fallback and result.decision.reason != "injection":
        return await _fallback(question, history, page_url, collection, k, choice)
    logger.info(
        "rag.retrieve hits=%d refused=%s reason=%s score=%.3f rewrite=%s scope=%s/%s ms=%d",
        len(result.hits), result.refused,
        result.decision.reason if result.decision else "retrieval_failed",
        result.decision.score if result.decision else 0.0, result.rewrite,
        scope.version or "-", scope.locale or "-", result.retrieval_ms,
    )
    probe = RETRIEVAL_PROBE.get()
    if probe is not None:
        probe.append(result)
    return result


async def _fallback(question, history, page_url, collection, k, choice: ScopeChoice) -> Retrieval:
    """Retrieve again in the fallback version; the reader is told which version answers."""
    result = await retrieve(question=question, history=history, page_url=page_url,
                            collection=collection, k=k,
                            scope_choice=ScopeChoice(choice.fallback, "fallback"))
    if result.hits and not result.refused:
        wanted = choice.scope.version
        result.scope_notice = (
            f"The docs of version {wanted} have nothing on this; this answer is from the docs of"
            f" version {result.scope.version}." if wanted else
            f"This answer is from the docs of version {result.scope.version}.")
    return result


def _snippet(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    flat = re.sub(r"\s+", " ", " ".join(lines)).strip()
    if len(flat) <= SNIPPET_CHARS:
        return flat
    cut = flat.rfind(" ", 0, SNIPPET_CHARS)
    return flat[: cut if cut > 0 else SNIPPET_CHARS] + " …"


def source_for(n: int, hit) -> Source:
    return {
        "n": n,
        "title": hit.title or "",
        "heading": hit.heading or "",
        "url": hit.url or "",
        "path": hit.path or "",
        "score": round(float(hit.score), 4),
        "snippet": _snippet(hit.text or ""),
    }


def sources_for(retrieved: Retrieval) -> list[Source]:
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


def cited_sources(sources: list[dict], cited: list[int]) -> list[dict]:
    """The sources an offline answer quotes, renumbered in order of appearance from 1.

    ``cited[i]`` is the original number of the source the answer calls ``[i + 1]``; the
    client's list then matches the answer's numbers, and uncited context is not shown.
    """
    by_n = {s["n"]: s for s in sources}
    return [{**by_n[n], "n": number} for number, n in enumerate(cited, 1)]


async def _coalesced(stream: AsyncIterator[str], window: float = COALESCE_SECONDS
                     ) -> AsyncIterator[str]:
    """The texts of ``stream``, joined so that at most one comes out per ``window`` seconds.

    A reader task pulls the LLM stream into a buffer as it arrives; this generator hands out
    everything buffered, then waits out the rest of the window before the next hand-out
    (the first text, and any text after a quiet spell, go at once). So the filters, the
    event objects and the SSE write run once per window per stream instead of once per
    token, and when the server falls behind the backlog is sent as one event, not replayed
    token by token. An error of the stream is raised after the text read before it.
    """
    loop = asyncio.get_running_loop()
    buffer: list[str] = []
    state = {"waiter": None, "done": False, "error": None}

    def wake() -> None:
        waiter = state["waiter"]
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def read() -> None:
        try:
            async for text in stream:
                buffer.append(text)
                wake()
        except Exception as exc:  # handed to the consumer, raised after the buffered text
            state["error"] = exc
        finally:
            state["done"] = True
            wake()

    reader = asyncio.ensure_future(read())
    sent_at = None
    try:
        while True:
            if not buffer and not state["done"]:
                state["waiter"] = loop.create_future()
                await state["waiter"]
                state["waiter"] = None
            if buffer:
                if sent_at is not None:
                    wait = sent_at + window - loop.time()
                    if wait > 0 and not state["done"]:
                        await asyncio.sleep(wait)
                text = "".join(buffer)
                buffer.clear()
                sent_at = loop.time()
                yield text
            elif state["done"]:
                break
        if state["error"] is not None:
            raise state["error"]
    finally:
        if not reader.done():
            reader.cancel()
            try:
                await reader
            except asyncio.CancelledError:
                pass


def _pieces(text: str) -> list[str]:
    """An offline answer streamed in paragraph-sized deltas (joined they are the text)."""
    return [piece for piece in re.findall(r"[^\n]*\n*", text) if piece]


async def answer_stream(*, question: str, history: list[dict] | None = None,
                        page_url: str | None = None,
                        collection: str | None = None,
                        context: str | None = None) -> AsyncIterator[Event]:
    """Events ``sources``, ``notice``*, ``delta``*, ``done`` (see docs/architecture.md).

    ``context`` is text the reader selected on the page: it joins the search query (a
    question like "what does this mean?" says little alone) and is quoted in the prompt.
    """
    history = history or []
    search = f"{question}\n{context[:SELECTION_SEARCH_CHARS]}" if context else question
    retrieved = await retrieve(question=search, history=history, page_url=page_url,
                               collection=collection)
    sources = [] if retrieved.failed else sources_for(retrieved)
    refused = retrieved.refused
    online = llm_configured()
    offline = None
    if not (online or refused or retrieved.failed):
        # Built before the sources go out, so they can be numbered as the answer cites them.
        offline = extractive_answer(query=retrieved.query, sources=_chunks(retrieved, sources))
        sources = cited_sources(sources, offline.cited)
    yield Sources(sources=sources, refused=refused)
    if retrieved.scope_notice:
        yield Notice(code="version_fallback", message=retrieved.scope_notice)

    if retrieved.failed:
        yield Notice(
            code="retrieval_unavailable",
            message="The documentation search is unavailable right now; "
                    + ("this answer does not use the docs." if online
                       else "no answer can be given offline."),
        )
    done = Done(model=REFUSAL_MODEL, prompt_tokens=None, completion_tokens=None, ttft_ms=None,
                retrieval_ms=retrieved.retrieval_ms, refused=refused, cited=[])

    if refused or (retrieved.failed and not online):
        yield Delta(refusal_text(nearest=sources, retrieval_failed=retrieved.failed))
        yield done
        return

    if not online:
        yield Notice(code="offline_mode",
                     message="No language model is configured: the answer quotes the documentation.")
        for piece in _pieces(offline.text):
            yield Delta(piece)
        yield replace(done, model=OFFLINE_MODEL, cited=[s["n"] for s in sources])
        return

    chunks = None if retrieved.failed else _chunks(retrieved, sources)
    messages = build_messages(question=question, history=history, chunks=chunks,
                              selection=context)
    allowed_urls = [rag_settings.DOCS_BASE_URL] + [s["url"] for s in sources]
    # URLs quoted in the docs are kept only verbatim: nothing may be appended to them.
    exact_urls = [url for chunk in chunks or [] for url in urls_in(chunk["text"])]
    citations = CitationFilter(valid={s["n"] for s in sources})
    guard = LeakGuard(system_prompt())
    usage = Usage()

    links = LinkPolicy(allowed_urls, exact_urls)

    def emit(text: str) -> Delta | None:
        text = links.filter(text)
        return Delta(text) if text else None

    try:
        # The filters run once per coalesced text (only the new text: each keeps its own
        # small carry-over), not once per token.
        async with aclosing(stream_chat(messages=messages, usage=usage)) as stream, \
                aclosing(_coalesced(stream)) as texts:
            async for text in texts:
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
        yield Delta(LEAK_REPLY)
    elif not guard.released:
        raise GenerationError("llm_empty_answer", "The language model returned no answer; try again.",
                              retryable=True)
    yield replace(
        done, model=usage.model or rag_settings.CHAT_MODEL, prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens, ttft_ms=usage.ttft_ms,
        cited=[] if guard.leaked else sorted(citations.cited),
    )


async def answer(*, question: str, history: list[dict] | None = None, page_url: str | None = None,
                 collection: str | None = None) -> Answer:
    """The whole answer at once (``answer_stream`` collected). Raises GenerationError."""
    return await collect(answer_stream(question=question, history=history, page_url=page_url,
                                       collection=collection), Answer())


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
