import json

import pytest
from qdrant_client import QdrantClient

from rag.exceptions import IndexLocked, IndexVersionMismatch, RetrievalUnavailable
from rag.index import EdgeIndex, ServerIndex, get_index
from rag.ingestion import ingest_docs
from rag.retrieval import search

pytestmark = pytest.mark.django_db

BASE = "https://docs.example.com"
QUESTIONS = [
    "how do I mock a module",
    "stop after the first failing test suite bail",
    "limit the number of worker processes maxWorkers",
    "stub css and png imports moduleNameMapper",
    "fake timers advance time",
    "snapshot testing update snapshots",
    "setup and teardown beforeEach afterAll",
    "test asynchronous code with promises and async await",
]


@pytest.fixture
def server_index(tmp_path):
    client = QdrantClient(path=str(tmp_path / "qdrant-local"))
    index = ServerIndex(client, location="the local Qdrant")
    yield index
    index.close()


def top(hits, k=5):
    return [(h.chunk_id, round(h.score, 4)) for h in hits[:k]]


@pytest.mark.parametrize("dense", [False, True], ids=["sparse", "hybrid"])
def test_edge_and_qdrant_client_backends_return_the_same_top_k(jest_docs, server_index, settings, request, dense):
    if dense:
        request.getfixturevalue("llm")
        settings.RAG_EMBEDDING_MODEL = "fake-embedding"
    edge_report = ingest_docs(docs_path=jest_docs, base_url="https://jestjs.io")
    server_report = ingest_docs(docs_path=jest_docs, base_url="https://jestjs.io", index=server_index)
    assert edge_report.chunks == server_report.chunks
    for question in QUESTIONS:
        on_edge = search(query=question, k=5)
        on_server = search(query=question, k=5, index=server_index)
        assert on_edge.mode == on_server.mode == ("hybrid" if dense else "sparse")
        if dense:
            # RRF scores tie often; compare the fused sets and the best hit.
            assert {h.chunk_id for h in on_edge.hits} == {h.chunk_id for h in on_server.hits}, question
        else:
            assert top(on_edge.hits) == top(on_server.hits), question
        assert on_edge.hits[0].to_dict() == {**on_server.hits[0].to_dict(), "score": on_edge.hits[0].score}


def test_qdrant_client_backend_updates_pages_in_place(small_docs, server_index):
    ingest_docs(docs_path=small_docs, base_url=BASE, index=server_index)
    (small_docs / "intro.md").write_text("# Intro\n\nAll about the narwhal.\n")
    (small_docs / "tutorial-basics/deploy-your-site.md").unlink()

    report = ingest_docs(docs_path=small_docs, base_url=BASE, index=server_index)

    assert (report.updated, report.deleted, report.unchanged) == (1, 1, 1)
    assert search(query="narwhal", index=server_index).hits[0].path == "intro.md"
    assert not search(query="walrus command", index=server_index).hits
    again = ingest_docs(docs_path=small_docs, base_url=BASE, index=server_index)
    assert (again.added, again.updated, again.deleted, again.unchanged) == (0, 0, 0, 2)
    assert server_index.status("docs")["points"] == report.chunks


def test_searching_a_missing_collection_on_the_server_says_to_ingest(server_index):
    with pytest.raises(RetrievalUnavailable, match="ingest_docs"):
        search(query="anything", index=server_index)


def test_index_built_by_another_engine_version_gives_a_clear_message(small_docs, isolated_index):
    ingest_docs(docs_path=small_docs, base_url=BASE)
    manifest_path = next((isolated_index / "edge" / "docs").glob("gen-*/manifest.json"))
    data = json.loads(manifest_path.read_text())
    data["spec"]["engine_version"] = "0.1.0"
    manifest_path.write_text(json.dumps(data))
    fresh = EdgeIndex(isolated_index)
    with pytest.raises(IndexVersionMismatch) as caught:
        search(query="pyramid", index=fresh)
    message = str(caught.value)
    assert "qdrant-edge-py 0.1.0" in message and "ingest_docs" in message and str(small_docs.resolve()) in message


def test_several_processes_search_the_same_generation_at_once(small_docs, isolated_index):
    """Worker processes of one server each open the live generation (no WAL, no engine lock)."""
    import subprocess
    import sys

    import qdrant_edge

    ingest_docs(docs_path=small_docs, base_url=BASE)
    generation = next((isolated_index / "edge" / "docs").glob("gen-*"))
    assert not (generation / "shard" / "wal").exists()
    holder = qdrant_edge.EdgeShard.load(str(generation / "shard"))  # stands in for a worker
    try:
        assert search(query="pyramid", index=EdgeIndex(isolated_index)).hits[0].path == "intro.md"
        script = (
            "import sys, qdrant_edge as q\n"
            "s = q.EdgeShard.load(sys.argv[1])\n"
            "print(s.info().points_count)\n"
            "s.close()\n"
        )
        other = subprocess.run([sys.executable, "-c", script, str(generation / "shard")],
                               capture_output=True, text=True, timeout=60)
        assert other.returncode == 0, other.stderr
        assert int(other.stdout) == holder.info().points_count > 0
    finally:
        holder.close()


def test_a_generation_read_by_another_process_is_not_deleted_until_it_lets_go(small_docs, isolated_index):
    import fcntl
    import os

    ingest_docs(docs_path=small_docs, base_url=BASE)
    first = next((isolated_index / "edge" / "docs").glob("gen-*"))
    fd = os.open(first / "readers.lock", os.O_RDONLY)  # another worker reading gen-000001
    fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        (small_docs / "intro.md").write_text("# Intro\n\nThe axolotl page.\n")
        ingest_docs(docs_path=small_docs, base_url=BASE)
        assert first.is_dir()
    finally:
        os.close(fd)
    (small_docs / "intro.md").write_text("# Intro\n\nThe capybara page.\n")
    ingest_docs(docs_path=small_docs, base_url=BASE)
    assert sorted(p.name for p in first.parent.glob("gen-*")) == ["gen-000003"]


def test_a_legacy_generation_with_a_write_ahead_log_is_rebuilt_by_the_next_ingest(small_docs, isolated_index):
    ingest_docs(docs_path=small_docs, base_url=BASE)
    manifest_path = next((isolated_index / "edge" / "docs").glob("gen-*/manifest.json"))
    data = json.loads(manifest_path.read_text())
    data["spec"]["format"] = 1
    manifest_path.write_text(json.dumps(data))
    with pytest.raises(IndexVersionMismatch, match="layout version is 1"):
        search(query="pyramid", index=EdgeIndex(isolated_index))
    report = ingest_docs(docs_path=small_docs, base_url=BASE)
    assert "layout version is 1" in report.rebuilt
    assert search(query="pyramid", index=EdgeIndex(isolated_index)).hits[0].path == "intro.md"


def test_a_second_ingest_at_the_same_time_is_refused_with_a_clear_message(small_docs, isolated_index):
    index = get_index()
    with index.ingest_lock("docs"), pytest.raises(IndexLocked, match="Another ingest_docs is already updating"):
        ingest_docs(docs_path=small_docs, base_url=BASE)


def test_ingest_works_while_a_server_holds_the_live_generation(small_docs, isolated_index):
    """A serving process keeps its generation open; ingest builds the next one beside it."""
    ingest_docs(docs_path=small_docs, base_url=BASE)
    server = EdgeIndex(isolated_index)  # another "process" with the index open
    assert search(query="pyramid cache", index=server).hits[0].path == "intro.md"
    (small_docs / "intro.md").write_text("# Intro\n\nThe axolotl page.\n")

    ingest_docs(docs_path=small_docs, base_url=BASE)

    directory = isolated_index / "edge" / "docs"
    assert sorted(p.name for p in directory.glob("gen-*")) == ["gen-000001", "gen-000002"]  # old one in use
    assert search(query="axolotl", index=server).hits[0].path == "intro.md"  # picks up the switch
    assert sorted(p.name for p in directory.glob("gen-*")) == ["gen-000002"]  # and cleans up
    server.close()


def test_a_legacy_qdrant_local_index_is_detected_and_replaced_by_one_ingest(small_docs, isolated_index):
    legacy = QdrantClient(path=str(isolated_index))
    legacy.close()
    (isolated_index / "collection").mkdir(exist_ok=True)
    assert (isolated_index / "meta.json").exists()
    with pytest.raises(RetrievalUnavailable, match="previous backend"):
        search(query="pyramid")
    ingest_docs(docs_path=small_docs, base_url=BASE)
    assert search(query="pyramid cache").hits[0].path == "intro.md"


def test_invalid_collection_names_are_refused(small_docs):
    with pytest.raises(RetrievalUnavailable, match="Invalid collection name"):
        search(query="x", collection="../escape")



def test_the_shared_index_is_replaced_and_closed_when_its_folder_setting_changes(settings, tmp_path):
    settings.RAG_QDRANT_URL = ""
    settings.RAG_INDEX_DIR = tmp_path / "first"
    first = get_index()
    assert get_index() is first
    closed = []
    first.close = lambda: closed.append(first)
    settings.RAG_INDEX_DIR = tmp_path / "second"
    assert closed == [first]  # on setting_changed, before anyone asks again
    second = get_index()
    assert second is not first and second.root == tmp_path / "second"


def test_the_shared_index_is_a_server_index_once_a_qdrant_url_is_set(settings):
    settings.RAG_QDRANT_URL = "http://127.0.0.1:9"
    index = get_index()
    assert isinstance(index, ServerIndex) and "127.0.0.1:9" in index.location


def test_the_clients_module_does_not_import_the_index():
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, rag.clients; assert not any(m.startswith('rag.index') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


def test_an_edge_index_saves_the_calibration_it_is_given_and_none_otherwise(small_docs, tmp_path):
    from rag.calibration import calibrate
    from rag.chunking import chunk_page
    from rag.documents import load_pages
    from rag.index import WritePlan

    pages = {p.path: chunk_page(p) for p in load_pages(small_docs, base_url=BASE)}
    for calibrator, kept in ((None, False), (calibrate, True)):
        index = EdgeIndex(tmp_path / f"index-{kept}")
        plan = WritePlan(spec=index.spec(dense_model=None, dense_size=None), pages=pages,
                         changed=set(pages), deleted=set())
        index.write("docs", plan, embed=lambda texts: None, calibrate=calibrator)
        documents, df = index.term_stats("docs")
        assert documents == sum(len(chunks) for chunks in pages.values()) and df
        assert (index.calibration("docs") is not None) is kept
        index.close()
