"""Tokenisation and sparse vectors: identifiers findable by their parts, BM25 weights."""

from rag.sparse import encode_document, encode_query, stem, term_index, tokenize


def test_camel_case_option_is_found_whole_and_by_its_parts():
    terms = tokenize("Use setupFilesAfterEnv here")
    assert "setupfilesafterenv" in terms
    assert {"setup", "file", "after", "env"} <= set(terms)


def test_cli_flag_matches_the_bare_word():
    assert "watch" in tokenize("jest --watch")
    assert tokenize("--watchAll")[:1] == ["watchall"]


def test_file_names_are_found_whole_and_by_parts():
    terms = tokenize("Create jest.config.js in the root")
    assert {"jest.config.js", "jest", "config", "js"} <= set(terms)


def test_member_call_is_found_by_the_bare_method_name():
    doc = set(tokenize("Call jest.runAllTimers() to flush."))
    assert set(tokenize("runAllTimers")) <= doc


def test_stopwords_and_contractions_are_dropped():
    assert tokenize("How do I make it work? It doesn't, and I'm stuck") == ["make", "work", "stuck"]


def test_possessive_is_folded_into_the_name():
    assert tokenize("React's renderer") == ["react", "renderer"]


def test_plain_words_are_lightly_stemmed_but_identifiers_stay_exact():
    assert stem("failures") == "failure"
    assert stem("mocking") == stem("mocked") == stem("mocks") == "mock"
    assert stem("libraries") == "library"
    assert stem("stopping") == "stop"
    assert stem("class") == "class" and stem("status") == "status"
    assert "tohavebeencalled" in tokenize("toHaveBeenCalled")


def test_query_weights_repeated_terms_sublinearly():
    vector = encode_query("timers timers mock")
    weights = dict(zip(vector.indices, vector.values))
    assert weights[term_index("mock")] == 1.0
    assert 1.0 < weights[term_index("timer")] < 2.0


def test_document_weights_saturate_and_favour_short_texts():
    short = encode_document("watch watch")
    long = encode_document("watch " + "filler " * 300)
    weight = dict(zip(short.indices, short.values))[term_index("watch")]
    assert weight < 2.2
    assert dict(zip(long.indices, long.values))[term_index("watch")] < weight
    assert short.indices == sorted(short.indices)
