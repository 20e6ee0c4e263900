"""The question sets shipped in the repository stay true to the docs they ask about.

Each set follows the Jest corpus schema; every ``answer_contains`` fact must appear verbatim
(case-insensitively) in the item's first expected file, otherwise the key-fact metric would
score an answer against a fact the docs no longer state.
"""

from pathlib import Path

import pytest

from rag.evaluation import load_questions

REPO = Path(__file__).resolve().parents[2]
CORPORA = Path(__file__).resolve().parent / "corpora"

# (question file, folder its ``expected`` paths are relative to, docs folder)
SETS = {
    "classic": (CORPORA / "classic" / "qa.jsonl", CORPORA / "classic", CORPORA / "classic" / "docs"),
    "product": (CORPORA / "product" / "qa.jsonl", REPO, REPO / "docs"),
}


@pytest.fixture(params=sorted(SETS))
def question_set(request):
    path, root, docs = SETS[request.param]
    return load_questions(path), root, docs


def test_question_set_has_every_kind_in_useful_numbers(question_set):
    items, _, _ = question_set
    kinds = [item["kind"] for item in items]
    assert 15 <= len(items) <= 30
    assert kinds.count("out_of_scope") >= 4
    assert 2 <= kinds.count("followup") <= 4
    assert all(item["history"] for item in items if item["kind"] == "followup")


def test_expected_files_exist_inside_the_docs_folder(question_set):
    items, root, docs = question_set
    for item in items:
        for expected in item["expected"]:
            target = (root / expected).resolve()
            assert target.is_file(), f"{item['id']}: {expected} does not exist"
            assert target.is_relative_to(docs.resolve()), f"{item['id']}: {expected} is outside {docs}"


def test_key_facts_appear_verbatim_in_the_first_expected_file(question_set):
    items, root, _ = question_set
    for item in items:
        if item["kind"] == "out_of_scope":
            assert not item["expected"] and not item["answer_contains"], item["id"]
            continue
        assert item["answer_contains"], f"{item['id']} has no key facts"
        text = (root / item["expected"][0]).read_text(encoding="utf-8").lower()
        for fact in item["answer_contains"]:
            assert fact.lower() in text, f"{item['id']}: '{fact}' not in {item['expected'][0]}"


def test_classic_corpus_ships_its_licence():
    assert "MIT License" in (CORPORA / "classic" / "LICENSE").read_text(encoding="utf-8")
