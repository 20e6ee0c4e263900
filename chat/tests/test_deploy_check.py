"""``manage.py check --deploy --fail-level WARNING`` with production-like environments.

Run as a subprocess, as an operator would, with nothing from the test settings: the clean
production configurations (Neon direct and pooled, PgBouncer, behind a proxy, with Redis and
a Qdrant server) exit 0; unsafe ones fail loudly.
"""

import os
import subprocess
import sys

import pytest

from testing.servers import REPO

SECRET = "prod-" + "s3cr3t-" * 8
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": SECRET,
    "ALLOWED_HOSTS": "chat.example.com",
    "CORS_ALLOWED_ORIGINS": "https://docs.example.com",
    "DATABASE_URL": "postgres://app:pw@ep-cool-name-123456.eu-central-1.aws.neon.tech/app?sslmode=require",
}


def manage_check(env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO, env={**base, "DJANGO_SETTINGS_MODULE": "chatsite.settings", **env},
        capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize("extra", [
    {},
    {"DATABASE_URL": "postgres://app:pw@ep-cool-name-123456-pooler.eu-central-1.aws.neon.tech/app?sslmode=require",
     "DATABASE_DIRECT_URL": PRODUCTION["DATABASE_URL"]},
    {"DATABASE_URL": "postgres://app:pw@127.0.0.1:6432/app", "DATABASE_POOLED": "true"},
    {"NUM_PROXIES": "1", "REDIS_URL": "redis://cache.internal:6379/0",
     "QDRANT_URL": "https://qdrant.internal:6333", "QDRANT_API_KEY": "qk-123",
     "OPENAI_API_KEY": "sk-prod", "CORS_ALLOWED_ORIGINS": "https://docs.example.com,https://example.com"},
], ids=["neon-direct", "neon-pooled", "pgbouncer", "proxy-redis-qdrant-llm"])
def test_production_settings_pass_the_deploy_check(extra):
    result = manage_check({**PRODUCTION, **extra})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("unsafe,expected", [
    ({"DEBUG": "true"}, "security.W018"),
    ({"SECURE_HSTS_SECONDS": "0"}, "security.W004"),
    ({"SECURE_SSL_REDIRECT": "false"}, "security.W008"),
    ({"SECRET_KEY": "short"}, "security.W009"),
])
def test_unsafe_settings_fail_the_deploy_check(unsafe, expected):
    result = manage_check({**PRODUCTION, **unsafe})
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr


@pytest.mark.parametrize("unsafe,expected", [
    ({"SECRET_KEY": ""}, "SECRET_KEY is required"),
    ({"CORS_ALLOWED_ORIGINS": "*"}, "CORS_ALLOWED_ORIGINS=* is only allowed with DEBUG=true"),
])
def test_settings_refuse_to_start_without_a_secret_or_with_a_cors_wildcard(unsafe, expected):
    result = manage_check({**PRODUCTION, **unsafe})
    assert result.returncode != 0
    assert expected in result.stderr
