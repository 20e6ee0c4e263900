"""Session tokens: issued by the server, random, stored only as a SHA-256 hash.

A token is 32 bytes from ``secrets`` (256 bits) in URL-safe base64 (43 characters). Only
``hash_token(token)`` is stored or logged (and only a prefix of that in logs).
"""

import hashlib
import re
import secrets

TOKEN_BYTES = 32
_TOKEN_RE = re.compile(r"\A[A-Za-z0-9_-]{43}\Z")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_well_formed(token: object) -> bool:
    return isinstance(token, str) and bool(_TOKEN_RE.match(token))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def log_id(token_hash: str) -> str:
    """The short, non-reversible session reference used in log lines."""
    return token_hash[:12]
