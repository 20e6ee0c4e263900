import json
from io import StringIO

import pytest

from django.core.management import CommandError, call_command

from rag.models import IndexedPage

pytestmark = pytest.mark.django_db

BASE = "https://docs.example.com"


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def test_ingest_docs_prints_a_summary_and_progress(small_docs):
    output = run("ingest_docs", str(small_docs), "--base-url", BASE)
    assert "added 3, updated 0, deleted 0, unchanged 0 pages" in output
    assert "embedding calls" in output and "chunks" in output
    assert "parse: 3/3" in output  # plain progress lines when not on a terminal
    assert IndexedPage.objects.count() == 3

    again = run("ingest_docs", str(small_docs), "--base-url", BASE)
    assert "added 0, updated 0, deleted 0, unchanged 3 pages" in again
    assert "0 embedding calls" in again


def test_ingest_docs_dry_run_lists_changes_and_writes_nothing(small_docs):
    output = run("ingest_docs", str(small_docs), "--base-url", BASE, "--dry-run")
    assert "Dry run, nothing changed" in output and "add intro.md" in output
    assert IndexedPage.objects.count() == 0


def test_ingest_docs_no_prune_keeps_deleted_pages(small_docs):
    run("ingest_docs", str(small_docs), "--base-url", BASE)
    (small_docs / "intro.md").unlink()
    output = run("ingest_docs", str(small_docs), "--base-url", BASE, "--no-prune")
    assert "deleted 0" in output and "kept 1 pages no longer in the docs" in output
    assert IndexedPage.objects.filter(path="intro.md").exists()
    output = run("ingest_docs", str(small_docs), "--base-url", BASE, "--prune")
    assert "deleted 1" in output


@pytest.mark.parametrize(("args", "message"), [
    (["{missing}", "--base-url", BASE], "does not exist"),
    (["{empty}", "--base-url", BASE], "no .md or .mdx pages"),
    (["{docs}", "--base-url", "not-a-url"], "--base-url must be"),
    (["{docs}", "--base-url", BASE, "--route-base-path", "docs"], "--route-base-path must start"),
    (["{docs}", "--base-url", BASE, "--collection", "../x"], "Invalid collection name"),
])
def test_ingest_docs_misuse_is_a_command_error(small_docs, tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    paths = {"missing": tmp_path / "missing", "empty": tmp_path / "empty", "docs": small_docs}
    args = [a.format(**paths) for a in args]
    with pytest.raises(CommandError, match=message):
        call_command("ingest_docs", *args, stdout=StringIO())


def test_ingest_docs_requires_a_base_url(small_docs):
    with pytest.raises(CommandError, match="base-url"):
        call_command("ingest_docs", str(small_docs), stdout=StringIO())


def test_rag_search_prints_hits_with_score_path_url_and_heading(small_docs):
    run("ingest_docs", str(small_docs), "--base-url", BASE)
    output = run("rag_search", "flamingo react page", "--k", "2")
    first = output.splitlines()[0]
    assert first.startswith("1. ") and "tutorial-basics/create-a-page.md" in first
    assert "(Create your first React Page)" in first
    assert f"{BASE}/docs/tutorial-basics/create-a-page#create-your-first-react-page" in output
    assert "flamingo" in output


def test_rag_search_json_output(small_docs):
    run("ingest_docs", str(small_docs), "--base-url", BASE)
    data = json.loads(run("rag_search", "walrus build", "--k", "3", "--json"))
    assert data["query"] == "walrus build" and data["mode"] == "sparse"
    hit = data["hits"][0]
    assert hit["path"] == "tutorial-basics/deploy-your-site.md"
    assert hit["url"] == f"{BASE}/docs/tutorial-basics/deploy-your-site"
    assert {"score", "heading", "heading_path", "text", "title", "version", "locale"} <= set(hit)
    assert len(data["hits"]) <= 3


def test_rag_search_reports_the_index_calibrated_relevance_threshold(small_docs):
    run("ingest_docs", str(small_docs), "--base-url", BASE)
    data = json.loads(run("rag_search", "walrus build", "--json"))
    relevance = data["relevance"]
    assert relevance["source"] == "calibrated"
    assert relevance["threshold"] == relevance["calibration"]["threshold"]
    assert relevance["covered"] in (True, False) and relevance["score"] is not None
    assert "relevance threshold" in run("rag_search", "walrus build")


def test_rag_search_on_a_separate_collection(small_docs, tmp_path):
    run("ingest_docs", str(small_docs), "--base-url", BASE, "--collection", "eval")
    assert json.loads(run("rag_search", "walrus", "--json", "--collection", "eval"))["hits"]
    with pytest.raises(CommandError, match="ingest_docs"):
        run("rag_search", "walrus")


@pytest.mark.parametrize(("args", "message"), [
    (["  "], "Give a question"),
    (["question", "--k", "0"], "--k must be between"),
    (["question", "--k", "1000"], "--k must be between"),
])
def test_rag_search_misuse_is_a_command_error(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("rag_search", *args, stdout=StringIO())
