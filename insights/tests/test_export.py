"""``export_gaps``: one ready-to-file issue per gap topic, checked against golden files."""

import datetime as dt
import json
import logging
import os
from io import StringIO
from pathlib import Path

import pytest

from django.core.management import CommandError, call_command
from django.utils import timezone

from chat.tests.transcript_factory import make_exchange, make_session
from insights.models import GapTopic

pytestmark = pytest.mark.django_db
GOLDEN = Path(__file__).with_name("golden")


@pytest.fixture
def gaps():
    session = make_session()
    now = timezone.now()
    for days_ago, text in [(1, "How do I record a Cypress video of failed specs?"),
                           (2, "cypress video recording for failing specs"),
                           (9, "Can Cypress keep a video when a spec fails?")]:
        make_exchange(session, text, refused=True, at=now - dt.timedelta(days=days_ago))
    make_exchange(session, "Does it support SAML single sign-on with Okta?", refused=True,
                  at=now - dt.timedelta(days=3))
    call_command("rollup_insights", stdout=StringIO())
    GapTopic.objects.filter(label__contains="cypress").update(nearest_pages=[
        {"title": "Troubleshooting", "heading": "Videos", "url": "https://docs.test/docs/troubleshooting#videos",
         "score": 0.5}])


def golden(name: str, actual: str) -> str:
    """The golden file's text; ``UPDATE_GOLDEN=1`` rewrites it from ``actual`` first."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
    return path.read_text(encoding="utf-8")


def export(*args) -> str:
    out = StringIO()
    call_command("export_gaps", *args, "--no-refresh", stdout=out)
    return out.getvalue()


def test_markdown_export_matches_the_golden_file(gaps):
    actual = export()
    assert actual == golden("gaps.md", actual)


def test_json_export_matches_the_golden_file(gaps):
    issues = json.loads(export("--format", "json"))
    for issue in issues:
        issue.pop("topic_id")  # database ids differ between runs
    actual = json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
    assert actual == golden("gaps.json", actual)


def test_since_leaves_out_topics_not_asked_since(gaps):
    since = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    titles = [i["title"] for i in json.loads(export("--since", since, "--format", "json"))]

    assert len(titles) == 1 and "cypress" in titles[0]


def test_a_bad_date_is_a_command_error():
    with pytest.raises(CommandError, match="--since must be a date"):
        call_command("export_gaps", "--since", "last tuesday")


def test_exports_are_logged(gaps, caplog):
    with caplog.at_level(logging.INFO, logger="insights.export"):
        export()
    assert "gap export: 2 topics as markdown by export_gaps command" in caplog.text
