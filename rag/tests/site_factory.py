"""Manifests like the Docusaurus plugin writes, for the site ingestion and scope tests."""

import hashlib
import json
from pathlib import Path

SITE = "https://docs.example.com"


def site_page(permalink: str, title: str, text: str, *, version: str = "current", is_last: bool = False,
              locale: str = "en", plugin_id: str = "default", anchors: list[str] | None = None) -> dict:
    ids = anchors if anchors is not None else [
        line.split("{#", 1)[1].rstrip("}") for line in text.splitlines() if line.startswith("#") and "{#" in line]
    page = {
        "permalink": permalink, "url": SITE + permalink, "title": title, "kind": "docs",
        "pluginId": plugin_id,
        "version": {"name": version, "label": "Next" if version == "current" else version,
                    "isCurrent": version == "current", "isLast": is_last},
        "locale": locale,
        "headings": [{"level": 2, "id": i, "text": i, "children": []} for i in ids],
        "anchors": ids, "text": text,
    }
    page["hash"] = hashlib.sha256(json.dumps(page, sort_keys=True).encode()).hexdigest()
    return page


def manifest(pages: list[dict], *, locale: str = "en", base_url: str = "/") -> dict:
    return {"schema": "docs-chat-manifest/1", "generator": "test", "siteUrl": SITE, "baseUrl": base_url,
            "trailingSlash": None, "locale": locale, "defaultLocale": "en", "locales": ["en", "fr"],
            "pages": pages}


def versioned_site() -> tuple[dict, dict]:
    """en: intro in 1.0 (default, served at /docs/) and current (/docs/next/); fr: intro."""
    en = manifest([
        site_page("/docs/intro", "Intro", "# Intro\n\n## Setup {#setup}\n\nThe chat server port is 6060."
                  " Enable the quasar cache with `--legacy-quasar`.\n", version="1.0", is_last=True),
        site_page("/docs/next/intro", "Intro", "# Intro\n\n## Setup {#setup}\n\nThe chat server port is 7070."
                  " Enable the quasar cache with `--quasar-cache`.\n"),
        site_page("/docs/next/deploy", "Deploy", "# Deploy\n\n## Build {#build}\n\nRun the walrus build"
                  " to deploy the site.\n"),
    ])
    fr = manifest([
        site_page("/fr/docs/next/intro", "Présentation", "# Présentation\n\n## Installation {#installation}\n\n"
                  "Le port du serveur de chat est 7070. Le cache quasar s'active avec `--quasar-cache`.\n",
                  locale="fr"),
    ], locale="fr", base_url="/fr/")
    return en, fr


def write_build(root: Path, manifests: dict[str, dict]) -> Path:
    """A build folder: the default locale's manifest at the top, others under <locale>/."""
    for prefix, data in manifests.items():
        target = root / prefix / "docs-chat" / "manifest.json" if prefix else root / "docs-chat" / "manifest.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(data), encoding="utf-8")
    return root
