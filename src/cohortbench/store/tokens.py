"""API tokens: shown once to their user, stored only as a sha256 (a leaked table leaks no token)."""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["PREFIX_LENGTH", "hash_token", "new_token", "token_prefix"]

PREFIX_LENGTH = 8


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The sha256 hex digest kept in ApiToken.token_hash; tokens are random, so no salt is needed."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_prefix(token: str) -> str:
    """The first characters, kept so a user can tell their tokens apart in a listing."""
    return token[:PREFIX_LENGTH]
