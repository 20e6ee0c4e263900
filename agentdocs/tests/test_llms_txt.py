"""/llms.txt and /llms-full.txt on the Jest corpus, checked against the llmstxt.org format:
an H1, a blockquote, then H2 sections of Markdown link lists, and every link resolving to a
Markdown copy this server serves."""

import re
from urllib.parse import urlsplit

import pytest

from agentdocs.pages import docs_snapshot

LINK = re.compile(r"^- \[(?P<title>[^\]]+)\]\((?P<url>[^)\s]+)\)(?:: (?P<note>.+))?$")


def parse_llms_txt(text: str) -> dict:
    """Parse ``text`` strictly per llmstxt.org; fails the test on any deviation."""
    blocks = text.rstrip("\n").split("\n\n")
    assert blocks[0].startswith("# ") and "\n" not in blocks[0], "must open with one H1 line"
    assert blocks[1].startswith("> "), "the H1 must be followed by a blockquote summary"
    sections: dict[str, list[dict]] = {}
    current = None
    for block in blocks[2:]:
        if block.startswith("#"):
            assert block.startswith("## ") and "\n" not in block, f"only H2 headings: {block!r}"
            current = block[3:]
            assert current not in sections, f"duplicate section {current}"
            sections[current] = []
            continue
        if current is None:
            assert not block.lstrip().startswith(("#", "- [")), "prose only before the H2s"
            continue
        for line in block.split("\n"):
            match = LINK.match(line)
            assert match, f"not a link list item: {line!r}"
            sections[current].append(match.groupdict())
    return {"title": blocks[0][2:], "summary": blocks[1][2:], "sections": sections}


@pytest.fixture
def snapshot(jest_index):
    return docs_snapshot()


def test_llms_txt_follows_the_format_and_every_link_is_a_served_markdown_copy(client, snapshot):
    response = client.get("/llms.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert len(text) < 100_000
    parsed = parse_llms_txt(text)
    assert parsed["title"] == "jestjs.io documentation"
    links = [link for items in parsed["sections"].values() for link in items]
    assert len(links) == len(snapshot.pages) == 37
    for link in links:
        url = urlsplit(link["url"])
        assert url.scheme == "http" and url.netloc == "testserver" and url.path.endswith(".md")
        copy = client.get(url.path)
        assert copy.status_code == 200, link
        assert copy["Content-Type"] == "text/markdown; charset=utf-8"
        assert copy.content.decode().startswith(f"# {link['title']}\n")


def test_llms_txt_sections_follow_the_docs_sidebar(client, snapshot):
    parsed = parse_llms_txt(client.get("/llms.txt").content.decode())
    assert list(parsed["sections"])[:4] == ["Introduction", "Guides", "Framework Guides",
                                            "Upgrade Guides"]
    introduction = [link["title"] for link in parsed["sections"]["Introduction"]]
    assert introduction[:3] == ["Getting Started", "Using Matchers", "Testing Asynchronous Code"]
    notes = [link["note"] for items in parsed["sections"].values() for link in items]
    assert all(notes) and not any("```" in note for note in notes)


def test_llms_txt_keeps_under_a_smaller_limit_and_says_what_it_left_out(client, snapshot, settings):
    settings.AGENTS_LLMS_TXT_MAX_CHARS = 2500
    text = client.get("/llms.txt").content.decode()
    assert len(text) < 2500
    parsed = parse_llms_txt(text)
    kept = sum(len(items) for items in parsed["sections"].values())
    assert 0 < kept < 37
    assert f"{37 - kept} of 37 pages are left out" in text


def test_llms_full_txt_holds_every_page_copy(client, snapshot):
    response = client.get("/llms-full.txt")
    text = response.content.decode()
    assert response.status_code == 200 and text.startswith("# jestjs.io documentation\n\n> ")
    for page in snapshot.pages:
        assert f"<!-- Source: {page.url} -->\n\n{page.markdown}" in text


def test_llms_txt_without_an_index_is_a_clear_503(client, db):
    response = client.get("/llms.txt")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "not_indexed"
    assert response["Retry-After"]


def test_llms_txt_answers_only_reads(client, snapshot):
    assert client.post("/llms.txt").status_code == 405
    assert client.head("/llms.txt").status_code == 200


def test_llms_txt_is_revalidated_by_etag(client, snapshot):
    first = client.get("/llms.txt")
    again = client.get("/llms.txt", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""


@pytest.mark.django_db
def test_other_versions_and_languages_go_under_optional(client, tmp_path):
    from rag.ingestion import ingest_docs
    from rag.tests.conftest import write_tree

    page = "---\ntitle: {title}\n---\n\n## Install\n\nInstall the {word} package with npm.\n"
    site = write_tree(tmp_path / "site", {
        "versions.json": '["1.0"]',
        "docs/intro.md": page.format(title="Intro", word="walrus"),
        "docs/guides/setup.md": page.format(title="Setup", word="otter"),
        "versioned_docs/version-1.0/intro.md": page.format(title="Intro", word="heron"),
        "i18n/fr/docusaurus-plugin-content-docs/current/intro.md":
            page.format(title="Introduction", word="loutre"),
    })
    ingest_docs(docs_path=site, base_url="https://docs.example.test")
    parsed = parse_llms_txt(client.get("/llms.txt").content.decode())
    assert list(parsed["sections"]) == ["Docs", "Guides", "Optional"]
    optional = parsed["sections"]["Optional"]
    assert len(optional) == 2
    for link in [item for items in parsed["sections"].values() for item in items]:
        assert client.get(urlsplit(link["url"]).path).status_code == 200, link
