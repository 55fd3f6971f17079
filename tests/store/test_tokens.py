"""API tokens are random, hashed for storage and recognisable by a short prefix."""

from __future__ import annotations

import hashlib

from cohortbench.store.tokens import hash_token, new_token, token_prefix


def test_tokens_are_random_and_stored_hashed() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    token = tokens.pop()
    assert len(token) >= 40
    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert hash_token(token) != token
    assert token_prefix(token) == token[:8]
