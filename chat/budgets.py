"""Daily LLM token budgets, per session and for the whole site, counted in the Django cache.

An answer's tokens are added after it finishes; the budgets are checked before the next
LLM call, so a session can overshoot its budget by at most one answer. Counters live in the
default cache under a key per UTC day and expire after two days. With more than one worker
process the cache must be shared (``REDIS_URL``); the default local-memory cache counts per
process.
"""

import datetime as dt

from django.core.cache import cache
from django.utils import timezone

from .conf import chat_settings
from .exceptions import BudgetExceeded

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
