import socket
import threading

import pytest

from rag.exceptions import RetrievalUnavailable
from rag.index import index_status
from rag.ingestion import ingest_docs
from rag.retrieval import Hit, search

from .conftest import write_tree

pytestmark = pytest.mark.django_db

BASE = "https://docs.example.com"


def ingest(root, **kwargs):
    return ingest_docs(docs_path=root, base_url=BASE, **kwargs)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_hits_carry_path_url_with_anchor_heading_and_text(small_docs):
    ingest(small_docs)
    result = search(query="flamingo component react page", k=3)
    hit = result.hits[0]
    assert isinstance(hit, Hit)
    assert hit.path == "tutorial-basics/create-a-page.md"
    assert hit.url == f"{BASE}/docs/tutorial-basics/create-a-page#create-your-first-react-page"
    assert hit.heading == "Create your first React Page"
    assert hit.heading_path == ["Create your first React Page"]
    assert hit.title == "Create a Page"
    assert "flamingo" in hit.text
    assert (hit.version, hit.locale) == ("current", "en")
    assert hit.score > 0 and result.elapsed_ms >= 0 and result.mode == "sparse"


def test_hits_are_ordered_best_first_and_limited_to_k(small_docs):
    ingest(small_docs)
    hits = search(query="create page markdown react docusaurus", k=2).hits
    assert len(hits) == 2
    assert hits[0].score >= hits[1].score


def test_a_query_with_no_searchable_terms_returns_no_hits(small_docs):
    ingest(small_docs)
    assert search(query="   ").hits == []
    assert search(query="the and of").hits == []


def test_version_and_locale_scope_the_search(tmp_path):
    page = "# Intro\n\nConfigure the heron setting in {where}.\n"
    site = write_tree(tmp_path / "site", {
        "versions.json": '["1.0"]',
        "docs/intro.md": page.format(where="next"),
        "versioned_docs/version-1.0/intro.md": page.format(where="one"),
        "i18n/fr/docusaurus-plugin-content-docs/current/intro.md": page.format(where="french"),
    })
    ingest(site)
    assert {h.version for h in search(query="heron setting", version="1.0").hits} == {"1.0"}
    assert {h.locale for h in search(query="heron setting", locale="fr").hits} == {"fr"}
    assert {(h.version, h.locale) for h in search(query="heron setting").hits} == {
        ("current", "en"), ("1.0", "en"), ("current", "fr")}
    assert search(query="heron setting", version="9.9").hits == []


def test_searching_before_any_ingest_says_how_to_build_the_index():
    with pytest.raises(RetrievalUnavailable, match="ingest_docs"):
        search(query="anything")


def test_hybrid_search_is_used_when_the_index_has_dense_vectors(small_docs, settings, llm):
    settings.RAG_EMBEDDING_MODEL = "fake-embedding"
    ingest(small_docs)
    llm.reset()
    result = search(query="walrus build command", k=3)
    assert result.mode == "hybrid"
    assert result.hits[0].path == "tutorial-basics/deploy-your-site.md"
    assert llm.calls.get("/v1/embeddings") == 1


def test_a_failing_query_embedding_falls_back_to_sparse_search(small_docs, settings, llm):
    settings.RAG_EMBEDDING_MODEL = "fake-embedding"
    ingest(small_docs)
    llm.fail_with = 503
    result = search(query="walrus build command unseen words", k=3)
    assert result.mode == "sparse"
    assert result.hits[0].path == "tutorial-basics/deploy-your-site.md"


def test_an_unreachable_qdrant_server_raises_retrieval_unavailable(settings):
    settings.RAG_QDRANT_URL = f"http://127.0.0.1:{closed_port()}"
    settings.RAG_QDRANT_TIMEOUT = 1.0
    with pytest.raises(RetrievalUnavailable, match="Could not reach the Qdrant server"):
        search(query="anything")
    status = index_status()
    assert status["ok"] is False and status["backend"] == "qdrant" and "QDRANT_URL" in status["error"]


def test_index_status_reports_backend_and_points(small_docs):
    assert index_status()["ok"] is False
    report = ingest(small_docs)
    status = index_status()
    assert status["ok"] is True
    assert status["backend"] == "edge" and status["points"] == report.chunks


def test_reindex_while_another_thread_keeps_searching(small_docs):
    """No search fails while ingest_docs replaces the index; results switch to the new text."""
    ingest(small_docs)
    stop = threading.Event()
    errors: list[Exception] = []
    seen_new = threading.Event()
    searches = 0

    def keep_searching():
        nonlocal searches
        while not stop.is_set():
            try:
                hits = search(query="pyramid cache okapi", k=3).hits
                searches += 1
                assert hits, "a search during re-indexing returned nothing"
                if "okapi" in hits[0].text:
                    seen_new.set()
            except Exception as exc:  # noqa: BLE001 - any failure fails the test
                errors.append(exc)
                return

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    try:
        for n in range(5):
            (small_docs / "intro.md").write_text(
                f"# Intro\n\n## Getting Started\n\nRevision {n}: install the pyramid cache.\n")
            ingest(small_docs)
        (small_docs / "intro.md").write_text("# Intro\n\n## Getting Started\n\nThe okapi pyramid cache.\n")
        ingest(small_docs)
        assert seen_new.wait(timeout=30)
    finally:
        stop.set()
        searcher.join(timeout=30)
    assert errors == []
    assert searches > 0
    assert "okapi" in search(query="okapi").hits[0].text


@pytest.mark.slow
def test_ingest_docs_in_another_process_switches_a_serving_process_without_errors(small_docs, isolated_index, tmp_path):
    """The real deployment: the server process holds the index open, the command runs beside it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    ingest(small_docs)
    assert search(query="pyramid cache").hits[0].path == "intro.md"  # this process holds gen 1
    (small_docs / "intro.md").write_text("# Intro\n\n## Getting Started\n\nThe pangolin pyramid cache.\n")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatsite.settings_test",
           "RAG_INDEX_DIR": str(isolated_index), "DATABASE_URL": f"sqlite:///{tmp_path / 'other.sqlite3'}"}
    manage = [sys.executable, str(Path(__file__).resolve().parents[2] / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, capture_output=True)

    done = subprocess.run([*manage, "ingest_docs", str(small_docs), "--base-url", BASE],
                          env=env, capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    assert "updated 1" in done.stdout
    assert "pangolin" in search(query="pangolin").hits[0].text
