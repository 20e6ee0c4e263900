"""Keep session ids out of logs.

A session id is a bearer secret. It travels in the body of ``POST /chat`` (never logged) but
also in the path of ``GET /chat/history/<session_id>``, which Django (``django.request``, for
every 4xx/5xx) and uvicorn (``uvicorn.access``) put into log lines. ``RedactSessionIds``
rewrites such paths to ``/chat/history/[redacted]``, and ``session_id=`` query parameters
(on any path: a client may put its token in a URL) to ``session_id=[redacted]``;
``ChatConfig.ready`` installs it on those loggers.
"""

import logging
import re

_HISTORY_PATH = re.compile(r"(/chat/history/)[^/?#\s\"']+")
# A session id sent as a query parameter (``?session_id=…``, also percent-encoded names such
# as ``session%5Fid``): uvicorn's access log writes the full path with its query string.
_SESSION_PARAM = re.compile(r"([?&;](?:session(?:_|%5f)id|session)=)[^&#\s\"']*", re.IGNORECASE)
REDACTED_LOGGERS = ("django.request", "django.server", "uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    return _SESSION_PARAM.sub(r"\1[redacted]", _HISTORY_PATH.sub(r"\1[redacted]", text))


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
