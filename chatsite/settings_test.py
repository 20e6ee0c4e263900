"""Settings for the test suite: the real settings module with test-friendly defaults.

Only defaults are set, so DATABASE_URL from the environment still selects SQLite,
PostgreSQL or PostgreSQL through PgBouncer for a run.
"""

import os
import tempfile

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("CORS_ALLOWED_ORIGINS", "http://docs.example.test")
os.environ.setdefault("CHATSITE_DATA_DIR", tempfile.mkdtemp(prefix="chatsite-test-"))
# Never serve a developer's collected (possibly stale) static files to the tests.
os.environ.setdefault("STATIC_ROOT", os.path.join(os.environ["CHATSITE_DATA_DIR"], "static"))
# Tests must never reach a real LLM or Qdrant from the developer's environment.
for _name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "QDRANT_URL", "QDRANT_API_KEY", "REDIS_URL"):
    os.environ.pop(_name, None)

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Most tests keep their data in an open test transaction, visible only on Django's shared
# sync_to_async thread; chat/tests/test_turns.py runs the turn's own database threads.
CHAT_DB_THREADS = 0
