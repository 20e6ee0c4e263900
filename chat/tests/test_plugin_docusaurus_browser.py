"""The Docusaurus plugin end to end: a real versioned, translated site answered per version.

A create-docusaurus classic site from the npm registry gets docs version 1.0 (cut with
``docusaurus docs:version 1.0``; the intro page then changes in the current docs) and a
French locale with the intro translated, plus this repository's plugin installed from
``npm pack`` (integrations/docusaurus/e2e/make_site.sh, cached in $DOCUSAURUS_SITE_DIR or
/tmp/plugin-docusaurus/site). After ``npm run build`` the chat server indexes the build with
``manage.py ingest_site``; Chromium then asks on a 1.0 page, a current page and a French
page, and every cited URL must come from that version/locale, return 200 from the served
build and scroll to an anchor that exists.
"""

import os
import shutil
import subprocess
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from chat.tests.browser.harness import (
    REPO,
    ChatServer,
    PageWatch,
    StaticServer,
    browser,
    free_port,
    require_browser,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAKE_SITE = REPO / "integrations" / "docusaurus" / "e2e" / "make_site.sh"


def build_site(api_origin: str, site_origin: str) -> Path:
    if not shutil.which("npx"):
        pytest.skip("the plugin test needs Node.js and npm")
    env = {**os.environ, "SITE_URL": site_origin,
           "DOCUSAURUS_SITE_DIR": os.environ.get("DOCUSAURUS_SITE_DIR", "/tmp/plugin-docusaurus/site")}
    result = subprocess.run(["bash", str(MAKE_SITE), api_origin], capture_output=True, text=True,
                            timeout=1800, env=env)
    if result.returncode:
        raise RuntimeError(f"building the Docusaurus site failed:\n{result.stderr[-4000:]}")
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require_browser()
    api_port = free_port()
    docs_site = StaticServer(tmp_path_factory.mktemp("empty"))  # bound now: its port goes into the build
    build = build_site(f"http://127.0.0.1:{api_port}", docs_site.origin)
    docs_site.httpd.server_close()  # never started: close the socket, keep the port number
    docs_site = StaticServer(build, port=docs_site.port).start()
    chat = ChatServer(tmp_path_factory.mktemp("plugin") / "data", cors_origins=[docs_site.origin], port=api_port)
    chat.data_dir.mkdir(parents=True, exist_ok=True)
    chat.manage("migrate", "--noinput")
    docs_site.ingest_output = chat.manage("ingest_site", str(build))
    chat.start()
    yield docs_site
    chat.stop()
    docs_site.stop()


@pytest.fixture(scope="module")
def chromium(site):
    with browser() as instance:
        yield instance


def ask(page, text: str):
    page.locator("docs-chat .launcher").click()
    page.locator("docs-chat textarea").fill(text)
    page.locator("docs-chat textarea").press("Enter")
    page.locator("docs-chat [part~=feedback]").first.wait_for(timeout=60_000)
    return page.locator("docs-chat .bot:not(.welcome)").first


def cited(answer) -> list[str]:
    links = answer.locator("[part=sources] a, .md a")
    return [links.nth(i).get_attribute("href") for i in range(links.count())]


def test_ingest_site_indexed_both_versions_and_locales(site):
    assert "added 36," in site.ingest_output, site.ingest_output


@pytest.mark.parametrize(("path", "question", "prefix", "forbidden", "fact"), [
    ("/docs/intro", "What is the chat server port?", "/docs/", ("/docs/next/", "/fr/"), "6060"),
    ("/docs/next/intro", "What is the chat server port?", "/docs/next/", ("/fr/",), "7070"),
    ("/fr/docs/next/intro", "Quel est le port du serveur de chat ?", "/fr/docs/next/", (), "7070"),
])
def test_answers_cite_the_readers_version_and_locale_and_every_link_opens(
        chromium, site, path, question, prefix, forbidden, fact):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    watch = PageWatch(page)
    page.goto(site.origin + path)
    answer = ask(page, question)
    assert fact in answer.inner_text()
    hrefs = cited(answer)
    assert hrefs, "the answer cites no page"
    for href in hrefs:
        parts = urlsplit(href)
        assert href.startswith(site.origin + prefix), (path, href)
        assert not any(parts.path.startswith(f) for f in forbidden), (path, href)
    screenshot(page, "plugin-" + path.strip("/").replace("/", "-"))
    watch.assert_clean()
    for href in set(hrefs):
        with urllib.request.urlopen(href.split("#")[0], timeout=10) as response:
            assert response.status == 200, href
        anchor = urlsplit(href).fragment
        if anchor:
            check = context.new_page()
            check.goto(href)
            assert check.evaluate("(id) => !!document.getElementById(id)", anchor), href
            check.close()
    context.close()
