"""ChatKit compatibility: OpenAI's ChatKit front end on this backend and its history.

``POST /chatkit`` speaks ChatKit's server protocol through the ``openai-chatkit`` package
(an optional extra, ``requirements-chatkit.txt``). A ChatKit thread is a ``ChatSession`` and
its items are the session's ``ChatMessage`` rows, so the admin, exports, stats and
``GET /chat/history/{session_id}`` see ChatKit conversations too. See docs/chatkit.md.

This package imports without ``openai-chatkit`` installed; ``server``, ``store`` and
``protocol`` need it, and the view loads them on first use (see ``chatkit_installed``).
"""

from importlib.util import find_spec


def chatkit_installed() -> bool:
    """Whether the optional ``openai-chatkit`` package (import name ``chatkit``) is present."""
    return find_spec("chatkit") is not None
