"""The admin against hostile input: client-supplied source links and password guessing."""

import pytest

from chat.admin import safe_link_url


@pytest.mark.parametrize("url", [
    "/\\evil.example/x", "\\\\evil.example/x", "\\/evil.example/x", "//evil.example/x",
    "https:/evil.example/x", "https:evil.example/x",
    "javascript:alert(1)", "java\tscript:alert(1)", " javascript:alert(1)",
    "mailto:a@evil.example?body=x", "https://docs.example@evil.example/",
])
def test_admin_never_links_a_url_the_browser_would_send_elsewhere(url):
    assert safe_link_url(url) is None


@pytest.mark.parametrize("url", [
    "/docs/intro", "/docs/intro#install", "https://docs.example/docs/a?b=1", "http://127.0.0.1:8000/",
])
def test_admin_links_site_paths_and_http_urls(url):
    assert safe_link_url(url) == url
