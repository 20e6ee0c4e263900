"""Rate limits of the chat API: DRF throttles with scopes, counted in the Django cache.

- ``chat_ip``: answers per client IP. The IP is DRF's ``get_ident``: ``REMOTE_ADDR``, or with
  ``NUM_PROXIES = n`` the n-th address from the right of ``X-Forwarded-For`` — the one the
  nearest trusted proxy saw — so a client cannot get a fresh bucket by sending its own
  ``X-Forwarded-For``.
- ``chat_session``: answers per session (the SHA-256 of its token, never the token).
- ``history``: history and feedback requests per client IP, which also slows down anyone
  guessing session ids.

Rates are ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``. The throttles are synchronous; adrf
runs them in a worker thread for the async views. Production with several worker processes
needs a shared cache (``REDIS_URL``) for the limits to hold across them.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from . import tokens


class _RateFromSettings(SimpleRateThrottle):
    """Reads the rate when the throttle is built, not at import (so tests can change it)."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class ChatIPThrottle(_RateFromSettings):
    scope = "chat_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ChatSessionThrottle(_RateFromSettings):
    """Keyed by the session named in the JSON body; requests without one are not counted
    here (the IP throttle covers them)."""

    scope = "chat_session"

    def get_cache_key(self, request, view):
        data = request.data
        token = data.get("session_id") if isinstance(data, dict) else None
        if not tokens.is_well_formed(token):
            return None
        return self.cache_format % {"scope": self.scope, "ident": tokens.hash_token(token)}


class HistoryThrottle(_RateFromSettings):
    scope = "history"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
