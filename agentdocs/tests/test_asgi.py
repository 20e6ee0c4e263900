"""The project's ASGI application routes /mcp and the lifespan to the MCP endpoint."""

import pytest
from mcp import Client

from agentdocs.asgi import AgentRouter

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_project_application_routes_through_the_agent_router():
    from chat.health import HealthzFastPath
    from chatsite.asgi import application

    # /healthz is answered first (chat.health), then everything goes through the router.
    assert isinstance(application, HealthzFastPath)
    assert isinstance(application.app, AgentRouter)


async def test_mcp_with_a_trailing_slash_is_the_same_endpoint(live):
    async with Client(f"{live.url}/mcp/") as client:
        listed = await client.list_tools()
    assert {tool.name for tool in listed.tools} == {"search_docs", "get_page", "ask"}


async def test_other_paths_still_reach_django(live):
    import httpx2

    async with httpx2.AsyncClient() as http:
        status = await http.get(f"{live.url}/healthz")
        copy = await http.get(f"{live.url}/docs/getting-started.md")
    assert status.status_code == 200
    assert copy.status_code == 200 and copy.text.startswith("# Getting Started\n")


async def test_a_host_outside_allowed_hosts_is_refused(live):
    import httpx2

    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{live.url}/mcp", json=body, headers={
            "Host": "evil.example", "Accept": "application/json, text/event-stream"})
    assert response.status_code in (403, 421)


async def test_a_browser_page_from_another_origin_is_refused(live):
    import httpx2

    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{live.url}/mcp", json=body, headers={
            "Origin": "https://evil.example", "Accept": "application/json, text/event-stream"})
    assert response.status_code == 403
