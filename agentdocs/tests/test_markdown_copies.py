"""Markdown copies of the indexed pages: at the page path + .md and on Accept: text/markdown,
equal to the text the index holds, and refreshed when a new index generation goes live."""

import pytest

from agentdocs.pages import docs_snapshot, page_markdown
from rag.conf import rag_settings
from rag.index import get_index
from rag.tests.conftest import SMALL_DOCS, write_tree


def test_every_copy_equals_the_indexed_text(client, jest_index):
    index = get_index()
    manifest = index.manifest(rag_settings.COLLECTION)
    stored = index.stored_chunks(rag_settings.COLLECTION, list(manifest.pages))
    snapshot = docs_snapshot()
    assert {p.path for p in snapshot.pages} == set(manifest.pages)
    for page in snapshot.pages:
        served = client.get(page.md_route).content.decode()
        chunks = stored[page.path]
        assert served == page_markdown(manifest.pages[page.path].title, chunks)
        position = 0
        for chunk in chunks:  # every indexed text, verbatim and in order
            if chunk.text.strip() == page.title and len(chunks) == 1:
                continue
            found = served.find(chunk.text.strip("\n"), position)
            assert found >= position, (page.path, chunk.heading)
            position = found


def test_headings_keep_their_anchors(client, jest_index):
    text = client.get("/docs/expect.md").content.decode()
    assert text.startswith("# Expect\n")
    assert "\n## Modifiers {#modifiers}\n" in text
    assert "\n### .resolves {#resolves}\n" in text


def test_accept_markdown_on_the_page_url_serves_the_copy(client, jest_index):
    by_suffix = client.get("/docs/getting-started.md")
    by_accept = client.get("/docs/getting-started", HTTP_ACCEPT="text/markdown")
    assert by_accept.status_code == 200
    assert by_accept["Content-Type"] == "text/markdown; charset=utf-8"
    assert by_accept.content == by_suffix.content
    assert by_accept["Link"] == '<https://jestjs.io/docs/getting-started>; rel="canonical"'
    assert "Accept" in by_accept["Vary"]


def test_other_requests_pass_through(client, jest_index, db):
    assert client.get("/docs/no-such-page.md").status_code == 404
    assert client.get("/chat", HTTP_ACCEPT="text/markdown").json()["limits"]
    html = client.get("/docs/getting-started")  # the demo's own docs viewer decides
    assert html.get("Content-Type", "").startswith(("text/html", "application/json"))


def test_a_md_request_without_an_index_is_a_clear_503(client, db):
    response = client.get("/docs/getting-started.md")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "not_indexed"


@pytest.mark.django_db
def test_copies_and_llms_txt_follow_a_new_index_generation(client, tmp_path):
    from rag.ingestion import ingest_docs

    docs = write_tree(tmp_path / "docs", SMALL_DOCS)
    ingest_docs(docs_path=docs, base_url="https://docs.example.test")
    before = client.get("/docs/intro.md").content.decode()
    listing = client.get("/llms.txt").content.decode()
    assert "Install the pyramid cache" in before
    assert "/docs/tutorial-basics/create-a-page.md" in listing
    assert "## Tutorial basics" in listing  # no sidebar: sections by folder

    (docs / "intro.md").write_text(SMALL_DOCS["intro.md"].replace("pyramid", "obelisk"),
                                   encoding="utf-8")
    (docs / "tutorial-basics" / "create-a-page.md").unlink()
    ingest_docs(docs_path=docs, base_url="https://docs.example.test")
    after = client.get("/docs/intro.md").content.decode()
    assert "Install the obelisk cache" in after and "pyramid" not in after
    assert "/docs/tutorial-basics/create-a-page.md" not in client.get("/llms.txt").content.decode()
    assert client.get("/docs/tutorial-basics/create-a-page.md").status_code == 404


def test_with_a_token_the_copies_and_llms_files_are_private(client, jest_index, settings, db):
    settings.AGENTS_MCP_TOKEN = "agent-token-0123456789"
    for path in ("/llms.txt", "/llms-full.txt", "/docs/getting-started.md"):
        refused = client.get(path)
        assert refused.status_code == 401, path
        assert refused.json()["error"]["code"] == "unauthorized"
        assert "agent-token" not in refused.content.decode()
        allowed = client.get(path, HTTP_AUTHORIZATION="Bearer agent-token-0123456789")
        assert allowed.status_code == 200, path
        assert "Access-Control-Allow-Origin" not in allowed
        assert "private" in allowed["Cache-Control"]
    # Without the token, Accept: text/markdown on a page path gets the page's usual answer.
    page = client.get("/docs/getting-started", HTTP_ACCEPT="text/markdown")
    assert not page.get("Content-Type", "").startswith("text/markdown")
