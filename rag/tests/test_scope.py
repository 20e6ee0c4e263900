import json
import os
from pathlib import Path

import pytest

from rag.index import Manifest, PageEntry
from rag.scope import Scope, ScopeCatalog, choose_scope, version_named_in
from rag.services import answer, retrieve
from rag.site_ingestion import ingest_site
from rag.site_manifest import parse_manifest
from rag.tests.site_factory import site_page, versioned_site

RN_CORPUS = Path(os.environ.get(
    "REACT_NATIVE_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpora" / "react-native"))


def catalog(*entries) -> ScopeCatalog:
    pages = {url: PageEntry("h" * 64, 1, url=url, version=v, locale=loc, latest=latest)
             for url, v, loc, latest in entries}
    return ScopeCatalog.from_manifest(Manifest(spec=None, pages=pages))


SITE = catalog(
    ("https://d.test/docs/intro", "1.0", "en", True),
    ("https://d.test/docs/next/intro", "current", "en", False),
    ("https://d.test/fr/docs/next/intro", "current", "fr", False),
)


def test_the_default_version_is_the_one_docusaurus_serves_at_docs():
    assert SITE.default_version == "1.0"
    unflagged = catalog(("https://d.test/docs/0.79/x", "0.79", "en", False),
                        ("https://d.test/docs/next/x", "current", "en", False))
    assert unflagged.default_version == "current"


def test_a_known_page_decides_version_and_locale():
    choice = choose_scope(question="port?", page_url="https://d.test/fr/docs/next/intro/", catalog=SITE)
    assert choice.scope == Scope("current", "fr") and choice.source == "page"
    assert choice.fallback == Scope("1.0", None)  # 1.0 has no French pages


def test_an_unknown_page_falls_back_to_its_url_segments_only_for_known_values():
    choice = choose_scope(question="q", page_url="https://d.test/docs/next/other", catalog=SITE)
    assert choice.scope == Scope("current", None)
    choice = choose_scope(question="q", page_url="https://d.test/docs/9.9/other", catalog=SITE)
    assert choice.scope == Scope("1.0", None) and choice.source == "default"


def test_docsearch_hints_are_used_when_the_url_says_nothing():
    choice = choose_scope(question="q", page_url="https://d.test/guide", catalog=SITE,
                          version_hint="current", locale_hint="fr")
    assert choice.scope == Scope("current", "fr")


def test_a_version_named_in_the_question_wins():
    assert version_named_in("We're still on React Native 0.79. How?", {"0.79", "current"}) == "0.79"
    assert version_named_in("Listening on port 8081 with Node 20.0", {"0.79", "current"}) is None
    assert version_named_in("does v1 support it?", {"1.0", "current"}) == "1.0"
    choice = choose_scope(question="In 1.0, what is the port?", page_url="https://d.test/docs/next/intro",
                          catalog=SITE)
    assert choice.scope == Scope("1.0", "en") and choice.source == "question" and choice.fallback is None


def test_no_page_and_no_version_means_the_default_docs():
    choice = choose_scope(question="what is the port?", page_url=None, catalog=SITE)
    assert choice.scope == Scope("1.0", None) and choice.source == "default"
    single = catalog(("https://d.test/docs/a", "current", "en", False))
    assert choose_scope(question="q", page_url=None, catalog=single).scope == Scope()


@pytest.fixture
def site(db):
    en, fr = versioned_site()
    en["pages"].append(site_page("/docs/migrate", "Migrate", "# Migrate\n\n## Pelican {#pelican}\n\n"
                                 "The pelican migration tool moves old configs: run `pelican --migrate`.\n",
                                 version="1.0", is_last=True))
    ingest_site(manifests=[parse_manifest(en), parse_manifest(fr)])


def _versions(sources) -> set[str]:
    return {"1.0" if "/next/" not in s["url"] else "current" for s in sources}


async def test_answers_cite_the_readers_version_and_locale(site):
    old = await answer(question="What is the chat server port?", page_url="https://docs.example.com/docs/intro")
    assert old.sources and all(s["url"].startswith("https://docs.example.com/docs/intro") for s in old.sources)
    assert "6060" in old.text
    new = await answer(question="What is the chat server port?", page_url="https://docs.example.com/docs/next/intro")
    assert new.sources and _versions(new.sources) == {"current"} and "7070" in new.text
    fr = await answer(question="Quel est le port du serveur de chat ?",
                      page_url="https://docs.example.com/fr/docs/next/intro")
    assert fr.sources and all(s["url"].startswith("https://docs.example.com/fr/") for s in fr.sources)


async def test_nothing_in_the_readers_version_falls_back_to_the_default_with_a_notice(site):
    result = await answer(question="How do I run the pelican migration tool?",
                          page_url="https://docs.example.com/docs/next/intro")
    assert not result.refused
    assert [s["url"] for s in result.sources][:1] == ["https://docs.example.com/docs/migrate#pelican"]
    assert _versions(result.sources) == {"1.0"}
    assert [n.code for n in result.notices if n.code == "version_fallback"] == ["version_fallback"]
    assert "from the docs of version 1.0" in result.notices[0].message


async def test_sources_never_mix_versions(site):
    for page in (None, "https://docs.example.com/docs/intro", "https://docs.example.com/docs/next/intro"):
        result = await retrieve(question="chat server port quasar cache", page_url=page)
        assert len({h.version for h in result.hits}) == 1


@pytest.fixture
def react_native(db, settings):
    if not (RN_CORPUS / "versioned_docs").is_dir():
        pytest.skip(f"the React Native corpus is not on this machine ({RN_CORPUS})")
    from rag.ingestion import ingest_docs

    ingest_docs(docs_path=RN_CORPUS, base_url="https://reactnative.dev")
    return [json.loads(line) for line in (RN_CORPUS / "qa.jsonl").read_text("utf-8").splitlines() if line.strip()]


@pytest.mark.slow
async def test_react_native_version_questions_are_answered_from_the_version_they_name(react_native):
    items = {item["id"]: item for item in react_native}
    for qid in ("q028", "q029", "q030"):
        result = await retrieve(question=items[qid]["question"])
        assert result.hits and {h.version for h in result.hits} == {"0.79"}, qid
        assert all(h.url.startswith("https://reactnative.dev/docs/0.79/") for h in result.hits)
    expected = "/docs/0.79/hermes"
    assert any(h.page_url.endswith(expected) for h in (await retrieve(question=items["q028"]["question"])).hits[:5])
    for qid in ("q001", "q010"):
        result = await retrieve(question=items[qid]["question"])
        assert {h.version for h in result.hits} == {"current"}, qid
        assert all("/docs/next/" in h.url for h in result.hits)
