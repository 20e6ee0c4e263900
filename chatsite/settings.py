"""Settings for the chatsite project.

The environment is read here and only here. With no environment at all the project runs
offline: SQLite under ``data/``, the embedded search index under ``data/index``, and the
extractive answer mode (no LLM). Production sets ``DATABASE_URL`` (Neon), ``QDRANT_URL`` and
``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``. See ``docs/configuration.md``.
"""

import os
from collections.abc import Callable
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


def _parse_bool(value: str) -> bool:
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError("not true or false")


_PARSERS: dict[type, Callable[[str], object]] = {bool: _parse_bool, int: int, float: float, str: str,
                                                  Path: Path}


def env_setting(*names: str, cast: type = str):
    """The value of the first of ``names`` set (non-empty) in the environment, as ``cast``;
    None when none is set, so the app's own default (its ``conf.py``) applies.

    Several names: the documented variable and the setting's own name (``LLM_TIMEOUT`` and
    ``RAG_LLM_TIMEOUT``); setting both to different values is an error, not a silent choice.
    """
    found = {name: os.environ[name] for name in names if os.environ.get(name)}
    if len(set(found.values())) > 1:
        raise ImproperlyConfigured(f"{' and '.join(found)} are both set, to different values; set one of them.")
    if not found:
        return None
    name, value = next(iter(found.items()))
    try:
        return _PARSERS[cast](value)
    except ValueError:
        kind = {bool: "true or false", int: "an integer", float: "a number"}.get(cast, cast.__name__)
        raise ImproperlyConfigured(f"{name} must be {kind}, got {value!r}") from None


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
    # The project's own commands (chatsite/management/commands/migrate.py).
    "chatsite",
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


def database_settings(url: str, *, pooled: bool, pool: bool) -> dict:
    """One ``DATABASES`` entry for ``url``: ``pooled`` when a transaction pooler sits in
    front of it, ``pool`` for psycopg's client-side connection pool."""
    db = dj_database_url.parse(
        url, conn_max_age=env_int("CONN_MAX_AGE", 0), conn_health_checks=env_bool("CONN_HEALTH_CHECKS", True),
    )
    if db["ENGINE"] == "django.db.backends.postgresql":
        options = db.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
        if pooled:
            db["DISABLE_SERVER_SIDE_CURSORS"] = True
            options["prepare_threshold"] = None
        if pool:
            if db.get("CONN_MAX_AGE"):
                raise ImproperlyConfigured(
                    "DATABASE_POOL=true cannot be combined with CONN_MAX_AGE (a pooled connection "
                    "is returned to the pool after each use). Unset CONN_MAX_AGE or set "
                    "DATABASE_POOL=false."
                )
            options["pool"] = {
                "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2),
                "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10),
                # Waiting for a free connection is bounded like opening one: when the database
                # is unreachable a request degrades after the connect timeout, not later.
                "timeout": env_float("DATABASE_POOL_TIMEOUT", float(options["connect_timeout"])),
            }  # with CONN_HEALTH_CHECKS (default on) Django checks a connection on checkout
    elif db["ENGINE"] == "django.db.backends.sqlite3":
        db.setdefault("OPTIONS", {}).update({
            "timeout": 20, "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        })
    # The test runner's database name (several suites can then share one server).
    if os.environ.get("DATABASE_TEST_NAME"):
        db["TEST"] = {"NAME": os.environ["DATABASE_TEST_NAME"]}
    return db


DATABASE_POOLED = env_bool("DATABASE_POOLED", "-pooler" in (urlsplit(DATABASE_URL).hostname or ""))
_default_db = database_settings(
    DATABASE_URL, pooled=DATABASE_POOLED, pool=env_bool("DATABASE_POOL", not os.environ.get("CONN_MAX_AGE")),
)
# `manage.py migrate` connects with this instead (chatsite/management/commands/migrate.py):
# schema changes go to DATABASE_DIRECT_URL when it is set (bypassing the pooler), and never
# through the client-side pool, which a one-shot command has no use for.
MIGRATE_DATABASE = (
    database_settings(DATABASE_DIRECT_URL, pooled=False, pool=False) if DATABASE_DIRECT_URL
    else database_settings(DATABASE_URL, pooled=DATABASE_POOLED, pool=False)
)
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
if _demo_docs is None:
    DEMO_DOCS_DIR = BASE_DIR / "docs" if DEBUG else None
else:
    DEMO_DOCS_DIR = Path(_demo_docs) if _demo_docs else None

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
# Liveness on its own port and thread (chatsite/liveness.py): "host:port", e.g. ":8081";
# unset, /healthz is served on the main port only. 503 once the event loop has not run a
# callback for HEALTHZ_MAX_LOOP_STALL seconds.
HEALTHZ_ADDRESS = os.environ.get("HEALTHZ_ADDRESS", "")
if HEALTHZ_ADDRESS:
    from .liveness import parse_address

    try:
        parse_address(HEALTHZ_ADDRESS)
    except ValueError as exc:
        raise ImproperlyConfigured(f"HEALTHZ_ADDRESS: {exc}") from None
HEALTHZ_MAX_LOOP_STALL = env_float("HEALTHZ_MAX_LOOP_STALL", 30.0)

# AGENTS
# The MCP endpoint at /mcp, /llms.txt and the pages' Markdown copies (docs/agents.md).
# Defaults live in agentdocs/conf.py; MCP_TOKEN makes /mcp require a bearer token. Each
# variable is also accepted under the setting's own name (AGENTS_MCP_TOKEN, ...).
if (_value := env_setting("MCP_ENABLED", "AGENTS_MCP_ENABLED", cast=bool)) is not None:
    AGENTS_MCP_ENABLED = _value
if (_value := env_setting("MCP_TOKEN", "AGENTS_MCP_TOKEN")) is not None:
    AGENTS_MCP_TOKEN = _value
if (_value := env_setting("MCP_RATE", "AGENTS_MCP_RATE")) is not None:
    AGENTS_MCP_RATE = _value
if (_value := env_setting("MCP_STATELESS", "AGENTS_MCP_STATELESS", cast=bool)) is not None:
    AGENTS_MCP_STATELESS = _value
if (_value := env_setting("LLMS_TITLE", "AGENTS_LLMS_TITLE")) is not None:
    AGENTS_LLMS_TITLE = _value
if (_value := env_setting("LLMS_SUMMARY", "AGENTS_LLMS_SUMMARY")) is not None:
    AGENTS_LLMS_SUMMARY = _value

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

# CHAT (the reusable app's settings; defaults in chat/conf.py, variables named as the settings)
if (_value := env_setting("CHAT_MAX_MESSAGE_CHARS", cast=int)) is not None:
    CHAT_MAX_MESSAGE_CHARS = _value
if (_value := env_setting("CHAT_SESSION_IDLE_DAYS", cast=int)) is not None:
    CHAT_SESSION_IDLE_DAYS = _value
if (_value := env_setting("CHAT_SESSION_DAILY_TOKENS", cast=int)) is not None:
    CHAT_SESSION_DAILY_TOKENS = _value
if (_value := env_setting("CHAT_GLOBAL_DAILY_TOKENS", cast=int)) is not None:
    CHAT_GLOBAL_DAILY_TOKENS = _value
# How much earlier conversation reaches the model (the answer prompt and the query rewrite).
if (_value := env_setting("CHAT_HISTORY_TURNS", cast=int)) is not None:
    CHAT_HISTORY_TURNS = _value
if (_value := env_setting("CHAT_HISTORY_MAX_TOKENS", cast=int)) is not None:
    CHAT_HISTORY_MAX_TOKENS = _value
# An answer left pending this long (its process died mid-answer) is failed and may be retried.
if (_value := env_setting("CHAT_PENDING_TIMEOUT_SECONDS", cast=int)) is not None:
    CHAT_PENDING_TIMEOUT_SECONDS = _value
# Days question and answer text is kept; after that only counts and gap topics remain
# (applied by `manage.py rollup_insights`). Unset: kept until the session is pruned.
if (_value := env_setting("CHAT_TRANSCRIPT_DAYS", cast=int)) is not None:
    CHAT_TRANSCRIPT_DAYS = _value
if (_value := env_setting("CHAT_DB_THREADS", cast=int)) is not None:  # a chat turn's database threads
    CHAT_DB_THREADS = _value

# QDRANT (the rag app's settings; defaults in rag/conf.py)
# No QDRANT_URL: the embedded engine stores the index under RAG_INDEX_DIR. The variables
# named unlike their setting are also accepted under the setting's name (RAG_QDRANT_URL, ...).
if (_value := env_setting("QDRANT_URL", "RAG_QDRANT_URL")) is not None:
    RAG_QDRANT_URL = _value
if (_value := env_setting("QDRANT_API_KEY", "RAG_QDRANT_API_KEY")) is not None:
    RAG_QDRANT_API_KEY = _value
if (_value := env_setting("QDRANT_TIMEOUT", "RAG_QDRANT_TIMEOUT", cast=float)) is not None:
    RAG_QDRANT_TIMEOUT = _value
# The project keeps the index beside its SQLite file, under DATA_DIR.
RAG_INDEX_DIR = env_setting("RAG_INDEX_DIR", cast=Path) or DATA_DIR / "index"
if (_value := env_setting("RAG_COLLECTION")) is not None:
    RAG_COLLECTION = _value
if (_value := env_setting("DOCS_BASE_URL", "RAG_DOCS_BASE_URL")) is not None:
    RAG_DOCS_BASE_URL = _value
# POST /api/ingest (CI pushes the Docusaurus plugin's manifest): off unless INGEST_TOKEN is set.
if (_value := env_setting("INGEST_TOKEN", "RAG_INGEST_TOKEN")) is not None:
    RAG_INGEST_TOKEN = _value
if (_value := env_setting("INGEST_MAX_BYTES", "RAG_INGEST_MAX_BYTES", cast=int)) is not None:
    RAG_INGEST_MAX_BYTES = _value
# Questions scoring below this are answered "not covered by the docs" (docs/quality.md).
# Unset: each index's own threshold, calibrated at ingestion.
if (_value := env_setting("RAG_RELEVANCE_THRESHOLD", cast=float)) is not None:
    RAG_RELEVANCE_THRESHOLD = _value
# With dense embeddings: cosine below this is "not covered" too (unset: measured per model).
if (_value := env_setting("RAG_DENSE_RELEVANCE_THRESHOLD", cast=float)) is not None:
    RAG_DENSE_RELEVANCE_THRESHOLD = _value
# rag_eval --conversation runs through the chat turn; the chat app provides the runner.
RAG_CONVERSATION_RUNNER = "chat.evaluation.conversation_session"

# LLM
# No OPENAI_API_KEY: offline mode, extractive answers quoting the docs with their sources.
if (_value := env_setting("OPENAI_API_KEY", "RAG_OPENAI_API_KEY")) is not None:
    RAG_OPENAI_API_KEY = _value
if (_value := env_setting("OPENAI_BASE_URL", "RAG_OPENAI_BASE_URL")) is not None:
    RAG_OPENAI_BASE_URL = _value
if (_value := env_setting("CHAT_MODEL", "RAG_CHAT_MODEL")) is not None:
    RAG_CHAT_MODEL = _value
if (_value := env_setting("EMBEDDING_MODEL", "RAG_EMBEDDING_MODEL")) is not None:
    RAG_EMBEDDING_MODEL = _value
if (_value := env_setting("EMBEDDING_DIMENSIONS", "RAG_EMBEDDING_DIMENSIONS", cast=int)) is not None:
    RAG_EMBEDDING_DIMENSIONS = _value
if (_value := env_setting("LLM_TIMEOUT", "RAG_LLM_TIMEOUT", cast=float)) is not None:
    RAG_LLM_TIMEOUT = _value
if (_value := env_setting("LLM_MAX_TOKENS", "RAG_MAX_TOKENS", cast=int)) is not None:
    RAG_MAX_TOKENS = _value

# LOGGING
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING", "propagate": False}},
}
