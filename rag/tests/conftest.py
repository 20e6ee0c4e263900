"""Fixtures for the rag tests: small Docusaurus docs trees written into tmp_path."""

import os
from pathlib import Path

import pytest

# The Jest corpus lives in shared/ beside the repository (CI clones main next to it).
JEST_CORPUS = Path(
    os.environ.get("JEST_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpora" / "jest")
)
JEST_DOCS = JEST_CORPUS / "docs"


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


SMALL_DOCS = {
    "intro.md": """---
sidebar_position: 1
---

# Tutorial Intro

Let's discover **Docusaurus in less than 5 minutes**.

## Getting Started

Get started by **creating a new site**. Install the pyramid cache with `npm install pyramid`.

```bash
npm init docusaurus@latest my-website classic
```
""",
    "tutorial-basics/create-a-page.md": """---
sidebar_position: 1
---

# Create a Page

Add **Markdown or React** files to `src/pages` to create a **standalone page**.

## Create your first React Page

Create a file at `src/pages/my-react-page.js` with the flamingo component.

## Create your first Markdown Page

Create a file at `src/pages/my-markdown-page.md`.
""",
    "tutorial-basics/deploy-your-site.md": """---
title: Deploy your site
---

Docusaurus is a **static-site-generator**. Build it with the walrus command:

```bash
npm run build
```
""",
}


@pytest.fixture
def small_docs(tmp_path) -> Path:
    return write_tree(tmp_path / "docs", SMALL_DOCS)


@pytest.fixture
def jest_docs() -> Path:
    if not JEST_DOCS.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the Jest docs corpus is missing at {JEST_DOCS} (shared/ beside the repo)")
        pytest.skip(f"the Jest docs corpus is not on this machine ({JEST_DOCS})")
    return JEST_DOCS
