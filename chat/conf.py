"""The chat app's settings, read lazily with defaults (like DRF's ``api_settings``).

Every name here is read from Django settings with the ``CHAT_`` prefix, e.g.
``CHAT_MAX_MESSAGE_CHARS``, so ``override_settings`` works in tests.
"""

from django.conf import settings

DEFAULTS = {
    # Longest user message accepted; longer ones are rejected (413), never truncated.
    "MAX_MESSAGE_CHARS": 4000,
    # Longest text selection sent with a question ("Ask about this"); longer is a 400.
    "MAX_CONTEXT_CHARS": 2000,
    # Starter questions from traffic: asked at least this often (answered, not refused) in
    # the last STARTERS_DAYS days; at most STARTERS_COUNT, recomputed every STARTERS_CACHE_SECONDS.
    "STARTERS_MIN_ASKED": 3,
    "STARTERS_DAYS": 30,
    "STARTERS_COUNT": 4,
    "STARTERS_CACHE_SECONDS": 600,
    # Longest page_url accepted.
    "MAX_PAGE_URL_CHARS": 2000,
    # Earlier turns sent to retrieval/LLM, capped again by HISTORY_MAX_TOKENS.
    "HISTORY_TURNS": 8,
    "HISTORY_MAX_TOKENS": 2000,
    # Sessions idle longer than this are expired (404 on use, removed by prune_history).
    "SESSION_IDLE_DAYS": 90,
    # An assistant row still pending after this many seconds is marked failed.
    "PENDING_TIMEOUT_SECONDS": 300,
    # History page size (default and maximum).
    "HISTORY_PAGE_SIZE": 50,
    "HISTORY_MAX_PAGE_SIZE": 200,
    # Daily LLM token budgets, checked before calling the LLM.
    "SESSION_DAILY_TOKENS": 200_000,
    "GLOBAL_DAILY_TOKENS": 5_000_000,
    # Days question/answer text is kept (None: until the session is pruned); see insights.
    "TRANSCRIPT_DAYS": None,
    # Seconds a client should wait before retrying when storage is down.
    "RETRY_AFTER_SECONDS": 5,
    # Threads for a chat turn's database work (chat.turns). None: one on SQLite (one
    # writer), the pool's max size on PostgreSQL (DATABASE_POOL_MAX_SIZE, else 8). 0: Django's
    # one shared sync_to_async thread (tests whose data lives in an open test transaction).
    "DB_THREADS": None,
}


class ChatSettings:
    def __getattr__(self, name: str):
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown chat setting: {name}")
        return getattr(settings, f"CHAT_{name}", DEFAULTS[name])


chat_settings = ChatSettings()
