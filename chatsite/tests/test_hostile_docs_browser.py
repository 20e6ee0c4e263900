"""The hostile-docs corpus in Chromium: hostile markup in the docs stays inert.

The real server (``ChatServer``: uvicorn, production-like settings) ingests
``rag.tests.hostile_docs`` (links in and out of the folder, alias bombs, YAML tags, non-UTF-8
bytes, 5 MB lines, control characters in names: all skipped by ``ingest_docs``) and serves
its one page of hostile *content*: raw HTML, ``onerror``, ``javascript:`` and ``data:``
links, a remote image, an iframe. In Chromium, through the widget (an answer from an LLM that
repeats the page it was given, and the offline answer that quotes it) and through the
``/docs/`` viewer: no injected script runs, no element embeds anything from another host, no
request leaves for another host, and no link with a ``javascript:`` or ``data:`` URL exists.
"""

import pytest

from chat.tests.browser.harness import ChatServer, PageWatch, browser, require_browser
from rag.tests.hostile_docs import CANARY, make_hostile_docs

pytestmark = pytest.mark.browser

QUESTION = "How is the platypus setting configured?"
CHECK = """(root) => {
  const embeds = [...root.querySelectorAll('img, iframe, object, embed, video, audio, source, image, use, script')]
    .map(e => e.getAttribute('src') || e.getAttribute('href') || e.getAttribute('data') || e.tagName)
    .filter(src => src === 'SCRIPT' || (/^(https?:)?\\/\\//.test(src) && !src.startsWith(location.origin)));
  const links = [...root.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))
    .filter(href => /^\\s*(javascript|data|vbscript):/i.test(href));
  const handlers = [...root.querySelectorAll('*')]
    .filter(e => [...e.attributes].some(a => a.name.startsWith('on')));
  return {embeds, links, handlers: handlers.length};
}"""


def obey_the_page(body: dict) -> str:
    """A model that repeats the excerpts it was given, markup included."""
    if not body.get("stream"):
        return body["messages"][-1]["content"][-200:]
    return "Sure [1]. " + body["messages"][-1]["content"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return make_hostile_docs(tmp_path_factory.mktemp("hostile-site"))


@pytest.fixture(scope="module")
def llm_server(_fake_openai_server):
    fake = _fake_openai_server
    fake.reset()
    fake.reply = obey_the_page
    yield fake
    fake.reset()
    fake.reply = "This is the answer [1]."


def _serve(root, hostile, llm_base_url=None) -> ChatServer:
    chat = ChatServer(root, cors_origins=[], llm_base_url=llm_base_url)
    chat.env["DEMO_DOCS_DIR"] = str(hostile.root)
    chat.prepare(hostile.root, base_url=chat.origin)
    return chat.start()


@pytest.fixture(scope="module")
def servers(tmp_path_factory, hostile, llm_server):
    require_browser()
    root = tmp_path_factory.mktemp("hostile-servers")
    with_llm = _serve(root / "llm", hostile, llm_server.base_url)
    offline = _serve(root / "offline", hostile)
    yield {"llm": with_llm, "offline": offline}
    with_llm.stop()
    offline.stop()


def _check(page, root: str = "document.querySelector('docs-chat').shadowRoot") -> dict:
    """What the docs content could have injected below ``root`` (the widget's shadow root,
    where answers render, or the viewer's ``main``; the pages' own inline script is ours)."""
    return page.evaluate(f"() => ({CHECK})({root})")


@pytest.mark.parametrize("mode", ["llm", "offline"])
def test_hostile_markup_in_the_docs_is_inert_in_the_widget(servers, mode):
    server = servers[mode]
    with browser() as chromium:
        context = chromium.new_context()
        page = context.new_page()
        watch = PageWatch(page)
        page.goto(server.origin + "/")
        page.locator("docs-chat").get_by_role("button", name="Open chat").click()
        page.locator("docs-chat textarea").fill(QUESTION)
        page.locator("docs-chat textarea").press("Enter")
        page.locator("docs-chat [part~=feedback]").first.wait_for(timeout=30_000)
        answer = page.locator("docs-chat .bot:not(.welcome)").first
        html = answer.inner_html()

        assert "platypus" in answer.inner_text().lower()  # the hostile page was the source
        assert CANARY not in html
        assert _check(page) == {"embeds": [], "links": [], "handlers": 0}
        assert watch.foreign_requests() == []
        assert page.evaluate("() => window.__pwned") is None
        context.close()


def test_hostile_markup_is_inert_in_the_docs_viewer(servers):
    server = servers["offline"]
    with browser() as chromium:
        context = chromium.new_context()
        page = context.new_page()
        watch = PageWatch(page)
        response = page.goto(server.origin + "/docs/hostile-markup")
        assert response.status == 200
        assert "platypus" in page.inner_text("main").lower()
        assert _check(page, "document.querySelector('main')") == {"embeds": [], "links": [], "handlers": 0}
        assert watch.foreign_requests() == []
        assert page.evaluate("() => window.__pwned") is None
        for path in ("/docs/sub/environ", "/docs/sub/secret", "/docs/inside-link", "/docs/linked-folder/page"):
            response = page.goto(server.origin + path)
            assert response.status == 404, path
            assert CANARY not in page.content() and "PATH=" not in page.content()
        context.close()
