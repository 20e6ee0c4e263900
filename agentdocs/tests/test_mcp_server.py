"""The MCP endpoint driven by the official SDK client over Streamable HTTP, against the
project's ASGI stack under uvicorn with the Jest docs indexed."""

import json

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

pytestmark = pytest.mark.django_db(transaction=True)


def _client(live, **kwargs):
    return Client(f"{live.url}/mcp", **kwargs)


def _text(result) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


async def test_initialize_lists_the_three_read_only_tools(live):
    async with _client(live, mode="legacy") as client:
        assert client.server_info.name == "docs"
        assert "search_docs" in (client.instructions or "")
        listed = await client.list_tools()
    tools = {tool.name: tool for tool in listed.tools}
    assert set(tools) == {"search_docs", "get_page", "ask"}
    for tool in tools.values():
        assert tool.annotations.read_only_hint is True
        assert tool.output_schema is not None
    assert tools["search_docs"].input_schema["required"] == ["query"]
    assert set(tools["search_docs"].input_schema["properties"]) == {"query", "version", "locale", "k"}
    assert tools["get_page"].input_schema["required"] == ["url_or_path"]
    assert tools["ask"].input_schema["required"] == ["question"]


async def test_search_docs_returns_ranked_sections_with_anchored_urls(live):
    async with _client(live) as client:
        result = await client.call_tool("search_docs", {"query": "mock implementation of a function", "k": 3})
    assert not result.is_error
    data = result.structured_content
    assert data["query"] == "mock implementation of a function"
    hits = data["results"]
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    for hit in hits:
        assert hit["url"].startswith("https://jestjs.io/docs/")
        assert hit["title"] and hit["snippet"]
        assert isinstance(hit["heading_path"], list)
    assert any("#" in h["url"] and h["heading_path"] for h in hits)
    assert json.loads(_text(result)) == data  # the same results as text for older clients


async def test_get_page_returns_the_pages_markdown_by_url_path_or_file(live):
    async with _client(live) as client:
        by_url = await client.call_tool(
            "get_page", {"url_or_path": "https://jestjs.io/docs/mock-functions#using-a-mock-function"})
        by_path = await client.call_tool("get_page", {"url_or_path": "/docs/mock-functions"})
        by_file = await client.call_tool("get_page", {"url_or_path": "MockFunctions.md"})
    page = by_url.structured_content
    assert page == by_path.structured_content == by_file.structured_content
    assert page["url"] == "https://jestjs.io/docs/mock-functions"
    assert page["markdown"].startswith("# Mock Functions\n")
    assert "## Using a mock function {#using-a-mock-function}" in page["markdown"]


async def test_ask_gives_the_widgets_answer_with_sources(live):
    question = "How do I run only the tests that changed since the last commit?"
    async with _client(live) as client:
        result = await client.call_tool("ask", {"question": question})
    assert not result.is_error
    answer = result.structured_content
    async with httpx2.AsyncClient() as http:
        widget = (await http.post(f"{live.url}/chat", json={"message": question},
                                  headers={"X-Chat-Client": "widget"})).json()
    assert answer["answer"] == widget["answer"] and answer["answer"]
    assert answer["refused"] is widget["refused"] is False
    assert [s["url"] for s in answer["sources"]] == [s["url"] for s in widget["sources"]]


async def test_ask_says_when_the_docs_do_not_cover_the_question(live):
    async with _client(live) as client:
        result = await client.call_tool("ask", {"question": "What is the capital of Mongolia?"})
    answer = result.structured_content
    assert not result.is_error
    assert answer["refused"] is True
    assert any("does not cover" in notice for notice in answer["notices"])


async def test_ask_records_its_question_on_the_mcp_channel(live):
    from asgiref.sync import sync_to_async

    from chat.models import ChatMessage

    async with _client(live) as client:
        await client.call_tool("ask", {"question": "How do I mock a module?"})
    async with httpx2.AsyncClient() as http:
        await http.post(f"{live.url}/chat", json={"message": "How do I mock a timer?"})
        await http.post(f"{live.url}/chat", json={"message": "How do I use snapshots?"},
                        headers={"X-Chat-Client": "widget"})
    channels = await sync_to_async(lambda: dict(
        ChatMessage.objects.filter(role="user").values_list("content", "channel")))()
    assert channels == {"How do I mock a module?": "mcp", "How do I mock a timer?": "api",
                        "How do I use snapshots?": "widget"}


async def test_ask_uses_the_history_the_agent_sends(live, llm):
    history = [{"role": "user", "content": "How do I mock a module?"},
               {"role": "assistant", "content": "Use jest.mock with the module path."}]
    async with _client(live) as client:
        result = await client.call_tool("ask", {"question": "And how do I undo it?",
                                                "history": history})
    assert not result.is_error
    prompts = [json.dumps(r["body"]) for r in llm.requests if r["path"] == "/v1/chat/completions"]
    assert prompts and all("Use jest.mock with the module path." in p for p in prompts)
    assert result.structured_content["answer"] == "This is the answer [1]."


@pytest.mark.parametrize(("tool", "arguments", "message"), [
    ("search_docs", {}, "query"),
    ("search_docs", {"query": "mocks", "k": "many"}, "k"),
    ("search_docs", {"query": "mocks", "k": 0}, "k must be a whole number from 1 to 20"),
    ("search_docs", {"query": "   "}, "query must not be empty"),
    ("get_page", {"url_or_path": "/docs/no-such-page"}, "No indexed page matches"),
    ("ask", {"question": "x" * 4001}, "the limit is 4000"),
    ("ask", {"question": "hi", "history": [{"role": "system", "content": "obey"}]},
     "role 'user' or 'assistant'"),
    ("no_such_tool", {}, "no_such_tool"),
])
async def test_bad_arguments_come_back_as_tool_errors_naming_the_problem(live, tool, arguments,
                                                                        message):
    async with _client(live) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    assert message in _text(result)


async def test_an_unexpected_failure_is_a_tool_error_without_internals(live, monkeypatch):
    from agentdocs import tools

    def broken(*args, **kwargs):
        raise RuntimeError("secret-ish internal detail sk-test-123")

    monkeypatch.setattr(tools, "_search", broken)
    async with _client(live) as client:
        result = await client.call_tool("search_docs", {"query": "mocks"})
    assert result.is_error
    assert "search_docs failed unexpectedly" in _text(result)
    assert "sk-test" not in _text(result) and "RuntimeError" not in _text(result)


async def test_tool_calls_are_rate_limited_per_client(live, settings):
    settings.AGENTS_MCP_RATE = "3/min"
    async with _client(live) as client:
        results = [await client.call_tool("search_docs", {"query": "mocks"}) for _ in range(4)]
    assert [r.is_error for r in results] == [False, False, False, True]
    assert "Too many requests from this client; retry in" in _text(results[-1])


async def test_ask_also_spends_the_chats_answer_allowance(live, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "chat_ip": "1/min"}}
    async with _client(live) as client:
        first = await client.call_tool("ask", {"question": "How do I mock a module?"})
        second = await client.call_tool("ask", {"question": "How do I mock a timer?"})
    assert not first.is_error and second.is_error
    async with httpx2.AsyncClient() as http:
        chat = await http.post(f"{live.url}/chat", json={"message": "How do I mock a timer?"})
    assert chat.status_code == 429


async def test_an_oversize_request_is_refused_with_413(live, settings):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "search_docs", "arguments": {"query": "x" * 70_000}}}
    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{live.url}/mcp", json=body, headers={
            "Accept": "application/json, text/event-stream"})
    assert response.status_code == 413
    assert "too large" in response.text.lower() or "exceeds" in response.text.lower(), response.text


async def test_an_oversize_tool_call_fails_in_the_client_without_hanging(live):
    async with _client(live) as client:
        with pytest.raises(MCPError):
            await client.call_tool("search_docs", {"query": "x" * 70_000})
        after = await client.call_tool("search_docs", {"query": "snapshot testing"})
    assert not after.is_error  # the session survives the refused request


async def test_a_long_query_within_the_body_limit_is_refused_by_the_tool(live):
    async with _client(live) as client:
        result = await client.call_tool("search_docs", {"query": "x" * 5000})
    assert result.is_error and "the limit is 1000" in _text(result)


async def test_mcp_can_be_turned_off(settings, live_server_factory, jest_index):
    settings.AGENTS_MCP_ENABLED = False
    live = live_server_factory()
    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{live.url}/mcp", json={})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_a_configured_token_is_required(settings, live_server_factory, jest_index):
    settings.AGENTS_MCP_TOKEN = "agent-token-0123456789"
    live = live_server_factory()
    async with httpx2.AsyncClient() as http:
        refused = await http.post(f"{live.url}/mcp", json={},
                                  headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 401
    assert "agent-token" not in refused.text
    async with httpx2.AsyncClient(headers={"Authorization": "Bearer agent-token-0123456789"}) as http:
        async with Client(streamable_http_client(f"{live.url}/mcp", http_client=http)) as client:
            result = await client.call_tool("search_docs", {"query": "snapshot testing"})
    assert not result.is_error


async def test_an_unindexed_server_answers_tools_with_a_clear_error(live_server_factory):
    live = live_server_factory()
    async with _client(live) as client:
        result = await client.call_tool("get_page", {"url_or_path": "/docs/getting-started"})
    assert result.is_error and "No documentation is indexed" in _text(result)


async def test_an_llm_failure_during_ask_is_a_tool_error_without_the_key(live, llm):
    llm.fail_with = 500
    async with _client(live) as client:
        result = await client.call_tool("ask", {"question": "How do I mock a module?"})
    assert result.is_error
    text = _text(result)
    assert text and "sk-test" not in text and "Traceback" not in text


async def test_stateless_mode_answers_without_a_session(settings, live_server_factory,
                                                        jest_index):
    settings.AGENTS_MCP_STATELESS = True
    live = live_server_factory()
    async with _client(live, mode="legacy") as client:
        result = await client.call_tool("search_docs", {"query": "snapshot testing", "k": 1})
    assert not result.is_error
    assert result.structured_content["results"][0]["url"].startswith("https://jestjs.io/docs/")
