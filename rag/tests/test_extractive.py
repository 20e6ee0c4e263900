"""Offline extractive answers: one focused quote, citations numbered as they appear."""

from rag.extractive import (
    MAX_SUPPORTING,
    SECTION_CHARS,
    extractive_answer,
    reflow,
    refusal_text,
    split_blocks,
)

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

FILLER = ("More words about clocks, intervals, dates and the event loop follow here,\n"
          "wrapped the way authors wrap their lines. ")
TIMERS = (
    "Fake timers replace the global timer functions with implementations that you can\n"
    "drive by hand, so a test never waits for real time to pass. "
    + FILLER * (SECTION_CHARS // len(FILLER) + 1)
    + "The modern implementation is the default one now anyway."
    + """

The test below drives the clock by hand and restores it afterwards, in this order: first
fake timers are installed, then the callback is scheduled, then the clock runs forward.

```js
jest.useFakeTimers();
setTimeout(callback, 1000);
jest.advanceTimersByTime(1000);
```

To restore the real timers, call `jest.useRealTimers()` at the end of the test."""
)


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


def test_answer_starts_with_the_best_section_cited_as_one():
    answer = extractive_answer(query="stop after failing test suites", sources=_sources())
    assert answer.text.startswith("**Jest CLI Options › --bail[=<n>]** [1]\n\n")
    assert "Exit the test suite immediately" in answer.text
    assert answer.cited[0] == 1


def test_citations_are_numbered_in_order_of_appearance_from_one():
    sources = [{**s, "n": n} for s, n in zip(_sources(), (5, 2))]
    answer = extractive_answer(query="rerun changed files watch mode", sources=sources)
    assert answer.text.startswith("**Jest CLI Options › --watch** [1]")
    assert answer.cited[0] == 2  # [1] quotes the source the caller numbered 2
    assert "[2]" not in answer.text or answer.cited[1] == 5
    assert "[5]" not in answer.text


def test_a_lead_in_ending_with_a_colon_brings_its_code_block():
    answer = extractive_answer(query="example bail failing", sources=_sources())
    assert "For example:\n\n```bash\njest --bail 3" in answer.text


def test_a_quoted_code_block_brings_the_sentence_that_introduces_it():
    sources = [{"n": 1, "title": "Timer Mocks", "heading": "", "text": TIMERS}]
    answer = extractive_answer(query="advanceTimersByTime useFakeTimers setTimeout", sources=sources)
    assert "jest.advanceTimersByTime(1000);" in answer.text
    assert "The test below drives the clock by hand" in answer.text


def test_a_long_lead_paragraph_is_cut_to_its_first_sentences():
    sources = [{"n": 1, "title": "Timer Mocks", "heading": "", "text": TIMERS}]
    answer = extractive_answer(query="restore the real timers useRealTimers", sources=sources)
    assert "jest.useRealTimers()" in answer.text
    assert "Fake timers replace the global timer functions" in answer.text
    assert "the default one now anyway" not in answer.text


def test_soft_wrapped_lines_are_reflowed_into_one_paragraph():
    answer = extractive_answer(query="exit failing test suites", sources=_sources())
    assert ("Exit the test suite immediately upon `n` number of failing test suites. "
            "Defaults to `1`.") in answer.text


def test_reflow_keeps_list_items_tables_and_hard_breaks_on_their_own_lines():
    text = "Intro that\nwraps.\n- first item\n  continues\n- second\n\n| a |\n| b |\nbreak  \nhere"
    assert reflow(text) == ("Intro that wraps.\n- first item continues\n- second\n| a |\n| b |\n"
                            "break\nhere")


def test_code_blocks_are_never_reflowed():
    answer = extractive_answer(query="bail example", sources=_sources())
    assert "jest --bail 3\n\n# with an empty line inside the fence\n```" in answer.text


def test_at_most_two_supporting_sections_follow_the_best_one():
    sources = [{"n": n, "title": f"Page {n}", "heading": "", "text": f"Watch mode reruns tests {n}."}
               for n in range(1, 7)]
    answer = extractive_answer(query="watch mode reruns tests", sources=sources)
    assert len(answer.cited) <= 1 + MAX_SUPPORTING


def test_a_passage_repeated_in_another_version_is_quoted_once():
    sources = [
        {"n": 1, "title": "Networking", "heading": "", "text": "Clear text traffic is blocked by default."},
        {"n": 2, "title": "Networking", "heading": "", "text": "> Clear text traffic is blocked by default."},
    ]
    answer = extractive_answer(query="clear text traffic blocked", sources=sources)
    assert answer.cited == [1]
    assert answer.text.count("blocked by default") == 1


def test_same_input_gives_the_same_answer():
    first = extractive_answer(query="watch changed files", sources=_sources())
    assert extractive_answer(query="watch changed files", sources=_sources()) == first


def test_no_overlap_still_quotes_the_best_source():
    answer = extractive_answer(query="zzz qqq", sources=_sources())
    assert answer.cited == [1]
    assert "Exit the test suite" in answer.text


def test_no_text_gives_an_empty_answer():
    answer = extractive_answer(query="watch", sources=[{"n": 1, "title": "x", "heading": "", "text": ""}])
    assert answer.text == "" and answer.cited == []


def test_refusal_names_nearest_pages_without_citing_them():
    text = refusal_text(nearest=[{"title": "Webpack"}, {"title": "Webpack"}, {"title": "CLI"}])
    assert "couldn't find this in the documentation" in text
    assert "“Webpack”, “CLI”" in text
    assert "[1]" not in text


def test_refusal_when_search_failed_says_so():
    assert "can't search the documentation" in refusal_text(nearest=[], retrieval_failed=True)
