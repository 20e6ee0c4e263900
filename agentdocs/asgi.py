"""Routes ``/mcp`` (and the server's lifespan events) to the MCP endpoint, everything else
to Django. The MCP app sits outside Django because the SDK's Streamable HTTP transport is
its own ASGI (Starlette) application with a session manager that lives for the whole
process (started and stopped by the lifespan protocol, which Django does not speak)."""

from .mcp_server import AgentEndpoint, is_mcp_path


class AgentRouter:
    def __init__(self, django_app):
        self.django_app = django_app
        self.mcp = AgentEndpoint()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan" or (
            scope["type"] == "http" and is_mcp_path(scope.get("path", ""))
        ):
            return await self.mcp(scope, receive, send)
        return await self.django_app(scope, receive, send)
