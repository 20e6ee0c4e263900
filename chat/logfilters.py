"""Keep session ids out of logs.

A session id is a bearer secret. It travels in the body of ``POST /chat`` (never logged) but
also in the path of ``GET /chat/history/<session_id>``, which Django (``django.request``, for
every 4xx/5xx) and uvicorn (``uvicorn.access``) put into log lines. ``RedactSessionIds``
rewrites such paths to ``/chat/history/[redacted]`` and any bare token-shaped string in a
chat log line; ``ChatConfig.ready`` installs it on those loggers.
"""

import logging
import re

_HISTORY_PATH = re.compile(r"(/chat/history/)[^/?#\s\"']+")
REDACTED_LOGGERS = ("django.request", "django.server", "uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    return _HISTORY_PATH.sub(r"\1[redacted]", text)


class RedactSessionIds(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def install() -> None:
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSessionIds) for f in logger.filters):
            logger.addFilter(RedactSessionIds())
