"""``manage.py migrate`` runs on DATABASE_DIRECT_URL when it is set (schema changes bypass the
pooler), while the running service and the test runner keep DATABASE_URL."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow  # each test migrates a fresh database in a subprocess


def tables(path: Path) -> set[str]:
    if not path.exists():
        return set()
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def migrate(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DJANGO_"))}
    base.update({"DJANGO_SETTINGS_MODULE": "chatsite.settings", "DEBUG": "true",
                 "CHATSITE_DATA_DIR": str(tmp_path / "data")})
    return subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO,
                          env={**base, **env}, capture_output=True, text=True, timeout=300)


def test_migrate_from_the_command_line_uses_the_direct_database_url(tmp_path):
    pooled, direct = tmp_path / "pooled.sqlite3", tmp_path / "direct.sqlite3"
    result = migrate(tmp_path, DATABASE_URL=f"sqlite:///{pooled}", DATABASE_DIRECT_URL=f"sqlite:///{direct}")
    assert result.returncode == 0, result.stderr
    assert "chat_history" in tables(direct)
    assert "chat_history" not in tables(pooled)


def test_migrate_without_a_direct_url_uses_the_database_url(tmp_path):
    database = tmp_path / "only.sqlite3"
    result = migrate(tmp_path, DATABASE_URL=f"sqlite:///{database}")
    assert result.returncode == 0, result.stderr
    assert "chat_history" in tables(database)
