"""Follow-up questions rewritten into standalone search queries."""

import pytest

from rag.rewrite import offline_rewrite, refers_back, rewrite_query
from rag.sparse import encode_query, term_index

HISTORY = [
    {"role": "user", "content": "How do I make my tests run in a browser-like environment?"},
    {"role": "assistant", "content": "Set the `testEnvironment` option to `'jsdom'`."},
]


async def test_question_without_history_is_searched_as_is():
    rewrite = await rewrite_query(question="How do I use --watch?", history=[])
    assert rewrite.query == "How do I use --watch?"
    assert rewrite.method == "none"


async def test_offline_follow_up_borrows_the_topic_from_the_last_exchange():
    rewrite = await rewrite_query(question="what about for a single file?", history=HISTORY)
    assert rewrite.method == "offline"
    assert "browser-like environment" in rewrite.query
    assert "testEnvironment" in rewrite.query and "single file" in rewrite.query


def test_the_question_outweighs_borrowed_terms():
    query = offline_rewrite(question="what about for a single file?", history=HISTORY)
    vector = encode_query(query)
    weights = dict(zip(vector.indices, vector.values))
    assert weights[term_index("single")] > weights[term_index("browser")]


def test_a_self_contained_question_ignores_history():
    question = "How do I configure coverage thresholds per directory in Jest configuration?"
    assert offline_rewrite(question=question, history=HISTORY) == question


async def test_llm_rewrites_when_configured(llm):
    llm.reply = "jest testEnvironment docblock for a single test file"
    rewrite = await rewrite_query(question="what about for a single file?", history=HISTORY)
    assert rewrite == type(rewrite)(query="jest testEnvironment docblock for a single test file",
                                    method="llm")
    body = llm.requests[-1]["body"]
    assert not body.get("stream")
    assert body["max_tokens"] <= 100
    assert "browser-like environment" in body["messages"][-1]["content"]


async def test_llm_failure_falls_back_to_the_offline_rewrite(llm):
    llm.fail_with = 500
    rewrite = await rewrite_query(question="what about for a single file?", history=HISTORY)
    assert rewrite.method == "offline"
    assert "testEnvironment" in rewrite.query


async def test_a_hanging_llm_falls_back_to_the_offline_rewrite(llm, monkeypatch):
    from rag import rewrite

    monkeypatch.setattr(rewrite, "REWRITE_TIMEOUT", 0.3)
    llm.hang = True
    result = await rewrite_query(question="what about for a single file?", history=HISTORY)
    assert result.method == "offline"


@pytest.mark.parametrize("question", [
    "what about for a single file?",
    "and how do I switch back for the remaining tests?",
    "ok. and the OAuth login flow, anything extra?",
    "can I run it by hand from the terminal?",
    "does that also work for layout animations?",
    "How do I use it together with ESLint?",
])
def test_questions_that_lean_on_earlier_turns_refer_back(question):
    assert refers_back(question)


@pytest.mark.parametrize("question", [
    "What's the weather today?",
    "How do I run only the tests that fail?",
    "How do I assert that an async function rejects?",
    "Jest finishes but the process never exits. What is keeping it alive?",
    "Is there a way to record snapshots inline?",
    "Would it be a bad idea to use several stores?",
])
def test_questions_that_stand_alone_do_not_refer_back(question):
    assert not refers_back(question)
