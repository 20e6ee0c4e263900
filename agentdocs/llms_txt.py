"""``/llms.txt`` and ``/llms-full.txt`` in the llmstxt.org format, from a ``DocsSnapshot``.

llms.txt is an H1 (the site), a blockquote (what it is), then H2 sections whose bodies are
Markdown link lists ``- [Title](url.md): note``. Sections follow the docs sidebar when a
``sidebars.json`` sits beside the ingested docs folder (top-level categories become H2s),
otherwise the top-level folders. Only the primary version and locale are listed in the main
sections; other versions and languages go under ``## Optional`` (the format's "may be
skipped" section). To stay under ``AGENTS_LLMS_TXT_MAX_CHARS`` the notes are dropped first,
then the Optional section, then trailing links (a line under the blockquote says how many were left out).

llms-full.txt is the same H1 and blockquote followed by every page's Markdown copy.
"""

import json
from pathlib import Path, PurePosixPath

from rag.documents import detect_layout

from .conf import agent_settings
from .pages import DocPage, DocsSnapshot, primary_group


def _title(snapshot: DocsSnapshot) -> str:
    return agent_settings.LLMS_TITLE or f"{snapshot.site_host} documentation"


def _summary(snapshot: DocsSnapshot) -> str:
    if agent_settings.LLMS_SUMMARY:
        return " ".join(agent_settings.LLMS_SUMMARY.split())
    return (f"The documentation published at {snapshot.base_url or snapshot.site_host}, "
            f"{len(snapshot.pages)} pages. Every link below is a Markdown copy of a page; "
            "/llms-full.txt holds all of them in one file, and the MCP server at /mcp "
            "searches and answers questions from the same index.")


def _sidebar_items(snapshot: DocsSnapshot) -> dict[str, list[str]] | None:
    """Top-level sidebar categories → doc ids, from a sidebars.json beside the docs folder."""
    if not snapshot.docs_path:
        return None
    docs = Path(snapshot.docs_path)
    for candidate in (docs.parent / "sidebars.json", docs / "sidebars.json"):
        try:
            data = json.loads(candidate.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            return _categories(data)
    return None


def _ids(items) -> list[str]:
    found: list[str] = []
    if isinstance(items, str):
        return [items]
    if isinstance(items, dict):
        if items.get("type") in ("doc", "ref") and isinstance(items.get("id"), str):
            return [items["id"]]
        if isinstance(items.get("link"), dict) and isinstance(items["link"].get("id"), str):
            found.append(items["link"]["id"])
        if "items" in items:
            return found + _ids(items["items"])
        for value in items.values():  # the shorthand {"Label": [ids]}
            if isinstance(value, list):
                found += _ids(value)
        return found
    if isinstance(items, list):
        for item in items:
            found += _ids(item)
    return found


def _categories(sidebars: dict) -> dict[str, list[str]]:
    categories: dict[str, list[str]] = {}
    for sidebar in sidebars.values():
        if isinstance(sidebar, dict):  # {"Category": [...]} shorthand
            for label, items in sidebar.items():
                categories.setdefault(str(label), []).extend(_ids(items))
        elif isinstance(sidebar, list):
            for item in sidebar:
                if isinstance(item, dict) and item.get("type") == "category":
                    categories.setdefault(str(item.get("label", "Docs")), []).extend(_ids(item))
                else:
                    categories.setdefault("Docs", []).extend(_ids(item))
    return categories


def _by_doc_id(pages: list[DocPage], doc_id: str) -> DocPage | None:
    slug = "/" + doc_id.strip("/")
    for page in pages:
        stem = page.path.rsplit(".", 1)[0]
        if page.route.endswith(slug) or stem == doc_id.strip("/"):
            return page
    return None


def _folder_label(page: DocPage) -> str:
    # The folder inside the version's docs (a site root holds docs/, versioned_docs/, i18n/).
    inner = detect_layout(PurePosixPath(page.path), versions=[]).inner_path.as_posix()
    if "/" not in inner:
        return "Docs"
    folder = inner.split("/", 1)[0]
    words = folder.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else "Docs"


def sections(snapshot: DocsSnapshot) -> list[tuple[str, list[DocPage]]]:
    """(H2 title, pages) in reading order; the last one may be ``Optional``."""
    primary = primary_group(snapshot.pages)
    main = [p for p in snapshot.pages if (p.version, p.locale) == primary]
    rest = [p for p in snapshot.pages if (p.version, p.locale) != primary]
    grouped: list[tuple[str, list[DocPage]]] = []
    placed: set[str] = set()
    categories = _sidebar_items(snapshot)
    if categories:
        for label, ids in categories.items():
            pages = []
            for doc_id in ids:
                page = _by_doc_id(main, doc_id)
                if page is not None and page.path not in placed:
                    placed.add(page.path)
                    pages.append(page)
            if pages:
                grouped.append((label, pages))
    folders: dict[str, list[DocPage]] = {}
    for page in main:
        if page.path not in placed:
            folders.setdefault(_folder_label(page) if not categories else "Other pages", []).append(page)
    grouped += sorted(folders.items(), key=lambda item: (item[0] != "Docs", item[0]))
    if rest:
        grouped.append(("Optional", rest))
    return grouped


def _link(page: DocPage, base: str, *, note: bool) -> str:
    title = page.title.replace("[", "(").replace("]", ")")
    line = f"- [{title}]({base}{page.md_route})"
    extra = []
    if page.version and page.version != "current":
        extra.append(f"version {page.version}")
    if note and page.description:
        extra.append(page.description)
    return line + (": " + "; ".join(extra) if extra else "")


def _render(head: str, groups, base: str, *, notes: bool) -> str:
    parts = [head]
    for label, pages in groups:
        parts.append(f"## {label}\n\n" + "\n".join(_link(p, base, note=notes) for p in pages))
    return "\n\n".join(parts) + "\n"


def llms_txt(snapshot: DocsSnapshot, *, base: str) -> str:
    """The llms.txt text; ``base`` is this server's origin (links go to the .md copies)."""
    key = ("llms.txt", base)
    if key in snapshot.rendered:
        return snapshot.rendered[key]
    limit = agent_settings.LLMS_TXT_MAX_CHARS
    head = f"# {_title(snapshot)}\n\n> {_summary(snapshot)}"
    groups = sections(snapshot)
    text = _render(head, groups, base, notes=True)
    if len(text) >= limit:
        text = _render(head, groups, base, notes=False)
    if len(text) >= limit and groups and groups[-1][0] == "Optional":
        groups = groups[:-1]
        text = _render(head, groups, base, notes=False)
    if len(text) >= limit:
        text = _truncated(head, groups, base, limit)
    snapshot.rendered[key] = text
    return text


def _truncated(head: str, groups, base: str, limit: int) -> str:
    total = sum(len(pages) for _, pages in groups)
    kept_at = 1  # the note goes between the blockquote and the H2s, where prose is allowed
    reserve = 200  # room for that note
    lines, size, kept = [head, ""], len(head), 0
    for label, pages in groups:
        header = f"\n\n## {label}\n"
        if size + len(header) + reserve >= limit:
            break
        lines.append(header)
        size += len(header)
        for page in pages:
            line = "\n" + _link(page, base, note=False)
            if size + len(line) + reserve >= limit:
                break
            lines.append(line)
            size += len(line)
            kept += 1
    lines[kept_at] = (f"\n\n{total - kept} of {total} pages are left out to keep this file "
                      f"under {limit} characters; /llms-full.txt has every page.")
    return "".join(lines) + "\n"


def llms_full_txt(snapshot: DocsSnapshot) -> str:
    key = ("llms-full.txt",)
    if key not in snapshot.rendered:
        head = f"# {_title(snapshot)}\n\n> {_summary(snapshot)}\n"
        pages = []
        for page in snapshot.pages:
            # Each page's own H1 stays; its source URL precedes it so agents can cite it.
            pages.append(f"<!-- Source: {page.url} -->\n\n{page.markdown}")
        snapshot.rendered[key] = head + "\n" + "\n".join(pages)
    return snapshot.rendered[key]
