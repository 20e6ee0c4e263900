"""Gap topics as ready-to-file issues (Markdown or JSON), for ``export_gaps`` and the admin."""

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass

from .selectors import TopicRow, topic_rows

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GapIssue:
    title: str
    topic_id: int
    status: str
    questions: int
    questions_after_fix: int
    last_7_days: int
    previous_7_days: int
    examples: list[str]
    nearest_pages: list[dict]
    suggested_section: str


def _suggestion(row: TopicRow) -> str:
    pages = row.topic.nearest_pages or []
    if not pages:
        return "A new page: the index found nothing near these questions."
    best = pages[0]
    where = best.get("title") or best.get("url")
    if best.get("heading") and best.get("heading") != best.get("title"):
        where = f"{where} › {best['heading']}"
    return f"Extend “{where}” ({best.get('url')}) or add a page beside it."


def gap_issues(*, since: dt.datetime | None = None, include_fixed: bool = False,
               limit: int = 100) -> list[GapIssue]:
    rows = topic_rows(status=None if include_fixed else "open", since=since, limit=limit, examples=5)
    return [
        GapIssue(
            title=f"Docs gap: {row.topic.label}",
            topic_id=row.topic.pk, status=row.topic.status, questions=row.topic.size,
            questions_after_fix=row.topic.size_after_fix, last_7_days=row.recent,
            previous_7_days=row.previous, examples=row.examples,
            nearest_pages=list(row.topic.nearest_pages or []), suggested_section=_suggestion(row),
        )
        for row in rows
    ]


def _md_line(text: str) -> str:
    """One example question on one Markdown line, inert (no HTML, no link syntax surprises)."""
    flat = " ".join(str(text).split())
    return flat.replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(issues: list[GapIssue]) -> str:
    if not issues:
        return "No documentation gaps in this period.\n"
    parts = []
    for issue in issues:
        lines = [f"## {issue.title}", "",
                 f"- Questions: {issue.questions} ({issue.last_7_days} in the last 7 days, "
                 f"{issue.previous_7_days} in the 7 before)"]
        if issue.status == "fixed":
            lines.append(f"- Marked fixed in docs; asked {issue.questions_after_fix} times since")
        lines += ["", "Readers asked:", ""]
        lines += [f"> {_md_line(example)}" + "\n" for example in issue.examples] or ["> (text expired)\n"]
        lines += ["Nearest pages in the docs today:", ""]
        lines += [f"- [{_md_line(p.get('title') or p.get('url'))}]({p.get('url')})"
                  for p in issue.nearest_pages] or ["- none"]
        lines += ["", f"Suggested section: {issue.suggested_section}", ""]
        parts.append("\n".join(lines))
    return "\n".join(parts)


def render_json(issues: list[GapIssue]) -> str:
    return json.dumps([asdict(issue) for issue in issues], indent=2, ensure_ascii=False) + "\n"


def render(issues: list[GapIssue], fmt: str) -> str:
    return render_json(issues) if fmt == "json" else render_markdown(issues)


def log_export(*, count: int, fmt: str, by: str) -> None:
    logger.info("gap export: %d topics as %s by %s", count, fmt, by)
