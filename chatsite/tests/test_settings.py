"""The environment reaches the apps' settings only when a variable is set; otherwise each
app's ``conf.py`` default applies."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; django.setup(); from django.conf import settings; "
    "from chat.conf import chat_settings; from rag.conf import rag_settings; "
    "print(json.dumps({'turns': chat_settings.HISTORY_TURNS, 'qdrant': rag_settings.QDRANT_URL, "
    "'max_tokens': rag_settings.MAX_TOKENS, 'set': [n for n in ('CHAT_HISTORY_TURNS', 'RAG_QDRANT_URL', "
    "'RAG_MAX_TOKENS') if hasattr(settings, n)]}))"
)


def probe(tmp_path, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("CHAT_", "RAG_", "QDRANT_", "LLM_", "DJANGO_", "DATABASE_"))}
    base.update({"DJANGO_SETTINGS_MODULE": "chatsite.settings", "DEBUG": "true",
                 "CHATSITE_DATA_DIR": str(tmp_path)})
    return subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env={**base, **env},
                          capture_output=True, text=True, timeout=60)


def test_unset_variables_leave_the_apps_defaults(tmp_path):
    result = probe(tmp_path, QDRANT_URL="")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"turns": 8, "qdrant": "", "max_tokens": 800, "set": []}


def test_variables_reach_their_settings_under_either_name(tmp_path):
    result = probe(tmp_path, CHAT_HISTORY_TURNS="5", RAG_QDRANT_URL="http://127.0.0.1:6333",
                   LLM_MAX_TOKENS="300")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["turns"] == 5
    assert json.loads(result.stdout)["qdrant"] == "http://127.0.0.1:6333"
    assert json.loads(result.stdout)["max_tokens"] == 300


def test_both_names_with_different_values_is_a_configuration_error(tmp_path):
    result = probe(tmp_path, QDRANT_URL="http://a.example:6333", RAG_QDRANT_URL="http://b.example:6333")
    assert result.returncode != 0
    assert "QDRANT_URL and RAG_QDRANT_URL are both set" in result.stderr


def test_a_malformed_number_names_the_variable(tmp_path):
    result = probe(tmp_path, CHAT_HISTORY_TURNS="five")
    assert result.returncode != 0
    assert "CHAT_HISTORY_TURNS must be an integer, got 'five'" in result.stderr
