"""ASGI entry point: uvicorn serves this so streamed answers do not hold a worker."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")

application = get_asgi_application()

from chat.health import HealthzFastPath  # noqa: E402

from .body_limit import BodySizeLimit  # noqa: E402 (needs the settings configured above)

application = BodySizeLimit(application)

from agentdocs.asgi import AgentRouter  # noqa: E402

# /mcp (the MCP endpoint for coding agents, docs/agents.md) and the lifespan events.
application = AgentRouter(application)
# /healthz answered before anything else, so a busy app never starves the load balancer.
application = HealthzFastPath(application)
