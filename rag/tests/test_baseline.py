"""The lunr search-box baseline rag_eval reports beside every corpus."""

from rag.baseline import build_baseline


def test_the_baseline_ranks_whole_pages_for_the_question_as_typed(small_docs):
    baseline = build_baseline(small_docs, base_url="https://docs.example.test")
    ranked = baseline.ranked_paths("How do I deploy my site?")
    assert ranked[0] == "tutorial-basics/deploy-your-site.md"
    assert len(ranked) == len(set(ranked))  # one entry per page


def test_typed_punctuation_is_not_lunr_query_syntax(small_docs):
    baseline = build_baseline(small_docs, base_url="https://docs.example.test")
    assert baseline.ranked_paths("title:walrus +build -x ~ ^2 *") is not None
    assert baseline.ranked_paths("zzzunknownzzz") == []
