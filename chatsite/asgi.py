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

from django.conf import settings  # noqa: E402

if settings.HEALTHZ_ADDRESS:
    from .liveness import serve_liveness

    # And on its own port and thread, which a CPU-bound event loop cannot delay.
    application = serve_liveness(application, address=settings.HEALTHZ_ADDRESS,
                                 max_stall=settings.HEALTHZ_MAX_LOOP_STALL)
