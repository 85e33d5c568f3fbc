"""Secrets: join tokens (stored only as hashes) and the admin token.

A join token is 192 random bits, URL-safe; the server keeps its SHA-256 only, so a
leaked database does not admit anyone. The admin token comes from configuration, or is
generated on first start and kept in the data directory (readable by its owner only).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

ADMIN_TOKEN_FILE = "admin-token"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def admin_token(configured: str | None, data_dir: Path) -> tuple[str, bool]:
    """The admin token, and whether it was generated just now."""
    if configured:
        return configured, False
    path = data_dir / ADMIN_TOKEN_FILE
    if path.exists():
        return path.read_text().strip(), False
    token = new_token()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token, True
