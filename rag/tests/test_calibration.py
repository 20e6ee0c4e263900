"""The per-index "not covered" calibration and the named-subject check."""

from dataclasses import replace

import pytest

from rag.calibration import (
    Calibration,
    calibrate,
    heading_questions,
    offtopic_questions,
)
from rag.relevance import corpus_stats, decide, relevance_threshold, unknown_subject
from rag.sparse import encode_document
from rag.tests.test_relevance import HITS, STATS, _hit, _stats


class _Chunk:
    def __init__(self, title, heading, text):
        self.title, self.heading_path, self.text = title, [heading], text


CHUNKS = [
    _Chunk("Watch mode", "Run tests related to changed files", "Use --watch to rerun tests."),
    _Chunk("Fake timers", "Mock the timers of a test", "Call jest.useFakeTimers() in a test."),
    _Chunk("Snapshots", "Update snapshot files", "Run jest --updateSnapshot to rewrite them."),
    _Chunk("Coverage", "Collect coverage from files", "Set collectCoverageFrom to a glob."),
] * 5


def _calibrate(chunks):
    df = {}
    for chunk in chunks:
        for term in set(encode_document(f"{chunk.title} > {chunk.heading_path[0]}\n\n{chunk.text}").indices):
            df[term] = df.get(term, 0) + 1
    return calibrate(chunks, documents=len(chunks), df=df)


def test_the_bundled_off_topic_questions_are_read_without_comments():
    questions = offtopic_questions()
    assert len(questions) >= 30 and not any(q.startswith("#") for q in questions)


def test_heading_questions_are_built_from_the_corpus_headings():
    questions = heading_questions([_Chunk("T", "Mock the timers of a test", "")])
    assert questions == ["How do I mock the timers of a test?"]


def test_the_threshold_sits_between_off_topic_noise_and_the_corpus_own_topics():
    calibration = _calibrate(CHUNKS)
    assert calibration.offtopic_questions == len(offtopic_questions())
    assert calibration.heading_questions == 4
    assert calibration.threshold == min(calibration.offtopic_quantile, calibration.heading_quantile)
    assert calibration.heading_quantile > calibration.offtopic_quantile


def test_a_calibration_round_trips_and_rejects_garbage():
    calibration = _calibrate(CHUNKS)
    assert Calibration.from_dict(calibration.to_dict()) == calibration
    assert Calibration.from_dict({"threshold": 1}) is None and Calibration.from_dict(None) is None


def test_the_index_calibration_decides_unless_a_site_pins_a_threshold(settings):
    settings.RAG_RELEVANCE_THRESHOLD = None
    calibrated = replace(STATS, calibration=Calibration(10.0, 10.0, 11.0, 40, 4))
    assert relevance_threshold(calibrated) == 10.0
    question = "How do I rerun tests on changed files with --watch?"
    assert decide(question=question, hits=HITS, stats=calibrated).reason == "below_threshold"
    settings.RAG_RELEVANCE_THRESHOLD = 0.1
    assert relevance_threshold(calibrated) == 0.1
    assert not decide(question=question, hits=HITS, stats=calibrated).refused


@pytest.mark.django_db
def test_ingestion_stores_the_calibration_with_the_index_generation(small_docs):
    from rag.ingestion import ingest_docs

    ingest_docs(docs_path=small_docs, base_url="https://docs.example.test")
    stats = corpus_stats()
    assert stats.calibration is not None and stats.calibration.heading_questions > 0
    assert relevance_threshold(stats) == stats.calibration.threshold


def test_a_question_about_a_product_the_docs_barely_mention_is_not_covered():
    stats = _stats([h.text for h in HITS] + ["Zustand is another state library."] + ["filler"] * 20)
    question = "How do I rerun tests with Zustand when files change?"
    assert unknown_subject(question=question, hits=HITS, stats=stats)
    assert decide(question=question, hits=HITS, stats=replace(stats, calibration=Calibration(
        0.01, 0.01, 1.0, 40, 4))).reason == "unknown_subject"


def test_names_the_hits_contain_or_users_own_identifiers_are_not_unknown_subjects():
    hits = HITS + [_hit("react", 1.0, "Testing React apps with Jest.")]
    assert not unknown_subject(question="How do I test React apps?", hits=hits, stats=STATS)
    assert not unknown_subject(question="Why does my setPizzaCount action rerun tests?",
                               hits=HITS, stats=STATS)
    assert not unknown_subject(question="Zustand? How do I rerun tests?", hits=HITS, stats=STATS)


@pytest.mark.django_db
def test_a_backend_that_keeps_no_statistics_gets_the_same_ones_from_its_stored_chunks(
        small_docs, monkeypatch):
    from rag import relevance
    from rag.index import get_index
    from rag.ingestion import ingest_docs

    ingest_docs(docs_path=small_docs, base_url="https://docs.example.test")
    saved = corpus_stats()
    index = get_index()
    monkeypatch.setattr(type(index), "term_stats", lambda self, collection: None)
    monkeypatch.setattr(type(index), "calibration", lambda self, collection: None)
    relevance._stats_cache.clear()
    counted = corpus_stats()
    assert (counted.documents, counted.df) == (saved.documents, saved.df)
    assert counted.calibration == saved.calibration
