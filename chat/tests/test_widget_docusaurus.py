"""The widget inside a real Docusaurus 3 site, talking to the chat server on another origin.

The site is the ``create-docusaurus`` classic template from the npm registry with the one
``scripts`` entry docs/docusaurus-setup.md tells docs teams to add, built with
``npm run build`` (chat/tests/browser/make_docusaurus_site.sh; the npm install is cached
outside the repository) and served by a static file server. The chat server runs under
uvicorn with only that site's origin in CORS_ALLOWED_ORIGINS, with the site's own docs/
folder ingested, in offline mode (no LLM key: extractive answers from the docs).
"""

import json
import re

import pytest

from chat.tests.browser.harness import (
    ChatServer,
    PageWatch,
    StaticServer,
    browser,
    free_port,
    make_docusaurus_site,
    require_browser,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTION = "How do I create a document?"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require_browser()
    api_port = free_port()
    build = make_docusaurus_site(f"http://127.0.0.1:{api_port}")
    docs_site = StaticServer(build).start()
    chat = ChatServer(tmp_path_factory.mktemp("docusaurus") / "data", cors_origins=[docs_site.origin],
                      port=api_port)
    chat.prepare(build.parent / "docs", base_url=docs_site.origin).start()
    docs_site.chat = chat
    yield docs_site
    chat.stop()
    docs_site.stop()


@pytest.fixture(scope="module")
def chromium(site):
    with browser() as instance:
        yield instance


@pytest.fixture
def context(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    yield context
    context.close()


def shadow(page, expression: str):
    return page.evaluate(
        f"() => {{ const root = document.querySelector('docs-chat').shadowRoot; return {expression}; }}"
    )


def ask(page, text: str, n: int):
    page.locator("docs-chat textarea").fill(text)
    page.locator("docs-chat textarea").press("Enter")
    page.locator("docs-chat [part~=feedback]").nth(n - 1).wait_for(timeout=30_000)
    return page.locator("docs-chat .bot:not(.welcome)").nth(n - 1)


def test_widget_in_docusaurus_answers_keeps_state_across_navigation_and_follows_dark_mode(context, site):
    page = context.new_page()
    watch = PageWatch(page)
    page.goto(site.origin + "/docs/intro/")
    page.locator("docs-chat .launcher").wait_for()
    # Mounted on <body>, outside React's root, exactly once.
    assert page.evaluate("() => document.querySelectorAll('docs-chat').length") == 1
    assert page.evaluate("() => document.querySelector('docs-chat').parentElement === document.body")
    assert page.evaluate("() => !document.getElementById('__docusaurus').contains(document.querySelector('docs-chat'))")
    screenshot(page, "docusaurus-closed")

    page.locator("docs-chat .launcher").click()
    answer = ask(page, QUESTION, 1)
    sources = answer.locator("[part=sources] a")
    hrefs = [sources.nth(i).get_attribute("href") for i in range(sources.count())]
    assert any(h.startswith(site.origin + "/docs/tutorial-basics/create-a-document") for h in hrefs), hrefs
    assert answer.locator(".md").inner_text().strip()
    screenshot(page, "docusaurus-answer")

    # Client-side navigation: same element, still open, same conversation, no page load.
    page.evaluate("() => { window.__noReload = true; document.querySelector('docs-chat').__marker = 42; }")
    page.locator("nav.menu a", has_text="Tutorial - Basics").first.click()
    page.locator("nav.menu a", has_text="Create a Page").first.click()
    page.wait_for_url(re.compile(r"/docs/tutorial-basics/create-a-page/?$"))
    assert page.evaluate("() => window.__noReload === true")
    assert page.evaluate("() => document.querySelector('docs-chat').__marker") == 42
    assert page.evaluate("() => document.querySelectorAll('docs-chat').length") == 1
    assert page.locator("docs-chat [part=panel]").is_visible()
    assert page.locator("docs-chat .user").all_inner_texts() == [QUESTION]

    # The next question carries the page the reader is on now.
    with page.expect_request(lambda r: r.url.endswith("/chat") and r.method == "POST") as sent:
        ask(page, "How do I create a page?", 2)
    assert json.loads(sent.value.post_data)["page_url"].startswith(
        site.origin + "/docs/tutorial-basics/create-a-page")

    # Docusaurus' colour-mode toggle, while the panel is open.
    # (The classic template cycles system → light → dark.)
    toggle = page.get_by_role("button", name=re.compile("dark and light mode"))
    for _ in range(3):
        if page.evaluate("() => document.documentElement.dataset.theme") == "dark":
            break
        toggle.click()
        page.wait_for_timeout(100)
    page.wait_for_function("() => document.querySelector('docs-chat').getAttribute('theme') === 'dark'")
    assert shadow(page, "getComputedStyle(root.querySelector('.panel')).backgroundColor") == "rgb(31, 32, 36)"
    screenshot(page, "docusaurus-dark")

    # A full reload (a new visit) shows the conversation from the server.
    page.reload()
    page.locator("docs-chat .user").nth(1).wait_for()
    assert page.locator("docs-chat .user").all_inner_texts() == [QUESTION, "How do I create a page?"]
    assert page.locator("docs-chat .bot [part=sources] a").count() >= 2

    page.locator("docs-chat textarea").click()
    page.keyboard.press("Escape")
    assert not page.locator("docs-chat [part=panel]").is_visible()
    assert shadow(page, "root.activeElement.className") == "launcher"
    watch.assert_clean()


def test_widget_in_docusaurus_on_a_phone_is_full_screen(chromium, site):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    watch = PageWatch(page)
    page.goto(site.origin + "/docs/intro/")
    page.locator("docs-chat .launcher").tap()
    panel = page.locator("docs-chat [part=panel]")
    panel.evaluate("el => Promise.all(el.getAnimations().map(a => a.finished))")
    assert panel.bounding_box() == {"x": 0, "y": 0, "width": 390, "height": 844}
    ask(page, QUESTION, 1)
    screenshot(page, "docusaurus-phone")
    watch.assert_clean()
    context.close()


def test_widget_in_docusaurus_preflight_is_allowed_only_for_the_site(site):
    import urllib.request

    def preflight(origin):
        request = urllib.request.Request(site.chat.origin + "/chat", method="OPTIONS", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        })
        with urllib.request.urlopen(request) as response:
            return response.headers.get("Access-Control-Allow-Origin")

    assert preflight(site.origin) == site.origin
    assert preflight("http://127.0.0.1:1") is None
