"""Settings for the chatsite project.

The environment is read here and only here. With no environment at all the project runs
offline: SQLite under ``data/``, the embedded search index under ``data/index``, and the
extractive answer mode (no LLM). Production sets ``DATABASE_URL`` (Neon), ``QDRANT_URL`` and
``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``. See ``docs/configuration.md``.
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# CORE
DATA_DIR = Path(os.environ.get("CHATSITE_DATA_DIR", BASE_DIR / "data"))
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. Set SECRET_KEY to a long random "
            "string (python -c 'import secrets; print(secrets.token_urlsafe(50))'), or set "
            "DEBUG=true for local development."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "chat",
    "rag",
    "insights",
    "agentdocs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "chatsite.static_files.AsyncWhiteNoiseMiddleware",  # whitenoise, async bodies under ASGI
    "corsheaders.middleware.CorsMiddleware",
    # Markdown copies of indexed pages (<page>.md, Accept: text/markdown); see docs/agents.md.
    "agentdocs.middleware.MarkdownCopiesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "chatsite.admin_login.AdminLoginThrottle",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chatsite.urls"
ASGI_APPLICATION = "chatsite.asgi.application"
WSGI_APPLICATION = "chatsite.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# DATABASES
# DATABASE_URL selects the database (default: a SQLite file under DATA_DIR). A pooled URL
# (Neon's "-pooler" host, or DATABASE_POOLED=true for PgBouncer in transaction mode) turns
# off server-side cursors and psycopg's prepared statements, which a transaction pooler
# cannot carry between transactions. DATABASE_DIRECT_URL, when set, is used by `migrate`
# (schema changes should bypass the pooler).
# PostgreSQL connections come from a psycopg pool (Django's OPTIONS["pool"]) unless
# DATABASE_POOL=false or CONN_MAX_AGE is set (persistent per-thread connections instead):
# a chat turn's database work runs on several threads (chat.turns), and a pool opens each
# connection once instead of once per request. Pooled connections are checked on checkout,
# so a backend killed while idle (pg_terminate_backend, a failover) is replaced, not used.
# The client-side pool works in front of PgBouncer in transaction mode too.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASE_URL = f"sqlite:///{DATA_DIR / 'db.sqlite3'}"
DATABASE_DIRECT_URL = os.environ.get("DATABASE_DIRECT_URL", "")
_running_migrate = len(sys.argv) > 1 and sys.argv[1] == "migrate"
_database_url = DATABASE_DIRECT_URL if (DATABASE_DIRECT_URL and _running_migrate) else DATABASE_URL
_default_db = dj_database_url.parse(
    _database_url,
    conn_max_age=env_int("CONN_MAX_AGE", 0),
    conn_health_checks=env_bool("CONN_HEALTH_CHECKS", True),
)
_host = urlsplit(_database_url).hostname or ""
DATABASE_POOLED = env_bool("DATABASE_POOLED", "-pooler" in _host) and not (
    DATABASE_DIRECT_URL and _running_migrate
)
if _default_db["ENGINE"] == "django.db.backends.postgresql":
    _options = _default_db.setdefault("OPTIONS", {})
    _options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
    if DATABASE_POOLED:
        _default_db["DISABLE_SERVER_SIDE_CURSORS"] = True
        _options["prepare_threshold"] = None
    _conn_max_age_set = bool(os.environ.get("CONN_MAX_AGE"))
    if env_bool("DATABASE_POOL", not _conn_max_age_set and not _running_migrate):
        if _default_db.get("CONN_MAX_AGE"):
            raise ImproperlyConfigured(
                "DATABASE_POOL=true cannot be combined with CONN_MAX_AGE (a pooled connection "
                "is returned to the pool after each use). Unset CONN_MAX_AGE or set "
                "DATABASE_POOL=false."
            )
        _options["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2),
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10),
            # Waiting for a free connection is bounded like opening one: when the database
            # is unreachable a request degrades after the connect timeout, not later.
            "timeout": env_float("DATABASE_POOL_TIMEOUT", float(_options["connect_timeout"])),
        }  # with CONN_HEALTH_CHECKS (default on) Django checks a connection on checkout
elif _default_db["ENGINE"] == "django.db.backends.sqlite3":
    _default_db.setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
# The test runner's database name (several suites can then share one server).
if os.environ.get("DATABASE_TEST_NAME"):
    _default_db["TEST"] = {"NAME": os.environ["DATABASE_TEST_NAME"]}
DATABASES = {"default": _default_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# CACHES
# Throttles and token budgets live in the cache. The default is per-process; production with
# more than one worker needs a shared cache: set REDIS_URL.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# AUTH
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# I18N
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# STATIC
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# The widget lives at the stable URL /static/chat/widget.js; whitenoise serves it (with
# CORS-friendly headers). After `manage.py collectstatic` it is served from STATIC_ROOT,
# pre-compressed (gzip); without it (or with DEBUG) straight from the app directories.
# STATIC_MANIFEST=true also serves content-hashed copies, e.g. /static/chat/widget.<hash>.js,
# cached for a year and pinnable with Subresource Integrity (`manage.py widget_snippet`).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST", False)
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or not (STATIC_ROOT / "chat" / "widget.js.gz").exists()
WHITENOISE_AUTOREFRESH = DEBUG

# DEMO
# The demo page (/) and the docs viewer (/docs/) only when asked: DEMO_DOCS_DIR names the
# docs to serve; unset, the bundled docs with DEBUG on and nothing in production.
_demo_docs = os.environ.get("DEMO_DOCS_DIR")
DEMO_DOCS_DIR = (BASE_DIR / "docs" if DEBUG else None) if _demo_docs is None else (Path(_demo_docs) if _demo_docs else None)

# SECURITY
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_int("NUM_PROXIES", 0) else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Error pages (the DEBUG 500 page of `make run`) and e-mails never show connection URLs,
# passwords or keys (chatsite/error_reporting.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "chatsite.error_reporting.ConnectionSecretsFilter"
# Failed admin logins allowed per client IP and per username in the window; then 429
# (chatsite/admin_login.py).
ADMIN_LOGIN_MAX_FAILURES = env_int("ADMIN_LOGIN_MAX_FAILURES", 5)
ADMIN_LOGIN_WINDOW_SECONDS = env_int("ADMIN_LOGIN_WINDOW_SECONDS", 900)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 256 * 1024)
# Slow clients: a connection whose request headers (or body) do not arrive within these
# seconds is closed (chatsite/server.py, uvicorn --http chatsite.server:GuardedHTTPProtocol).
SERVER_HEADER_TIMEOUT = env_float("SERVER_HEADER_TIMEOUT", 10.0)
SERVER_BODY_TIMEOUT = env_float("SERVER_BODY_TIMEOUT", 30.0)

# AGENTS
# The MCP endpoint at /mcp, /llms.txt and the pages' Markdown copies (docs/agents.md).
# Defaults live in agentdocs/conf.py; MCP_TOKEN makes /mcp require a bearer token.
if "MCP_ENABLED" in os.environ:
    AGENTS_MCP_ENABLED = env_bool("MCP_ENABLED", True)
if os.environ.get("MCP_TOKEN"):
    AGENTS_MCP_TOKEN = os.environ["MCP_TOKEN"]
if os.environ.get("MCP_RATE"):
    AGENTS_MCP_RATE = os.environ["MCP_RATE"]
if "MCP_STATELESS" in os.environ:
    AGENTS_MCP_STATELESS = env_bool("MCP_STATELESS", False)
if os.environ.get("LLMS_TITLE"):
    AGENTS_LLMS_TITLE = os.environ["LLMS_TITLE"]
if os.environ.get("LLMS_SUMMARY"):
    AGENTS_LLMS_SUMMARY = os.environ["LLMS_SUMMARY"]

# CORS
# Only the docs sites listed in CORS_ALLOWED_ORIGINS may call the API from a browser. A
# wildcard is refused unless DEBUG is on.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
if "*" in CORS_ALLOWED_ORIGINS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "CORS_ALLOWED_ORIGINS=* is only allowed with DEBUG=true; list your docs site "
            "origins, e.g. CORS_ALLOWED_ORIGINS=https://docs.example.com"
        )
    CORS_ALLOWED_ORIGINS = []
    CORS_ALLOW_ALL_ORIGINS = True
CORS_URLS_REGEX = r"^/(chat|chatkit|static/chat)(/.*)?$"
CORS_ALLOW_HEADERS = ["accept", "content-type", "x-chat-session", "last-event-id", "x-chat-client"]
CORS_EXPOSE_HEADERS = ["Retry-After", "X-Chat-Session"]
CORS_PREFLIGHT_MAX_AGE = 86400

# REST FRAMEWORK
NUM_PROXIES = env_int("NUM_PROXIES", 0)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "chat.exceptions.api_exception_handler",
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "chat_ip": os.environ.get("CHAT_RATE_IP", "30/min"),
        "chat_session": os.environ.get("CHAT_RATE_SESSION", "20/min"),
        "history": os.environ.get("CHAT_RATE_HISTORY", "120/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Docs chat API",
    "DESCRIPTION": "Chat with a Docusaurus site's docs: streamed answers with sources and history.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# CHAT (the reusable app's settings; defaults in chat/conf.py)
CHAT_MAX_MESSAGE_CHARS = env_int("CHAT_MAX_MESSAGE_CHARS", 4000)
CHAT_SESSION_IDLE_DAYS = env_int("CHAT_SESSION_IDLE_DAYS", 90)
CHAT_SESSION_DAILY_TOKENS = env_int("CHAT_SESSION_DAILY_TOKENS", 200_000)
CHAT_GLOBAL_DAILY_TOKENS = env_int("CHAT_GLOBAL_DAILY_TOKENS", 5_000_000)
# An answer left pending this long (its process died mid-answer) is failed and may be retried.
CHAT_PENDING_TIMEOUT_SECONDS = env_int("CHAT_PENDING_TIMEOUT_SECONDS", 300)
# Days question and answer text is kept; after that only counts and gap topics remain
# (applied by `manage.py rollup_insights`). Unset: kept until the session is pruned.
if os.environ.get("CHAT_TRANSCRIPT_DAYS"):
    CHAT_TRANSCRIPT_DAYS = env_int("CHAT_TRANSCRIPT_DAYS", 0)
if os.environ.get("CHAT_DB_THREADS"):  # threads for chat turns' database work (chat/conf.py)
    CHAT_DB_THREADS = env_int("CHAT_DB_THREADS", 0)

# QDRANT
# No QDRANT_URL: the embedded engine stores the index under RAG_INDEX_DIR.
RAG_QDRANT_URL = os.environ.get("QDRANT_URL", "")
RAG_QDRANT_API_KEY = os.environ.get("QDRANT_API_KEY", "")
RAG_QDRANT_TIMEOUT = env_float("QDRANT_TIMEOUT", 5.0)
RAG_INDEX_DIR = Path(os.environ.get("RAG_INDEX_DIR", DATA_DIR / "index"))
RAG_COLLECTION = os.environ.get("RAG_COLLECTION", "docs")
RAG_DOCS_BASE_URL = os.environ.get("DOCS_BASE_URL", "")
# POST /api/ingest (CI pushes the Docusaurus plugin's manifest): off unless INGEST_TOKEN is set.
if os.environ.get("INGEST_TOKEN"):
    RAG_INGEST_TOKEN = os.environ["INGEST_TOKEN"]
if os.environ.get("INGEST_MAX_BYTES"):
    RAG_INGEST_MAX_BYTES = env_int("INGEST_MAX_BYTES", 0)
# Questions scoring below this are answered "not covered by the docs" (docs/quality.md).
# Unset: each index's own threshold, calibrated at ingestion.
if os.environ.get("RAG_RELEVANCE_THRESHOLD"):
    RAG_RELEVANCE_THRESHOLD = env_float("RAG_RELEVANCE_THRESHOLD", 0.0)
# With dense embeddings: cosine below this is "not covered" too (unset: measured per model).
RAG_DENSE_RELEVANCE_THRESHOLD = (
    env_float("RAG_DENSE_RELEVANCE_THRESHOLD", 0.0)
    if os.environ.get("RAG_DENSE_RELEVANCE_THRESHOLD") else None
)
# rag_eval --conversation runs through the chat turn; the chat app provides the runner.
RAG_CONVERSATION_RUNNER = "chat.evaluation.conversation_session"

# LLM
# No OPENAI_API_KEY: offline mode, extractive answers quoting the docs with their sources.
RAG_OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY", "")
RAG_OPENAI_BASE_URL = os.environ.get("OPENAI_BASE_URL", "")
RAG_CHAT_MODEL = os.environ.get("CHAT_MODEL", "gpt-4o-mini")
RAG_EMBEDDING_MODEL = os.environ.get("EMBEDDING_MODEL", "")
RAG_EMBEDDING_DIMENSIONS = env_int("EMBEDDING_DIMENSIONS", 0)
RAG_LLM_TIMEOUT = env_float("LLM_TIMEOUT", 60.0)
RAG_MAX_TOKENS = env_int("LLM_MAX_TOKENS", 800)

# LOGGING
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING", "propagate": False}},
}
