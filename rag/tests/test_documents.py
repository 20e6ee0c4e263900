from pathlib import Path, PurePosixPath

import pytest

from rag.documents import (
    DocumentError,
    Slugger,
    detect_layout,
    doc_slug,
    load_pages,
    mdx_to_markdown,
    page_url,
    split_front_matter,
    split_sections,
    strip_number_prefix,
)

from .conftest import write_tree

BASE = "https://docs.example.com"


def urls(root: Path, **kwargs) -> dict[str, str]:
    return {p.path: p.url for p in load_pages(root, base_url=BASE, **kwargs)}


def url_of(rel: str, front_matter: dict | None = None, *, route: str = "/docs") -> str:
    layout = detect_layout(PurePosixPath(rel))
    _, slug = doc_slug(layout.inner_path, front_matter or {})
    return page_url(base_url=BASE, route_base_path=route, layout=layout, slug=slug)


# ----------------------------------------------------------------------------- URL mapping


def test_classic_template_pages_map_to_their_docusaurus_urls(small_docs):
    assert urls(small_docs) == {
        "intro.md": f"{BASE}/docs/intro",
        "tutorial-basics/create-a-page.md": f"{BASE}/docs/tutorial-basics/create-a-page",
        "tutorial-basics/deploy-your-site.md": f"{BASE}/docs/tutorial-basics/deploy-your-site",
    }


@pytest.mark.parametrize(("rel", "expected"), [
    ("01-intro.md", "/docs/intro"),
    ("1_guides/02-setup.md", "/docs/guides/setup"),
    ("10 - advanced/3. tips.mdx", "/docs/advanced/tips"),
    ("2021-01-01-release.md", "/docs/2021-01-01-release"),
    ("1.2-notes.md", "/docs/1.2-notes"),
    ("guides/index.md", "/docs/guides/"),
    ("guides/README.md", "/docs/guides/"),
    ("guides/Guides.md", "/docs/guides/"),
    ("02-guides/01-guides.md", "/docs/guides/"),
    ("index.md", "/docs/"),
    ("a/b/c.md", "/docs/a/b/c"),
])
def test_file_paths_map_like_docusaurus_routing(rel, expected):
    assert url_of(rel) == BASE + expected


@pytest.mark.parametrize(("rel", "front_matter", "expected"), [
    ("guides/setup.md", {"id": "installation"}, "/docs/guides/installation"),
    ("guides/setup.md", {"slug": "/start-here"}, "/docs/start-here"),
    ("guides/setup.md", {"slug": "first-steps"}, "/docs/guides/first-steps"),
    ("guides/setup.md", {"slug": "../elsewhere"}, "/docs/elsewhere"),
    ("guides/setup.md", {"slug": "/"}, "/docs/"),
    ("guides/index.md", {"id": "overview"}, "/docs/guides/"),
    ("guides/index.md", {"slug": "/guides-home"}, "/docs/guides-home"),
    ("01-basics/02-setup.md", {"id": "install"}, "/docs/basics/install"),
])
def test_front_matter_id_and_slug_decide_the_url(rel, front_matter, expected):
    assert url_of(rel, front_matter) == BASE + expected


def test_route_base_path_and_base_url_path_are_honoured(small_docs):
    assert urls(small_docs, route_base_path="/")["intro.md"] == f"{BASE}/intro"
    assert urls(small_docs, route_base_path="/guide")["intro.md"] == f"{BASE}/guide/intro"
    pages = load_pages(small_docs, base_url="https://example.com/project/", route_base_path="/docs")
    assert {p.url for p in pages} >= {"https://example.com/project/docs/intro"}


def test_number_prefixes_are_stripped_only_when_docusaurus_would():
    assert strip_number_prefix("01-intro") == "intro"
    assert strip_number_prefix("1_foo") == "foo"
    assert strip_number_prefix("2021-01-01-post") == "2021-01-01-post"
    assert strip_number_prefix("404") == "404"
    assert strip_number_prefix("intro") == "intro"


def test_versioned_and_translated_site_layouts_give_version_locale_and_url(tmp_path):
    page = "---\ntitle: Intro\n---\nHello there.\n"
    site = write_tree(tmp_path / "site", {
        "docusaurus.config.js": "module.exports = {};\n",
        "versions.json": '["2.0", "1.0"]\n',
        "docs/intro.md": page,
        "versioned_docs/version-2.0/intro.md": page,
        "versioned_docs/version-1.0/guides/setup.md": page,
        "i18n/fr/docusaurus-plugin-content-docs/current/intro.md": page,
        "i18n/fr/docusaurus-plugin-content-docs/version-1.0/intro.md": page,
        "src/pages/index.md": page,
        "blog/post.md": page,
    })
    pages = {p.path: (p.url, p.version, p.locale) for p in load_pages(site, base_url=BASE)}
    assert pages == {
        "docs/intro.md": (f"{BASE}/docs/next/intro", "current", "en"),
        "versioned_docs/version-2.0/intro.md": (f"{BASE}/docs/intro", "2.0", "en"),
        "versioned_docs/version-1.0/guides/setup.md": (f"{BASE}/docs/1.0/guides/setup", "1.0", "en"),
        "i18n/fr/docusaurus-plugin-content-docs/current/intro.md": (f"{BASE}/fr/docs/next/intro", "current", "fr"),
        "i18n/fr/docusaurus-plugin-content-docs/version-1.0/intro.md": (f"{BASE}/fr/docs/1.0/intro", "1.0", "fr"),
    }


def test_site_without_versions_json_serves_current_docs_without_a_version_segment(tmp_path):
    page = "Hello.\n"
    site = write_tree(tmp_path / "site", {
        "docs/intro.md": page,
        "i18n/de/docusaurus-plugin-content-docs/current/intro.md": page,
    })
    assert urls(site) == {
        "docs/intro.md": f"{BASE}/docs/intro",
        "i18n/de/docusaurus-plugin-content-docs/current/intro.md": f"{BASE}/de/docs/intro",
    }


def test_a_version_folder_ingested_on_its_own_knows_its_version(tmp_path):
    root = write_tree(tmp_path / "versioned_docs" / "version-3.1", {"intro.md": "Hello.\n"})
    [page] = load_pages(root, base_url=BASE)
    assert (page.version, page.url) == ("3.1", f"{BASE}/docs/3.1/intro")


def test_jest_docs_use_front_matter_ids_not_file_names(jest_docs):
    mapped = urls(jest_docs, route_base_path="/docs")
    assert mapped["GlobalAPI.md"] == f"{BASE}/docs/api"
    assert mapped["TestingAsyncCode.md"] == f"{BASE}/docs/asynchronous"
    assert mapped["JestObjectAPI.md"] == f"{BASE}/docs/jest-object"
    assert mapped["UpgradingToJest30.md"] == f"{BASE}/docs/upgrading-to-jest30"
    assert "_TypeScriptExamplesNote.md" not in mapped  # a partial, not a page
    assert len(mapped) == 37


# ----------------------------------------------------------------------------- files


def test_partials_hidden_files_and_non_docs_are_skipped(tmp_path):
    root = write_tree(tmp_path / "docs", {
        "page.md": "Text.\n",
        "other.mdx": "Text.\n",
        "_partial.md": "Partial.\n",
        "_drafts/wip.md": "Draft.\n",
        ".hidden/x.md": "Hidden.\n",
        "guide/_category_.json": "{}\n",
        "img/logo.png": "not really a png",
        "notes.txt": "Text.\n",
    })
    assert sorted(urls(root)) == ["other.mdx", "page.md"]


def test_draft_and_unlisted_pages_are_not_indexed(tmp_path):
    root = write_tree(tmp_path / "docs", {
        "a.md": "---\ndraft: true\n---\nSecret.\n",
        "b.md": "---\nunlisted: true\n---\nHidden.\n",
        "c.md": "---\ndraft: false\n---\nPublic.\n",
    })
    assert list(urls(root)) == ["c.md"]


def test_title_comes_from_front_matter_then_first_heading_then_file_name(tmp_path):
    root = write_tree(tmp_path / "docs", {
        "a.md": "---\ntitle: From front matter\n---\n# From heading\n\nText.\n",
        "b.md": "# From heading\n\nText.\n",
        "03-c.md": "Just text.\n",
    })
    titles = {p.path: p.title for p in load_pages(root, base_url=BASE)}
    assert titles == {"a.md": "From front matter", "b.md": "From heading", "03-c.md": "c"}


def test_front_matter_fields_are_read():
    front_matter, body = split_front_matter(
        "---\nid: my-id\nslug: /x\ntitle: 'Title: with colon'\nsidebar_position: 3\n---\nBody\n"
    )
    assert front_matter == {"id": "my-id", "slug": "/x", "title": "Title: with colon", "sidebar_position": 3}
    assert body == "Body\n"


def test_broken_front_matter_is_reported_with_the_file_name(tmp_path):
    root = write_tree(tmp_path / "docs", {"bad.md": "---\ntitle: [unclosed\n---\nText\n"})
    with pytest.raises(DocumentError, match="bad.md"):
        load_pages(root, base_url=BASE)


# ----------------------------------------------------------------------------- MDX


def test_mdx_imports_exports_and_jsx_tags_are_stripped_but_text_children_stay():
    source = """import Tabs from '@theme/Tabs';
import TabItem from '@theme/TabItem';
export const toc = [
  {value: 'x', id: 'x'},
];

Before the tabs.

<Tabs>
  <TabItem value="npm" label="npm">

```bash
npm install
```

  </TabItem>
  <TabItem
    value="yarn"
    label="Yarn">
Use yarn instead.
  </TabItem>
</Tabs>

<details>
<summary>More details</summary>

Hidden text.
</details>

<!-- a comment -->
{/* an MDX comment */}
<LiteYouTubeEmbed id="abc" />
"""
    markdown = mdx_to_markdown(source)
    for gone in ("import ", "export ", "<Tabs", "TabItem", "<details", "summary>", "comment", "LiteYouTube", "toc"):
        assert gone not in markdown
    for kept in ("Before the tabs.", "```bash\nnpm install\n```", "Use yarn instead.", "More details", "Hidden text."):
        assert kept in markdown


def test_code_blocks_are_kept_byte_for_byte_including_imports_and_tags():
    code = """```tsx title="App.tsx"
import React from 'react';
export default function App() {
  return <Tabs><div className="x">{value}</div></Tabs>;
}
:::note not an admonition
```"""
    markdown = mdx_to_markdown(f"Text before.\n\n{code}\n\nText after.\n")
    assert code in markdown


def test_inline_code_keeps_angle_brackets():
    assert "`Array<string>` and `<Foo />`" in mdx_to_markdown("Use `Array<string>` and `<Foo />` here.\n")


def test_admonitions_keep_their_content_and_title():
    markdown = mdx_to_markdown(":::tip[Pro tip]\n\nUse the cache.\n\n:::\n\n:::warning\n\nCareful.\n\n:::\n")
    assert ":::" not in markdown
    assert "Pro tip" in markdown and "Use the cache." in markdown and "Careful." in markdown


def test_imported_partials_are_inlined_where_used(tmp_path):
    root = write_tree(tmp_path / "docs", {
        "_note.md": ":::info\n\nPartial content about the zebra option.\n\n:::\n",
        "page.mdx": "import Note from './_note.md';\n\n# Page\n\n<Note />\n\nAfter.\n",
    })
    [page] = load_pages(root, base_url=BASE)
    text = "\n".join(s.text for s in page.sections)
    assert "Partial content about the zebra option." in text
    assert "import" not in text


def test_jest_partial_import_is_inlined_in_the_page(jest_docs):
    pages = {p.path: p for p in load_pages(jest_docs, base_url=BASE)}
    top = pages["JestObjectAPI.md"].sections[0].text
    assert "will only work as documented if you explicitly import Jest APIs" in top
    assert "import TypeScriptExamplesNote" not in top


# ----------------------------------------------------------------------------- headings


@pytest.mark.parametrize(("heading", "anchor"), [
    ("Getting Started", "getting-started"),
    ("`jest.mock(moduleName, factory, options)`", "jestmockmodulename-factory-options"),
    ("`--bail[=<n>]`", "--bailn"),
    ("Camelcase & dashed args support", "camelcase--dashed-args-support"),
    ("What's new in v2.0?", "whats-new-in-v20"),
    ("[Linked](https://example.com) *emphasis*", "linked-emphasis"),
    ("Ünïcödé Héading", "ünïcödé-héading"),
])
def test_heading_anchors_follow_github_slugger(heading, anchor):
    _, [section] = split_sections(f"## {heading}\n\nText.\n")
    assert section.anchor == anchor


def test_explicit_heading_ids_and_duplicates_get_docusaurus_anchors():
    _, sections = split_sections(
        "## Setup\n\nA\n\n## Setup\n\nB\n\n## Setup {#custom-setup}\n\nC\n\n## Setup\n\nD\n"
    )
    assert [s.anchor for s in sections] == ["setup", "setup-1", "custom-setup", "setup-2"]
    assert [s.heading for s in sections] == ["Setup"] * 4


def test_headings_inside_code_blocks_are_not_sections():
    _, sections = split_sections("## Real\n\n```bash\n# not a heading\n```\n")
    assert [s.heading for s in sections] == ["Real"]
    assert "# not a heading" in sections[0].text


def test_sections_know_their_heading_path():
    title, sections = split_sections(
        "# Title\n\nIntro.\n\n## A\n\nText a.\n\n### A1\n\nText a1.\n\n## B\n\nText b.\n"
    )
    assert title == "Title"
    assert [(s.heading, s.heading_path) for s in sections] == [
        ("", []), ("A", ["A"]), ("A1", ["A", "A1"]), ("B", ["B"]),
    ]
    assert sections[0].text == "Intro."


def test_slugger_counts_like_github_slugger():
    slugger = Slugger()
    assert [slugger.slug("foo"), slugger.slug("foo"), slugger.slug("foo-1"), slugger.slug("foo")] == [
        "foo", "foo-1", "foo-1-1", "foo-2",
    ]


# ----------------------------------------------------------------------------- untrusted docs


@pytest.mark.parametrize(("front_matter", "words"), [
    ("a: &x [1, 2]\ntitle: *x\n", "aliases"),
    ("title: !!str tagged\n", "YAML tag"),
    ("title: !custom value\n", "YAML tag"),
    ("title: 42\n", "must be a string"),
    ("sidebar_label: " + "L" * 400 + "\n", "longer than"),
    ("x: " + "[" * 20 + "]" * 20 + "\n", "nested deeper"),
    ("k: " + "v" * 20_000 + "\n", "larger than"),
])
def test_front_matter_beyond_plain_short_yaml_is_refused(front_matter, words):
    with pytest.raises(DocumentError, match=words):
        split_front_matter(f"---\n{front_matter}---\nBody\n")


def test_a_partial_outside_the_folder_or_behind_a_link_is_not_read(tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text("SECRET partial\n")
    root = write_tree(tmp_path / "docs", {
        "page.mdx": "import A from '../outside.md';\nimport B from './_b.md';\n\n# Page\n\n<A />\n<B />\nText.\n",
    })
    (root / "_b.md").symlink_to(outside)
    [page] = load_pages(root, base_url=BASE)
    assert "SECRET" not in "".join(s.text for s in page.sections)


def test_a_bad_partial_skips_the_page_that_imports_it(tmp_path):
    root = write_tree(tmp_path / "docs", {
        "page.mdx": "import A from './_a.md';\n\n# Page\n\n<A />\n",
        "other.md": "# Other\n\nFine.\n",
    })
    (root / "_a.md").write_bytes(b"\xff not utf-8")
    skipped = []
    pages = load_pages(root, base_url=BASE, skipped=skipped)
    assert [p.path for p in pages] == ["other.md"]
    assert skipped[0].path == "page.mdx" and "_a.md is not UTF-8" in skipped[0].reason
