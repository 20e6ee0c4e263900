"""The agentdocs app's settings, read lazily with defaults and the ``AGENTS_`` prefix.

``chatsite/settings.py`` maps the environment variables ``MCP_ENABLED``, ``MCP_TOKEN`` and
friends onto these settings when they are set; ``override_settings`` works in tests.
"""

from django.conf import settings

DEFAULTS = {
    # Serve the MCP endpoint at /mcp (False: /mcp answers 404).
    "MCP_ENABLED": True,
    # When set, /mcp requires ``Authorization: Bearer <token>`` (private docs).
    "MCP_TOKEN": "",
    # Tool calls per client IP (DRF rate syntax); ``ask`` also counts against chat_ip.
    "MCP_RATE": "60/min",
    # Largest MCP request body in bytes (the SDK refuses bigger ones with 413).
    "MCP_MAX_REQUEST_BYTES": 64 * 1024,
    # Stateless Streamable HTTP: every request stands alone (no Mcp-Session-Id), which is what
    # several worker processes without sticky sessions need.
    "MCP_STATELESS": False,
    # Longest search query / page reference accepted by the tools.
    "MAX_QUERY_CHARS": 1000,
    # Most results search_docs returns.
    "SEARCH_MAX_K": 20,
    # Turns of ``history`` accepted by ``ask``.
    "ASK_MAX_HISTORY": 20,
    # llms.txt: H1 title and blockquote summary (defaults come from the docs site's host).
    "LLMS_TITLE": "",
    "LLMS_SUMMARY": "",
    # llms.txt stays below this many characters (llmstxt.org checkers flag bigger files).
    "LLMS_TXT_MAX_CHARS": 100_000,
    # Seconds a built snapshot is trusted when the index has no generations (Qdrant server).
    "SNAPSHOT_TTL_SECONDS": 60,
}


class AgentSettings:
    def __getattr__(self, name: str):
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown agentdocs setting: {name}")
        return getattr(settings, f"AGENTS_{name}", DEFAULTS[name])


agent_settings = AgentSettings()
