"""A hostile docs folder, as a contributor's pull request could make it.

``make_hostile_docs(tmp)`` writes it (symbolic links, FIFOs and names with control characters
cannot live in git) and returns a ``HostileDocs`` saying where things are:

- ``outside/``: files beside the docs folder holding ``CANARY``; nothing may ever read them.
- ``docs/``: two good pages, one page of hostile *content* that is indexed (raw HTML,
  ``onerror``, ``javascript:`` and ``data:`` links, remote images; the widget must show it
  inert), a page importing partials from outside the folder and through a link, and one file
  per way to break the reader, each listed in ``expected_skips`` with the words its reason
  must contain.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

CANARY = "RT_CANARY_SECRET_7f3a9c"

GOOD_PAGE = """---
title: Quokka backups
---

# Quokka backups

## Nightly snapshots

Quokka writes a nightly snapshot of every vault; restore one with `quokka restore SNAPSHOT`.
"""

PARTIAL_PAGE = """---
title: Partials
---

import Escape from '../outside/_secret.md';
import Linked from './_linked.md';
import Note from './_note.md';

# Partials

## Included note

<Note />

<Escape />

<Linked />
"""

# Content that is valid Markdown and gets indexed: the widget must render it inert.
HOSTILE_CONTENT_PAGE = """---
title: Hostile markup
---

# Hostile markup

## Platypus configuration

The platypus setting is configured in platypus.yml.
<img src="x" onerror="window.__pwned = 'img-onerror'">
<script>window.__pwned = 'script'</script>
[click the platypus](javascript:window.__pwned='js-link')
[platypus data](data:text/html,<script>window.__pwned='data-link'</script>)
![platypus remote image](https://tracker.example.invalid/pixel.png)
<a href="javascript:window.__pwned='raw-a'">raw platypus anchor</a>
<iframe src="javascript:window.__pwned='iframe'"></iframe>
"""

ALIAS_BOMB = """---
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
title: *h
---

# Bomb
"""


@dataclass
class HostileDocs:
    root: Path  # the docs folder to ingest
    outside: Path  # a folder beside it with secrets
    good_pages: set[str] = field(default_factory=set)  # paths that must be indexed
    expected_skips: dict[str, str] = field(default_factory=dict)  # path → words of the reason


def make_hostile_docs(base: Path) -> HostileDocs:
    base.mkdir(parents=True, exist_ok=True)
    outside = base / "outside"
    outside.mkdir()
    secret = outside / "_secret.md"
    secret.write_text(f"# Secret\n\n{CANARY} lives here.\n", encoding="utf-8")
    (outside / "page.md").write_text(f"# Outside page\n\n{CANARY} again.\n", encoding="utf-8")
    root = base / "docs"
    (root / "sub").mkdir(parents=True)
    docs = HostileDocs(root=root, outside=outside)

    def page(rel: str, text: str | bytes) -> Path:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    page("backups.md", GOOD_PAGE)
    page("hostile-markup.md", HOSTILE_CONTENT_PAGE)
    page("partials.mdx", PARTIAL_PAGE)
    page("_note.md", "A harmless note about the wombat.\n")
    os.symlink(secret, root / "_linked.md")
    docs.good_pages = {"backups.md", "hostile-markup.md", "partials.mdx"}

    # Links: out of the folder (the reported leak), to the process environment, and in.
    os.symlink(secret, root / "sub" / "secret.md")
    os.symlink("/proc/self/environ", root / "sub" / "environ.md")
    os.symlink(root / "backups.md", root / "inside-link.md")
    os.symlink(outside, root / "linked-folder")
    docs.expected_skips.update({
        "sub/secret.md": "symbolic link",
        "sub/environ.md": "symbolic link",
        "inside-link.md": "symbolic link",
        "linked-folder": "symbolic link",
    })
    # Not regular files.
    os.mkfifo(root / "fifo.md")
    docs.expected_skips["fifo.md"] = "not a regular file"
    # Unreadable or abusive content.
    page("latin1.md", "# Caf\u00e9\n\nLatin-1 bytes.\n".encode("latin-1"))
    page("alias-bomb.md", ALIAS_BOMB)
    page("yaml-tag.md", "---\ntitle: !!python/object/apply:os.system ['id']\n---\n\n# Tag\n")
    page("binary-tag.md", "---\ntitle: !!binary aGVsbG8=\n---\n\n# Tag\n")
    page("long-title.md", "---\ntitle: " + "T" * 10_000 + "\n---\n\n# Long\n")
    page("list-title.md", "---\ntitle: [a, b]\n---\n\n# List\n")
    page("huge-front-matter.md", "---\n" + "".join(f"k{i}: {'v' * 60}\n" for i in range(400)) + "---\n\n# Big\n")
    page("five-mb-line.md", "# Long line\n\n" + "a" * (5 * 1024 * 1024) + "\n")
    page("long-line.md", "# Long line\n\n" + "b " * 40_000 + "\n")
    page("bad-yaml.md", "---\ntitle: [unclosed\n---\n\nText\n")
    docs.expected_skips.update({
        "latin1.md": "not UTF-8",
        "alias-bomb.md": "aliases",
        "yaml-tag.md": "YAML tag",
        "binary-tag.md": "YAML tag",
        "long-title.md": "longer than",
        "list-title.md": "must be a string",
        "huge-front-matter.md": "front matter is larger",
        "five-mb-line.md": "larger than",
        "long-line.md": "line longer than",
        "bad-yaml.md": "invalid YAML",
    })
    # Names that could forge report or log lines.
    page("escape\x1b[31mred.md", "# Escape\n\nColoured name.\n")
    page("new\nline.md", "# Newline\n\nTwo-line name.\n")
    docs.expected_skips.update({
        "escape\\x1b[31mred.md": "control characters",
        "new\\x0aline.md": "control characters",
    })
    page(os.fsdecode(b"latin1-\xe9name.md"), "# Name\n\nA Latin-1 file name.\n")
    docs.expected_skips["latin1-\\xe9name.md"] = "not UTF-8"
    return docs
