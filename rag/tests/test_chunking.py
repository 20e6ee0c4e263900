import uuid

from rag.chunking import (
    MAX_WORDS,
    TARGET_WORDS,
    chunk_id,
    chunk_page,
    split_text,
    word_count,
)
from rag.documents import load_pages

from .conftest import write_tree

BASE = "https://docs.example.com"


def chunks_for(tmp_path, text: str, name: str = "guide/page.md"):
    root = write_tree(tmp_path / "docs", {name: text})
    [page] = load_pages(root, base_url=BASE)
    return chunk_page(page)


def paragraph(n: int, word: str = "lorem") -> str:
    return " ".join(f"{word}{i}" for i in range(n)) + "."


def test_each_chunk_carries_title_heading_path_file_path_and_anchor_url(tmp_path):
    chunks = chunks_for(tmp_path, "---\ntitle: Guide\n---\n\nIntro text here.\n\n## Install\n\n"
                                  + paragraph(60) + "\n\n### On Linux\n\n" + paragraph(60, "apt") + "\n")
    by_heading = {c.heading: c for c in chunks}
    linux = by_heading["On Linux"]
    assert linux.index_text.startswith("Guide > Install > On Linux\n\n")
    assert linux.heading_path == ["Install", "On Linux"]
    assert linux.path == "guide/page.md"
    assert linux.url == f"{BASE}/docs/guide/page#on-linux"
    assert linux.page_url == f"{BASE}/docs/guide/page"
    assert (linux.version, linux.locale) == ("current", "en")
    top = by_heading[""]
    assert top.url == f"{BASE}/docs/guide/page" and top.text == "Intro text here."


def test_code_blocks_are_never_split_even_when_longer_than_a_chunk(tmp_path):
    code = "```python\n" + "\n".join(f"value_{i} = compute({i})  # step {i}" for i in range(300)) + "\n```"
    text = "## Big example\n\n" + paragraph(200) + "\n\n" + code + "\n\n" + paragraph(200, "after") + "\n"
    chunks = chunks_for(tmp_path, text)
    holding = [c for c in chunks if "value_0 = compute(0)" in c.text]
    assert len(holding) == 1 and code in holding[0].text
    assert all(c.text.count("```") % 2 == 0 for c in chunks)
    assert len(chunks) >= 3


def test_long_sections_split_at_paragraph_boundaries_near_the_target_size():
    paragraphs = [paragraph(90, f"p{n}w") for n in range(12)]
    pieces = split_text("\n\n".join(paragraphs))
    assert len(pieces) > 1
    assert all(word_count(p) <= MAX_WORDS for p in pieces)
    assert all(word_count(p) >= TARGET_WORDS * 0.5 for p in pieces[:-1])
    assert "\n\n".join(pieces) == "\n\n".join(paragraphs)  # nothing lost, nothing cut mid-paragraph


def test_split_chunks_of_one_section_share_the_anchor_with_increasing_ordinals(tmp_path):
    text = "## Long\n\n" + "\n\n".join(paragraph(100, f"x{n}y") for n in range(10)) + "\n"
    chunks = chunks_for(tmp_path, text)
    assert {c.anchor for c in chunks} == {"long"}
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)


def test_an_almost_empty_section_absorbs_its_subsections(tmp_path):
    text = ("## Options\n\nThese are the options.\n\n### alpha\n\nAlpha does a.\n\n### beta\n\nBeta does b.\n\n"
            "## Other\n\n" + paragraph(50) + "\n")
    chunks = chunks_for(tmp_path, text)
    assert [c.heading for c in chunks] == ["Options", "Other"]
    assert "### alpha" in chunks[0].text and "Beta does b." in chunks[0].text


def test_chunk_ids_are_deterministic_uuid5_of_path_anchor_and_ordinal(tmp_path):
    first = chunks_for(tmp_path, "## A\n\nText.\n")
    again = chunks_for(tmp_path / "again", "## A\n\nText.\n")
    assert [c.id for c in first] == [c.id for c in again] == [chunk_id("guide/page.md", "a", 0)]
    assert uuid.UUID(first[0].id).version == 5
    assert chunk_id("guide/page.md", "a", 1) != first[0].id


def test_page_hash_changes_with_text_or_url_but_not_between_runs(tmp_path):
    base = chunks_for(tmp_path / "1", "## A\n\nText.\n")[0].page_hash
    assert chunks_for(tmp_path / "2", "## A\n\nText.\n")[0].page_hash == base
    assert chunks_for(tmp_path / "3", "## A\n\nOther text.\n")[0].page_hash != base
    assert chunks_for(tmp_path / "4", "---\nslug: /moved\n---\n## A\n\nText.\n")[0].page_hash != base


def test_a_page_with_only_a_title_still_has_one_chunk(tmp_path):
    [chunk] = chunks_for(tmp_path, "---\ntitle: Placeholder page\n---\n")
    assert chunk.text == "Placeholder page" and chunk.anchor == ""


def test_jest_docs_chunk_with_sensible_sizes_and_intact_code(jest_docs):
    pages = load_pages(jest_docs, base_url="https://jestjs.io")
    chunks = [c for p in pages for c in chunk_page(p)]
    assert len({c.id for c in chunks}) == len(chunks)
    assert all(c.text.count("```") % 2 == 0 for c in chunks)
    oversized = [c for c in chunks if word_count(c.text) > MAX_WORDS and "```" not in c.text]
    assert oversized == []
