import json
import shutil

import pytest

from rag.exceptions import EmbeddingError, IngestError
from rag.index import get_index
from rag.ingestion import ingest_docs
from rag.models import IndexedPage
from rag.retrieval import search

from .conftest import SMALL_DOCS, write_tree

pytestmark = pytest.mark.django_db

BASE = "https://docs.example.com"


@pytest.fixture
def embeddings(settings, llm):
    settings.RAG_EMBEDDING_MODEL = "fake-embedding"
    return llm


def embedding_calls(server) -> int:
    return server.calls.get("/v1/embeddings", 0)


def ingest(root, **kwargs):
    return ingest_docs(docs_path=root, base_url=BASE, **kwargs)


def test_first_ingest_adds_every_page_and_records_them(small_docs):
    report = ingest(small_docs)
    assert (report.added, report.updated, report.deleted, report.unchanged) == (3, 0, 0, 0)
    assert report.chunks >= 3
    rows = {p.path: p for p in IndexedPage.objects.filter(collection="docs")}
    assert set(rows) == set(SMALL_DOCS)
    assert rows["intro.md"].url == f"{BASE}/docs/intro"
    assert rows["intro.md"].chunk_count >= 1 and len(rows["intro.md"].content_hash) == 64


def test_reingesting_unchanged_docs_makes_zero_embedding_calls(small_docs, embeddings):
    first = ingest(small_docs)
    assert first.embedding_calls >= 1
    assert embedding_calls(embeddings) == first.embedding_calls
    embeddings.reset()

    again = ingest(small_docs)

    assert (again.added, again.updated, again.deleted, again.unchanged) == (0, 0, 0, 3)
    assert again.embedding_calls == 0
    assert embedding_calls(embeddings) == 0


def test_a_changed_page_is_replaced_and_only_its_new_text_is_embedded(small_docs, embeddings):
    ingest(small_docs)
    embeddings.reset()
    (small_docs / "intro.md").write_text("# Tutorial Intro\n\n## Getting Started\n\nNow about the okapi migration.\n")

    report = ingest(small_docs)

    assert (report.added, report.updated, report.unchanged) == (0, 1, 2)
    assert report.updated_paths == ["intro.md"]
    assert embedding_calls(embeddings) == 1
    embedded = [t for r in embeddings.requests if r["path"] == "/v1/embeddings" for t in r["body"]["input"]]
    assert len(embedded) == 1 and "okapi" in embedded[0]
    assert search(query="okapi migration").hits[0].path == "intro.md"
    assert not any("pyramid" in h.text for h in search(query="pyramid cache").hits)


def test_a_deleted_page_is_pruned_from_index_and_database(small_docs):
    ingest(small_docs)
    (small_docs / "tutorial-basics/deploy-your-site.md").unlink()

    report = ingest(small_docs)

    assert report.deleted_paths == ["tutorial-basics/deploy-your-site.md"]
    assert not any(h.path.endswith("deploy-your-site.md") for h in search(query="walrus command build").hits)
    assert not IndexedPage.objects.filter(path="tutorial-basics/deploy-your-site.md").exists()


def test_no_prune_keeps_pages_that_left_the_docs_folder(small_docs, embeddings):
    ingest(small_docs)
    (small_docs / "tutorial-basics/deploy-your-site.md").unlink()
    (small_docs / "intro.md").write_text("# Intro\n\nChanged text about capybaras.\n")
    embeddings.reset()

    report = ingest(small_docs, prune=False)

    assert (report.deleted, report.kept, report.updated) == (0, 1, 1)
    assert embedding_calls(embeddings) == 1  # the kept page's vectors come from the cache
    assert search(query="walrus command").hits[0].path == "tutorial-basics/deploy-your-site.md"
    assert IndexedPage.objects.filter(path="tutorial-basics/deploy-your-site.md").exists()


def test_dry_run_reports_changes_but_touches_nothing(small_docs, embeddings, isolated_index):
    report = ingest(small_docs, dry_run=True)
    assert report.dry_run and report.added == 3
    assert not (isolated_index / "edge").exists()
    assert IndexedPage.objects.count() == 0
    assert embedding_calls(embeddings) == 0

    ingest(small_docs)
    before = IndexedPage.objects.get(path="intro.md").last_indexed_at
    (small_docs / "intro.md").write_text("# Intro\n\nEntirely new.\n")
    (small_docs / "new.md").write_text("# New\n\nA new page.\n")
    embeddings.reset()
    generations = sorted(p.name for p in (isolated_index / "edge" / "docs").iterdir())

    report = ingest(small_docs, dry_run=True)

    assert (report.added_paths, report.updated_paths) == (["new.md"], ["intro.md"])
    assert sorted(p.name for p in (isolated_index / "edge" / "docs").iterdir()) == generations
    assert IndexedPage.objects.get(path="intro.md").last_indexed_at == before
    assert not IndexedPage.objects.filter(path="new.md").exists()
    assert embedding_calls(embeddings) == 0
    assert search(query="pyramid cache").hits[0].path == "intro.md"


def test_unchanged_docs_build_no_new_generation(small_docs, isolated_index):
    ingest(small_docs)
    ingest(small_docs)
    directory = isolated_index / "edge" / "docs"
    assert [p.name for p in directory.iterdir() if p.name.startswith("gen-")] == ["gen-000001"]


def test_changing_the_embedding_model_rebuilds_the_whole_index(small_docs, settings, embeddings):
    ingest(small_docs)
    settings.RAG_EMBEDDING_MODEL = "another-embedding"
    report = ingest(small_docs)
    assert report.rebuilt and "another-embedding" in report.rebuilt
    assert report.updated + report.added == 3


def test_an_index_from_another_engine_version_is_rebuilt_from_the_docs(small_docs, isolated_index):
    ingest(small_docs)
    manifest_path = next((isolated_index / "edge" / "docs").glob("gen-*/manifest.json"))
    data = json.loads(manifest_path.read_text())
    data["spec"]["engine_version"] = "0.0.1"
    manifest_path.write_text(json.dumps(data))

    report = ingest(small_docs)

    assert "0.0.1" in report.rebuilt
    assert report.added == 3
    assert search(query="pyramid cache").hits[0].path == "intro.md"


def test_a_failing_embedding_endpoint_leaves_the_live_index_untouched(small_docs, embeddings):
    ingest(small_docs)
    (small_docs / "intro.md").write_text("# Intro\n\nBrand new lemur content.\n")
    embeddings.fail_with = 500
    with pytest.raises(EmbeddingError, match="embedding endpoint failed"):
        ingest(small_docs)
    embeddings.fail_with = None
    assert search(query="pyramid cache").hits[0].path == "intro.md"
    assert IndexedPage.objects.get(path="intro.md").content_hash != ""


def test_separate_collections_do_not_see_each_other(small_docs, tmp_path):
    other = write_tree(tmp_path / "other", {"eval.md": "# Eval\n\nThe quokka benchmark page.\n"})
    ingest(small_docs)
    ingest(other, collection="eval")
    assert search(query="quokka benchmark", collection="eval").hits[0].path == "eval.md"
    assert not any(h.path == "eval.md" for h in search(query="quokka benchmark").hits)
    assert set(IndexedPage.objects.filter(collection="eval").values_list("path", flat=True)) == {"eval.md"}


@pytest.mark.parametrize("base_url", ["", "docs.example.com", "ftp://x.y", "https://x.y/?q=1"])
def test_bad_base_urls_are_refused(small_docs, base_url):
    with pytest.raises(IngestError, match="base-url"):
        ingest_docs(docs_path=small_docs, base_url=base_url)


def test_missing_or_empty_docs_folders_are_refused(tmp_path):
    with pytest.raises(IngestError, match="not a folder"):
        ingest_docs(docs_path=tmp_path / "nope", base_url=BASE)
    (tmp_path / "empty").mkdir()
    with pytest.raises(IngestError, match="no .md or .mdx"):
        ingest_docs(docs_path=tmp_path / "empty", base_url=BASE)


def test_ingesting_the_jest_docs_indexes_every_page(jest_docs):
    report = ingest_docs(docs_path=jest_docs, base_url="https://jestjs.io")
    assert report.added == 37 and report.chunks > 300
    hits = search(query="jest.useFakeTimers advanceTimersByTime", k=5).hits
    assert hits[0].path == "TimerMocks.md" or any(h.path == "TimerMocks.md" for h in hits)
    assert get_index().status("docs")["points"] == report.chunks


def test_progress_is_reported_per_stage(small_docs):
    seen = []
    ingest(small_docs, progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert ("parse", 3, 3) in seen and seen[-1][0] == "write"


def test_an_old_generation_is_removed_after_the_switch(small_docs, isolated_index):
    ingest(small_docs)
    (small_docs / "intro.md").write_text("# Intro\n\nNew.\n")
    ingest(small_docs)
    directory = isolated_index / "edge" / "docs"
    assert [p.name for p in directory.iterdir() if p.name.startswith("gen-")] == ["gen-000002"]
    shutil.rmtree(directory)
