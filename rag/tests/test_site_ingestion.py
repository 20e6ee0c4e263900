import copy
import gzip
import json
from io import StringIO

import pytest

from django.core.management import CommandError, call_command

from rag.chunking import chunk_page
from rag.documents import load_pages
from rag.index import get_index
from rag.models import IndexedPage
from rag.site_ingestion import ingest_site, site_chunks
from rag.site_manifest import ManifestError, decode_manifest, parse_manifest, read_manifests
from rag.tests.conftest import write_tree
from rag.tests.site_factory import manifest, site_page, versioned_site, write_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def embeddings(settings, llm):
    settings.RAG_EMBEDDING_MODEL = "fake-embedding"
    return llm


@pytest.fixture
def build(tmp_path):
    en, fr = versioned_site()
    return write_build(tmp_path / "build", {"": en, "fr": fr})


def run(*args) -> str:
    out = StringIO()
    call_command("ingest_site", *args, stdout=out)
    return out.getvalue()


def test_build_folder_with_two_locales_is_read_as_two_manifests(build):
    manifests = read_manifests(build)
    assert [m.locale for m in manifests] == ["en", "fr"]
    assert [p.permalink for p in manifests[1].pages] == ["/fr/docs/next/intro"]


def test_every_chunk_carries_plugin_id_version_and_locale(build):
    report = ingest_site(source=build)
    assert report.added == 4 and report.chunks >= 4
    stored = get_index().stored_chunks("docs", ["/docs/intro", "/fr/docs/next/intro"])
    old = stored["/docs/intro"][0]
    assert (old.version, old.locale, old.extra["plugin_id"], old.extra["version_latest"]) == (
        "1.0", "en", "default", True)
    assert old.url == "https://docs.example.com/docs/intro#setup"
    fr = stored["/fr/docs/next/intro"][0]
    assert (fr.version, fr.locale, fr.url) == ("current", "fr", "https://docs.example.com/fr/docs/next/intro#installation")
    rows = {p.path: p for p in IndexedPage.objects.all()}
    assert rows["/docs/next/intro"].version == "current" and rows["/docs/next/intro"].url.endswith("/docs/next/intro")


def test_unchanged_build_costs_nothing_and_a_changed_page_is_replaced(build, embeddings):
    first = ingest_site(source=build)
    assert first.embedding_calls >= 1
    embeddings.reset()
    again = ingest_site(source=build)
    assert (again.added, again.updated, again.deleted, again.unchanged) == (0, 0, 0, 4)
    assert again.embedding_calls == 0 and embeddings.calls.get("/v1/embeddings", 0) == 0

    en, fr = versioned_site()
    en["pages"][2] = site_page("/docs/next/deploy", "Deploy", "# Deploy\n\n## Build {#build}\n\nRun the otter build.\n")
    write_build(build, {"": en})
    changed = ingest_site(source=build)
    assert changed.updated_paths == ["/docs/next/deploy"] and changed.unchanged == 3


def test_pages_gone_from_the_build_are_pruned_only_in_their_locale(build):
    ingest_site(source=build)
    en, _ = versioned_site()
    en["pages"] = en["pages"][:2]
    report = ingest_site(manifests=[parse_manifest(en)])
    assert report.deleted_paths == ["/docs/next/deploy"]
    assert set(IndexedPage.objects.values_list("path", flat=True)) == {
        "/docs/intro", "/docs/next/intro", "/fr/docs/next/intro"}


def test_dry_run_prints_the_diff_and_changes_nothing(build):
    output = run(str(build), "--dry-run")
    assert "add /docs/next/intro" in output and "add /fr/docs/next/intro" in output
    assert "Dry run, nothing changed. Would have: added 4" in output
    assert IndexedPage.objects.count() == 0 and get_index().manifest("docs") is None
    run(str(build))
    en, fr = versioned_site()
    en["pages"] = en["pages"][1:]
    write_build(build, {"": en})
    output = run(str(build), "--dry-run")
    assert "delete /docs/intro" in output and "deleted 1" in output
    assert IndexedPage.objects.filter(path="/docs/intro").exists()


def test_the_command_accepts_one_manifest_file(build):
    output = run(str(build / "fr" / "docs-chat" / "manifest.json"))
    assert "added 1," in output


@pytest.mark.parametrize(("setup", "message"), [
    (lambda root: root, "has no docs-chat/manifest.json"),
    (lambda root: root / "missing", "does not exist"),
])
def test_a_folder_without_a_manifest_is_a_command_error(tmp_path, setup, message):
    with pytest.raises(CommandError, match=message):
        run(str(setup(tmp_path)))


def test_a_truncated_manifest_file_is_a_command_error_and_the_index_stays(build):
    run(str(build))
    target = build / "docs-chat" / "manifest.json"
    target.write_bytes(target.read_bytes()[:200])
    with pytest.raises(CommandError, match="not valid JSON"):
        run(str(build))
    assert IndexedPage.objects.count() == 4


def _bad(mutate):
    en, _ = versioned_site()
    data = copy.deepcopy(en)
    mutate(data)
    return data


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda d: d.update(schema="other/1"), "schema"),
    (lambda d: d.update(siteUrl="ftp://x"), "siteUrl"),
    (lambda d: d.update(pages=[]), "pages"),
    (lambda d: d["pages"][1].update(url="https://evil.example/docs/next/intro"), "pages[1].url"),
    (lambda d: d["pages"][1].update(permalink="docs/x"), "pages[1].permalink"),
    (lambda d: d["pages"][1].update(locale="fr"), "pages[1].locale"),
    (lambda d: d["pages"][1].update(hash="abc"), "pages[1].hash"),
    (lambda d: d["pages"][1]["version"].update(isLast="yes"), "pages[1].version.isLast"),
    (lambda d: d["pages"][1].update(anchors=[]), "pages[1].headings"),
    (lambda d: d["pages"].append(d["pages"][0]), "pages[3].permalink"),
])
def test_an_invalid_manifest_names_the_bad_field(mutate, field):
    with pytest.raises(ManifestError) as info:
        parse_manifest(_bad(mutate))
    assert info.value.field == field


def test_gzip_is_accepted_and_a_bomb_is_refused():
    en, _ = versioned_site()
    body = gzip.compress(json.dumps(en).encode())
    assert len(decode_manifest(body, max_bytes=1_000_000).pages) == 3
    with pytest.raises(ManifestError, match="larger than 100 bytes once decompressed"):
        decode_manifest(body, max_bytes=100)


def test_a_heading_without_a_page_anchor_links_to_the_page_top():
    markdown = "# A\n\n## Ghost\n\nText about ghosts.\n"
    page = parse_manifest(manifest([site_page("/docs/a", "A", markdown, anchors=[])])).pages[0]
    assert [c.url for c in site_chunks(page)] == ["https://docs.example.com/docs/a"]


def test_the_plugin_text_chunks_like_the_markdown_it_was_built_from(tmp_path):
    """ingest_docs (Markdown) and ingest_site (built text) give the same sections, URLs and text."""
    docs = write_tree(tmp_path / "docs", {"guide.md": (
        "---\ntitle: Guide\n---\n\nIntro text for the guide.\n\n## Install the tool\n\n"
        "Run this:\n\n```bash\nnpm i tool\n```\n\n## Configure {#config}\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n")})
    [md_page] = load_pages(docs, base_url="https://docs.example.com")
    built = site_page("/docs/guide", "Guide", (
        "# Guide\n\nIntro text for the guide.\n\n## Install the tool {#install-the-tool}\n\nRun this:\n\n"
        "```bash\nnpm i tool\n```\n\n## Configure {#config}\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n"))
    from_md = chunk_page(md_page)
    from_site = site_chunks(parse_manifest(manifest([built])).pages[0])
    fields = lambda c: (c.url, c.title, c.heading, c.anchor, c.text, c.version, c.locale)  # noqa: E731
    assert [fields(c) for c in from_site] == [fields(c) for c in from_md]


def test_ingest_docs_chunks_carry_the_default_docs_plugin_id(small_docs):
    from rag.ingestion import ingest_docs

    ingest_docs(docs_path=small_docs, base_url="https://docs.example.com")
    stored = get_index().stored_chunks("docs", ["intro.md"])["intro.md"]
    assert {c.extra["plugin_id"] for c in stored} == {"default"}
