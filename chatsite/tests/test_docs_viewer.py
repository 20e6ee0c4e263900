import pytest


@pytest.fixture
def docs_dir(settings, tmp_path):
    root = tmp_path / "docs"
    (root / "guides").mkdir(parents=True)
    (root / "intro.md").write_text("---\nid: intro\ntitle: Intro\nslug: /\n---\n\nHello.\n\n## Install it\n\nRun `make`.\n")
    (root / "guides" / "deploy.md").write_text(
        "---\ntitle: Deploy\n---\n\n## On a server\n\n<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    settings.DEMO_DOCS_DIR = root
    return root


def test_docs_index_serves_the_page_with_slash_slug(client, docs_dir):
    response = client.get("/docs/")
    assert response.status_code == 200
    assert b'id="install-it"' in response.content
    assert b"chat/widget.js" in response.content


def test_docs_page_renders_markdown_without_raw_html(client, docs_dir):
    response = client.get("/docs/guides/deploy")
    assert response.status_code == 200
    assert b"<table>" in response.content
    assert b"<script>alert(1)</script>" not in response.content
    assert b"&lt;script&gt;" in response.content


def test_unknown_docs_page_is_404(client, docs_dir):
    assert client.get("/docs/nope").status_code == 404


def test_docs_viewer_can_be_disabled(client, settings):
    settings.DEMO_DOCS_DIR = None
    assert client.get("/docs/").status_code == 404
