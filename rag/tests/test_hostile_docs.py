"""Docs are untrusted input: a hostile docs folder is ingested without reading outside it,
each bad file skipped with its reason, the rest indexed."""

import pytest

from django.core.management import call_command

from rag.documents import DocumentError, load_pages
from rag.index import get_index
from rag.ingestion import ingest_docs
from rag.retrieval import search

from .hostile_docs import CANARY, make_hostile_docs

pytestmark = pytest.mark.django_db

BASE = "https://docs.example.com"


@pytest.fixture
def hostile(tmp_path):
    return make_hostile_docs(tmp_path / "site")


def _index_bytes(index_dir) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(index_dir.rglob("*")) if p.is_file() and not p.is_symlink())


def test_hostile_docs_are_ingested_with_each_bad_file_skipped_and_reported(hostile, isolated_index):
    report = ingest_docs(docs_path=hostile.root, base_url=BASE)

    skipped = {item.path: item.reason for item in report.skipped}
    assert set(skipped) == set(hostile.expected_skips)
    for path, words in hostile.expected_skips.items():
        assert words in skipped[path], (path, skipped[path])
    assert set(report.added_paths) == hostile.good_pages
    assert search(query="nightly snapshot vault").hits[0].path == "backups.md"


def test_nothing_outside_the_docs_folder_reaches_the_index(hostile, isolated_index):
    ingest_docs(docs_path=hostile.root, base_url=BASE)

    assert CANARY.encode() not in _index_bytes(isolated_index)
    assert b"PATH=" not in _index_bytes(isolated_index)  # /proc/self/environ
    assert all(CANARY not in hit.text for hit in search(query=f"{CANARY} secret lives here").hits)
    partials = [h for h in search(query="wombat harmless note").hits if h.path == "partials.mdx"]
    assert partials, "the partial inside the folder is still inlined"


def test_an_alias_bomb_costs_nothing_and_the_title_stays_small(hostile, isolated_index):
    ingest_docs(docs_path=hostile.root, base_url=BASE)
    manifest = get_index().manifest("docs")
    assert "alias-bomb.md" not in manifest.pages
    assert max(len(entry.title) for entry in manifest.pages.values()) < 300


def test_a_page_that_turns_bad_keeps_its_indexed_version(small_docs, isolated_index):
    ingest_docs(docs_path=small_docs, base_url=BASE)
    (small_docs / "intro.md").write_bytes(b"# Intro\n\n\xff\xfe not UTF-8\n")

    report = ingest_docs(docs_path=small_docs, base_url=BASE)

    assert [(s.path, "not UTF-8" in s.reason) for s in report.skipped] == [("intro.md", True)]
    assert report.deleted == 0
    assert search(query="pyramid cache").hits[0].path == "intro.md"


def test_load_pages_without_a_skip_list_raises_on_the_first_bad_file(hostile):
    with pytest.raises(DocumentError):
        load_pages(hostile.root, base_url=BASE)


def test_docs_made_only_of_bad_files_fail_with_the_reasons(tmp_path):
    from django.core.management.base import CommandError

    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.md").write_bytes(b"\xff\xfe")
    with pytest.raises(CommandError, match=r"a\.md: is not UTF-8"):
        call_command("ingest_docs", str(root), "--base-url", BASE)


def test_ingest_command_lists_skipped_files_with_escaped_names(hostile, capsys):
    call_command("ingest_docs", str(hostile.root), "--base-url", BASE)
    out, err = capsys.readouterr()
    assert f"skipped {len(hostile.expected_skips)} files (listed above)" in out
    assert "skipped sub/environ.md: is a symbolic link" in err
    assert "escape\\x1b[31mred.md" in err and "\x1b[31m" not in err
    assert "new\\x0aline.md" in err
