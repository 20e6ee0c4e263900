"""Offline extractive answers and the "not covered" reply."""

from rag.extractive import extractive_answer, refusal_text, split_blocks

BAIL = """Alias: `-b`. Exit the test suite immediately upon `n` number of failing test suites.
Defaults to `1`.

For example:

```bash
jest --bail 3

# with an empty line inside the fence
```

Unrelated paragraph about colors in the terminal output."""

WATCH = """Watch files for changes and rerun tests related to changed files.
Use `--watchAll` to rerun all tests instead."""


def _sources():
    return [
        {"n": 1, "title": "Jest CLI Options", "heading": "--bail[=<n>]", "text": BAIL},
        {"n": 2, "title": "Jest CLI Options", "heading": "--watch", "text": WATCH},
    ]


def test_blocks_keep_fenced_code_whole_even_with_blank_lines():
    blocks = split_blocks(BAIL)
    code = [b for b, is_code in blocks if is_code]
    assert code == ["```bash\njest --bail 3\n\n# with an empty line inside the fence\n```"]


def test_headings_are_not_quoted_as_passages():
    assert split_blocks("## Title\n\nBody text.") == [("Body text.", False)]


def test_answer_quotes_the_matching_passage_and_cites_its_source():
    text, cited = extractive_answer(query="stop after failing test suites", sources=_sources())
    assert "Exit the test suite immediately" in text
    assert "**Jest CLI Options › --bail[=<n>]** [1]" in text
    assert cited[0] == 1
    assert "colors in the terminal" not in text


def test_a_paragraph_ending_with_a_colon_brings_its_code_block():
    text, _ = extractive_answer(query="example bail failing", sources=_sources())
    assert "```bash\njest --bail 3" in text


def test_citations_only_name_given_sources():
    text, cited = extractive_answer(query="rerun changed files watch", sources=_sources())
    assert set(cited) <= {1, 2}
    assert "[2]" in text and 2 in cited


def test_same_input_gives_the_same_answer():
    first = extractive_answer(query="watch changed files", sources=_sources())
    assert extractive_answer(query="watch changed files", sources=_sources()) == first


def test_no_overlap_still_quotes_the_best_source():
    text, cited = extractive_answer(query="zzz qqq", sources=_sources())
    assert cited == [1]
    assert "Exit the test suite" in text


def test_refusal_names_nearest_pages_without_citing_them():
    text = refusal_text(nearest=[{"title": "Webpack"}, {"title": "Webpack"}, {"title": "CLI"}])
    assert "couldn't find this in the documentation" in text
    assert "“Webpack”, “CLI”" in text
    assert "[1]" not in text


def test_refusal_when_search_failed_says_so():
    assert "can't search the documentation" in refusal_text(nearest=[], retrieval_failed=True)
