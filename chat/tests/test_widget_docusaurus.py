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


# Issue 15: a real conversation, the host page's controls, reaching the assistant from anywhere.

CONVERSATION = [
    "How do I create a document?",
    "How do I create a page?",
    "How do I deploy my site?",
    "How do I create a blog post?",
]


def in_log_view(page, locator) -> bool:
    """True when the top of ``locator`` is inside the visible part of the message log."""
    return locator.evaluate("""el => {
        const log = document.querySelector('docs-chat').shadowRoot.querySelector('.log').getBoundingClientRect();
        const r = el.getBoundingClientRect();
        return r.top >= log.top - 1 && r.top + 16 <= log.bottom;
    }""")


def test_the_start_of_every_answer_is_in_view_without_scrolling(context, site):
    page = context.new_page()
    watch = PageWatch(page)
    page.goto(site.origin + "/docs/intro/")
    page.locator("docs-chat .launcher").click()
    for n, question in enumerate(CONVERSATION, start=1):
        answer = ask(page, question, n)
        asked = page.locator("docs-chat .user").nth(n - 1)
        assert in_log_view(page, asked), f"question {n} is out of view"
        assert in_log_view(page, answer.locator(".md")), f"the start of answer {n} is out of view"
        assert answer.locator(".md").inner_text().strip()
        # When the answer runs past the bottom, "Jump to latest" says so, and takes you there.
        below = shadow(page, "(l => l.scrollHeight - l.scrollTop - l.clientHeight)(root.querySelector('.log'))")
        jump = page.locator("docs-chat [part=jump]")
        assert jump.is_visible() == (below > 24), below
        screenshot(page, f"docusaurus-conversation-{n}")
    if jump.is_visible():
        jump.click()
        assert shadow(page, "(l => l.scrollHeight - l.scrollTop - l.clientHeight)(root.querySelector('.log'))") < 24
    watch.assert_clean()
    assert "must consume synchronous iterators" not in site.chat.log.read_text()


def back_to_top_is_clickable(page) -> None:
    button = page.locator(".theme-back-to-top-button")
    for _ in range(5):
        # Docusaurus shows the button while the reader scrolls up, far from the top.
        page.evaluate("() => window.scrollTo({top: document.documentElement.scrollHeight, behavior: 'instant'})")
        page.wait_for_timeout(300)
        page.mouse.move(600, 400)
        page.mouse.wheel(0, -200)
        page.wait_for_timeout(300)
        if button.is_visible():
            break
    button.wait_for(state="visible", timeout=5000)
    page.wait_for_timeout(300)  # its fade-in
    box = button.bounding_box()
    hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('.theme-back-to-top-button') !== null",
                        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
    assert hit, "the widget covers Docusaurus's back-to-top button"
    button.click(timeout=3000)
    page.wait_for_function("() => window.scrollY === 0")


def test_back_to_top_stays_clickable_with_the_widget_closed_and_open(context, site):
    page = context.new_page()
    watch = PageWatch(page)
    page.goto(site.origin + "/docs/tutorial-basics/markdown-features/")
    page.locator("docs-chat .launcher").wait_for()
    back_to_top_is_clickable(page)
    screenshot(page, "docusaurus-back-to-top-closed")
    page.locator("docs-chat .launcher").click()
    page.locator("docs-chat [part=panel]").wait_for()
    back_to_top_is_clickable(page)
    screenshot(page, "docusaurus-back-to-top-open")
    # The bubble sits above the button, not on it.
    launcher = page.locator("docs-chat .launcher").bounding_box()
    button = page.locator(".theme-back-to-top-button").bounding_box()
    assert launcher["y"] + launcher["height"] <= button["y"]
    watch.assert_clean()


def test_ctrl_i_opens_the_panel_unless_the_reader_is_typing(context, site):
    page = context.new_page()
    watch = PageWatch(page)
    page.goto(site.origin + "/docs/intro/")
    page.locator("docs-chat .launcher").wait_for()
    assert page.locator("docs-chat .launcher").get_attribute("aria-keyshortcuts") == "Control+I Meta+I"
    page.keyboard.press("Control+i")
    page.locator("docs-chat [part=panel]").wait_for()
    assert shadow(page, "root.activeElement && root.activeElement.tagName") == "TEXTAREA"
    page.keyboard.press("Escape")
    assert not page.locator("docs-chat [part=panel]").is_visible()

    # Typing in a field of the page: the keys are the page's.
    page.evaluate("() => { const i = document.createElement('input'); i.id = 'probe'; document.body.prepend(i); }")
    page.locator("#probe").focus()
    page.keyboard.press("Control+i")
    page.wait_for_timeout(200)
    assert not page.locator("docs-chat [part=panel]").is_visible()

    # With text selected in the article, the shortcut asks about it (the keyboard path of
    # "Ask about this").
    page.locator("#probe").blur()
    page.locator("article p").first.click(click_count=3)
    selected = page.evaluate("() => getSelection().toString().trim()")
    page.keyboard.press("Control+i")
    quote = page.locator("docs-chat [part=quote]")
    quote.wait_for()
    assert selected[:40] in quote.inner_text().replace("\n", " ")
    assert shadow(page, "root.querySelector('[data-live]').textContent") == "Quote added. Type your question."
    watch.assert_clean()


def test_ask_parameter_in_a_docs_link_opens_the_panel_and_asks(context, site):
    page = context.new_page()
    watch = PageWatch(page)
    page.goto(site.origin + "/docs/intro/?ask=How%20do%20I%20create%20a%20document%3F")
    answer = page.locator("docs-chat .bot:not(.welcome)").first
    page.locator("docs-chat [part~=feedback]").first.wait_for(timeout=30_000)
    assert page.locator("docs-chat .user").all_inner_texts() == ["How do I create a document?"]
    assert answer.locator("[part=sources] a").count() >= 1
    assert "ask=" not in page.url  # a reload does not ask again
    page.reload()
    page.locator("docs-chat .user").first.wait_for()
    page.wait_for_timeout(500)
    assert page.locator("docs-chat .user").count() == 1
    screenshot(page, "docusaurus-ask-parameter")
    watch.assert_clean()


def test_ask_about_a_selection_and_about_a_code_block(context, site):
    page = context.new_page()
    watch = PageWatch(page)
    page.goto(site.origin + "/docs/tutorial-basics/create-a-document/")
    paragraph = page.locator("article p").first
    paragraph.click(click_count=3)
    selected = page.evaluate("() => getSelection().toString().trim()")
    button = page.locator("docs-chat [part=ask-button]")
    button.wait_for()
    assert button.inner_text() == "Ask about this"
    screenshot(page, "docusaurus-ask-about-selection")
    button.click()
    page.locator("docs-chat [part=quote]").wait_for()
    page.locator("docs-chat textarea").fill("What does this mean?")
    with page.expect_request(lambda r: r.url.endswith("/chat") and r.method == "POST") as sent:
        page.locator("docs-chat textarea").press("Enter")
    body = json.loads(sent.value.post_data)
    assert body["message"] == "What does this mean?"
    assert body["context"] == selected
    page.locator("docs-chat [part~=feedback]").first.wait_for(timeout=30_000)
    assert selected[:30] in page.locator("docs-chat .user .q").inner_text()
    assert not page.locator("docs-chat [part=quote]").is_visible()  # used once

    # A code block's "Ask" action.
    page.locator("docs-chat [part=close-button]").click()
    code = page.locator("article pre").first
    code.hover()
    ask_code = page.locator("docs-chat [part=ask-button]", has_text="Ask about this code")
    ask_code.wait_for()
    ask_code.click()
    page.locator("docs-chat textarea").fill("Where does this file go?")
    with page.expect_request(lambda r: r.url.endswith("/chat") and r.method == "POST") as sent:
        page.locator("docs-chat textarea").press("Enter")
    assert json.loads(sent.value.post_data)["context"] == code.inner_text().strip()
    page.locator("docs-chat [part~=feedback]").nth(1).wait_for(timeout=30_000)
    screenshot(page, "docusaurus-ask-about-code")
    watch.assert_clean()


def test_strings_follow_the_site_locale(context, site):
    page = context.new_page()
    watch = PageWatch(page)
    # A French Docusaurus site: <html lang="fr"> as the page is parsed (set by an init script;
    # rewriting the HTML in a route would make Chromium treat the page as public and block
    # the loopback chat server).
    page.add_init_script("""new MutationObserver((_, observer) => {
        if (document.documentElement) { document.documentElement.lang = 'fr'; observer.disconnect(); }
    }).observe(document, {childList: true});""")
    page.goto(site.origin + "/docs/intro/")
    launcher = page.locator("docs-chat").get_by_role("button", name="Ouvrir le chat")
    launcher.click()
    assert page.locator("docs-chat h2").inner_text() == "Interroger la doc"
    assert page.locator("docs-chat textarea").get_attribute("placeholder") == "Posez une question sur la doc…"
    page.locator("docs-chat textarea").fill(QUESTION)
    page.locator("docs-chat textarea").press("Enter")
    page.locator("docs-chat [part~=feedback]").first.wait_for(timeout=30_000)
    assert page.locator("docs-chat .sources .label").first.inner_text().lower() == "sources"
    assert page.locator("docs-chat").get_by_role("button", name="Utile", exact=True).count() == 1
    screenshot(page, "docusaurus-french")
    watch.assert_clean()


def test_phone_touch_targets_are_at_least_44_px(chromium, site):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    watch = PageWatch(page)
    page.goto(site.origin + "/docs/tutorial-basics/create-a-document/")
    launcher = page.locator("docs-chat .launcher").bounding_box()
    assert launcher["width"] >= 44 and launcher["height"] >= 44
    page.locator("docs-chat .launcher").tap()
    ask(page, "How do I create a document?", 1)
    # Layout size (offsetWidth/Height), not the bounding box: the panel's opening transition
    # scales it from 0.98, so a box measured mid-animation reads 43.96 px for a 44 px button.
    small = shadow(page, """[...root.querySelectorAll('button')].filter(b => !b.hidden && b.getClientRects().length)
        .map(b => [b.getAttribute('aria-label') || b.textContent.trim(), b.offsetWidth, b.offsetHeight])
        .filter(([, w, h]) => w < 44 || h < 44).map(([n, w, h]) => `${n}: ${w}x${h}`)""")
    assert small == []
    assert shadow(page, "root.querySelectorAll('[part=close-button], [part=send], [data-rating]').length") >= 4
    screenshot(page, "docusaurus-phone-touch")
    watch.assert_clean()
    context.close()


def test_an_unrelated_question_in_the_middle_of_a_conversation_is_refused(context, site):
    page = context.new_page()
    watch = PageWatch(page)
    page.goto(site.origin + "/docs/intro/")
    page.locator("docs-chat .launcher").click()
    first = ask(page, QUESTION, 1)
    assert first.locator("[part=sources] a").count() >= 1
    # The history now holds a docs topic; an unrelated question must not inherit it.
    off_topic = ask(page, "Who won the football world cup in 2022?", 2)
    assert "couldn't find this in the documentation" in off_topic.locator(".md").inner_text()
    # And the conversation goes on: the next docs question is answered from its own page.
    third = ask(page, "How do I deploy my site?", 3)
    hrefs = [third.locator("[part=sources] a").nth(i).get_attribute("href")
             for i in range(third.locator("[part=sources] a").count())]
    assert any("/docs/tutorial-basics/deploy-your-site" in h for h in hrefs), hrefs
    watch.assert_clean()
