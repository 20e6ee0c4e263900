"""Links inside docs are rewritten at ingestion to the site URLs of their targets."""

import re
from pathlib import Path

from rag.documents import load_pages

from .conftest import write_tree

BASE = "https://docs.example.com"
CLASSIC = Path(__file__).resolve().parent / "corpora" / "classic" / "docs"


def _text(pages, path: str) -> str:
    page = next(p for p in pages if p.path == path)
    return "\n\n".join(s.text for s in page.sections)


def _site(tmp_path, page_text: str, **extra) -> str:
    files = {
        "guide/install.md": "---\nid: setup\n---\n# Install\n\n## Using npm\n\nnpm i\n",
        "guide/usage.mdx": "# Usage\n\n" + page_text,
        "api/hooks.mdx": "# Hooks\n\nuse them\n",
        "index.md": "---\nslug: /\n---\n# Home\n",
        **extra,
    }
    return _text(load_pages(write_tree(tmp_path, files), base_url=BASE), "guide/usage.mdx")


def test_relative_file_links_point_at_the_target_page_url_with_its_anchor(tmp_path):
    text = _site(tmp_path, "See [install](./install.md#using-npm), [hooks](../api/hooks.mdx) "
                           "and [again](install.md).")
    assert f"[install]({BASE}/docs/guide/setup#using-npm)" in text
    assert f"[hooks]({BASE}/docs/api/hooks)" in text
    assert f"[again]({BASE}/docs/guide/setup)" in text


def test_url_links_by_doc_id_relative_or_absolute_are_resolved(tmp_path):
    text = _site(tmp_path, "Read [setup](setup), [hooks](../api/hooks#rules) and [home](/docs/).")
    assert f"[setup]({BASE}/docs/guide/setup)" in text
    assert f"[hooks]({BASE}/docs/api/hooks#rules)" in text
    assert f"[home]({BASE}/docs/)" in text


def test_same_page_anchor_links_get_the_page_url(tmp_path):
    text = _site(tmp_path, "Jump to [below](#later).\n\n## Later\n\nhere")
    assert f"[below]({BASE}/docs/guide/usage#later)" in text


def test_links_to_pages_that_are_not_indexed_become_plain_text(tmp_path):
    text = _site(tmp_path, "See the [blog](/blog/2020/release), [gone](./missing.md), "
                           "[partial](./_Note.md) and [static](/img/logo.svg).")
    assert "See the blog, gone, partial and static." in text


def test_external_links_and_code_are_left_alone(tmp_path):
    text = _site(tmp_path, "[MDN](https://developer.mozilla.org) [mail](mailto:a@b.c) "
                           "`[x](./install.md)`\n\n```md\n[y](./install.md)\n```\n")
    assert "[MDN](https://developer.mozilla.org) [mail](mailto:a@b.c)" in text
    assert "`[x](./install.md)`" in text
    assert "```md\n[y](./install.md)\n```" in text


def test_link_text_with_inline_code_and_titles_survive(tmp_path):
    text = _site(tmp_path, 'Call [`useHook()`](../api/hooks.mdx "The hooks page").')
    assert f'[`useHook()`]({BASE}/docs/api/hooks "The hooks page")' in text


def test_relative_images_become_their_alt_text_absolute_ones_stay(tmp_path):
    text = _site(tmp_path, "![Dropdown](./img/dropdown.png) ![Logo](https://cdn.example.com/l.png)")
    assert "Dropdown ![Logo](https://cdn.example.com/l.png)" in text


def test_reference_links_defined_anywhere_on_the_page_are_resolved(tmp_path):
    text = _site(tmp_path, "Use the [install guide][ig] or [hooks].\n\n## Links\n\n"
                           "[ig]: ./install.md\n[hooks]: ../api/hooks.mdx#rules\n")
    assert f"[install guide]({BASE}/docs/guide/setup)" in text
    assert f"[hooks]({BASE}/docs/api/hooks#rules)" in text
    assert "[ig]:" not in text


def test_links_in_versioned_docs_stay_in_their_version(tmp_path):
    root = write_tree(tmp_path, {
        "docusaurus.config.js": "",
        "versions.json": '["1.0"]',
        "docs/a.md": "# A\n\nSee [b](./b.md).\n",
        "docs/b.md": "# B\n",
        "versioned_docs/version-1.0/a.md": "# A\n\nSee [b](./b.md).\n",
        "versioned_docs/version-1.0/b.md": "# B\n",
    })
    pages = load_pages(root, base_url=BASE)
    assert f"[b]({BASE}/docs/next/b)" in _text(pages, "docs/a.md")
    assert f"[b]({BASE}/docs/b)" in _text(pages, "versioned_docs/version-1.0/a.md")


def test_every_link_in_the_classic_template_docs_opens_an_indexed_page_or_the_web():
    pages = load_pages(CLASSIC, base_url=BASE)
    urls = {p.url for p in pages}
    for page in pages:
        for section in page.sections:
            prose = re.sub(r"```.*?```|`[^`\n]*`", "", section.text, flags=re.DOTALL)
            for target in re.findall(r"\]\(([^)\s]+)", prose):
                assert target.startswith(("https://", "http://")), (page.path, target)
                if target.startswith(BASE):
                    assert target.split("#")[0] in urls, (page.path, target)
