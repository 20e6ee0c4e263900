"""``rag.types``: the answer events' wire payloads and ``collect`` folding a stream into an
``Answer``."""

import json
from dataclasses import dataclass, field

import pytest

from rag.types import Answer, Delta, Done, Error, Notice, Sources, collect

SOURCE = {"n": 1, "title": "CLI", "heading": "--bail", "url": "https://d.example/docs/cli#bail",
          "path": "cli.md", "score": 0.9, "snippet": "Stop after the first failure."}


def done(**changes) -> Done:
    values = {"model": "fake-model", "prompt_tokens": 120, "completion_tokens": 9,
              "ttft_ms": 40, "retrieval_ms": 7, "refused": False, "cited": [1]}
    return Done(**{**values, **changes})


async def stream(*events):
    for event in events:
        yield event


def test_each_event_gives_its_wire_payload_under_its_sse_name():
    events = [Sources(sources=[SOURCE], refused=False),
              Notice(code="offline_mode", message="No model."), Delta("Use --bail [1]."), done(),
              Error(code="llm_timeout", message="Too slow.", retryable=True, retry_after=3)]
    assert [(e.name, json.loads(json.dumps(e.payload()))) for e in events] == [
        ("sources", {"sources": [SOURCE], "refused": False}),
        ("notice", {"code": "offline_mode", "message": "No model."}),
        ("delta", {"text": "Use --bail [1]."}),
        ("done", {"model": "fake-model", "prompt_tokens": 120, "completion_tokens": 9,
                  "ttft_ms": 40, "retrieval_ms": 7, "refused": False, "cited": [1]}),
        ("error", {"code": "llm_timeout", "message": "Too slow.", "retryable": True,
                   "retry_after": 3}),
    ]


def test_events_are_frozen_values():
    with pytest.raises(AttributeError):
        Delta("a").text = "b"


async def test_collect_joins_the_deltas_and_keeps_sources_notices_and_usage():
    answer = await collect(stream(
        Sources(sources=[SOURCE], refused=False), Notice(code="offline_mode", message="x"),
        Delta("Use "), Delta("--bail"), Delta(" [1]."), done(),
    ), Answer())
    assert answer.text == "Use --bail [1]."
    assert answer.sources == [SOURCE] and answer.cited == [1] and not answer.refused
    assert [n.code for n in answer.notices] == ["offline_mode"]
    assert (answer.model, answer.prompt_tokens, answer.completion_tokens, answer.ttft_ms,
            answer.retrieval_ms) == ("fake-model", 120, 9, 40, 7)
    assert answer.error is None


async def test_collect_takes_refused_from_done_over_the_sources_event():
    answer = await collect(stream(Sources(sources=[], refused=False), Delta("No."),
                                  done(refused=True, cited=[])), Answer())
    assert answer.refused is True


async def test_collect_keeps_the_error_and_the_text_streamed_before_it():
    error = Error(code="llm_unavailable", message="Down.", retryable=False)
    answer = await collect(stream(Sources(sources=[SOURCE], refused=False), Delta("Half"),
                                  error), Answer())
    assert answer.error == error and answer.text == "Half" and answer.model == ""


async def test_collect_of_an_empty_stream_is_an_empty_answer():
    assert await collect(stream(), Answer()) == Answer()


@dataclass
class Tagged(Answer):
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Tag(Notice):
    def fold(self, answer: Tagged) -> None:
        answer.tags.append(self.code)


async def test_collect_fills_a_larger_answer_from_events_that_know_its_fields():
    answer = await collect(stream(Tag(code="a", message=""), Delta("x"), Tag(code="b", message="")),
                           Tagged())
    assert answer.tags == ["a", "b"] and answer.text == "x" and answer.notices == []
