"""Daily LLM token budgets, per session and for the whole site, counted in the Django cache.

Every LLM call of a turn is counted — the streamed answer whether it finished, failed or
was cut off by a client hanging up, and the query-rewrite completion — with the provider's
reported usage, or an estimate when there is none (``TokenMeter``). The tokens are added
when the turn ends; the budgets are checked before the next LLM call, so a session can
overshoot its budget by at most one answer. Counters live in the
default cache under a key per UTC day and expire after two days. With more than one worker
process the cache must be shared (``REDIS_URL``); the default local-memory cache counts per
process.
"""

import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing

from django.core.cache import cache
from django.utils import timezone

from .conf import chat_settings
from .exceptions import BudgetExceeded

logger = logging.getLogger(__name__)

KEY_PREFIX = "chat:budget"
TTL_SECONDS = 2 * 24 * 3600


def estimate_tokens(text: str) -> int:
    """A cheap, model-independent token estimate (about four characters per token)."""
    return (len(text) + 3) // 4


def _day() -> str:
    return timezone.now().astimezone(dt.UTC).strftime("%Y%m%d")


def _keys(session_hash: str | None) -> tuple[str, str | None]:
    day = _day()
    global_key = f"{KEY_PREFIX}:global:{day}"
    session_key = f"{KEY_PREFIX}:session:{session_hash}:{day}" if session_hash else None
    return global_key, session_key


def seconds_until_tomorrow() -> int:
    now = timezone.now().astimezone(dt.UTC)
    tomorrow = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((tomorrow - now).total_seconds()))


def budget_check(*, session_hash: str | None) -> None:
    """Raise ``BudgetExceeded`` if the session's or the site's daily tokens are used up."""
    global_key, session_key = _keys(session_hash)
    used = cache.get_many([k for k in (global_key, session_key) if k])
    if used.get(global_key, 0) >= chat_settings.GLOBAL_DAILY_TOKENS:
        raise BudgetExceeded(
            "The site's daily answer budget is used up. Try again tomorrow.",
            code="global_token_budget_exceeded", retry_after=seconds_until_tomorrow(),
        )
    if session_key and used.get(session_key, 0) >= chat_settings.SESSION_DAILY_TOKENS:
        raise BudgetExceeded(
            "This conversation's daily answer budget is used up. Try again tomorrow.",
            code="session_token_budget_exceeded", retry_after=seconds_until_tomorrow(),
        )


def budget_spend(*, session_hash: str | None, tokens: int) -> None:
    """Add ``tokens`` to today's counters (atomic increments where the cache supports it)."""
    if tokens <= 0:
        return
    for key in _keys(session_hash):
        if key is None:
            continue
        cache.add(key, 0, TTL_SECONDS)
        try:
            cache.incr(key, tokens)
        except ValueError:  # evicted between add and incr
            cache.set(key, tokens, TTL_SECONDS)


def budget_used(*, session_hash: str | None = None) -> dict:
    global_key, session_key = _keys(session_hash)
    return {
        "global": cache.get(global_key, 0),
        "session": cache.get(session_key, 0) if session_key else None,
    }


class TokenMeter:
    """The tokens of one turn's LLM calls, added to the budgets once (``spend``).

    ``meter.wrap(answer_stream)`` makes ``rag.generation`` report every LLM call made while
    the answer is produced. ``spend`` is idempotent: the turn may end by several paths.
    """

    def __init__(self, *, session_hash: str | None):
        self.session_hash = session_hash
        self.tokens = 0
        self._spent = False

    def add(self, tokens: int) -> None:
        if not self._spent:
            self.tokens += max(0, int(tokens))

    async def wrap(self, events: AsyncIterator):
        """``events`` (the answer stream) with every LLM call inside it metered; the tokens
        are spent when it ends, fails, or is closed (``aclose()`` on a hang-up)."""
        from rag.generation import metering_llm_tokens

        try:
            with metering_llm_tokens(self.add):
                async with aclosing(events):
                    async for event in events:
                        yield event
        finally:
            self.spend()

    def spend(self) -> None:
        if self._spent:
            return
        self._spent = True
        try:
            budget_spend(session_hash=self.session_hash, tokens=self.tokens)
        except Exception:  # a cache outage must not break an answer already given
            logger.warning("chat.budget not_counted tokens=%d", self.tokens)
