"""Users and API tokens: a token is shown once, only its hash is stored."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.errors import ConflictError, PermissionDeniedError, ValidationError
from cohortbench.store import audit
from cohortbench.store.models import ApiToken, User
from cohortbench.store.tokens import hash_token, new_token


def create_user(
    session: Session,
    *,
    name: str,
    display_name: str | None = None,
    is_admin: bool = False,
    actor: str = "system",
) -> tuple[User, str]:
    """Create a user and its first API token; the token is returned once and never stored in clear."""
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ValidationError(f"user name must be letters, digits, - or _, got {name!r}")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise ConflictError(f"user {name!r} already exists")
    user = User(name=name, display_name=display_name or name, is_admin=is_admin)
    session.add(user)
    session.flush()
    token = issue_token(session, user=user, actor=actor)
    audit.append(
        session, actor=actor, action="user.create", target=f"user:{name}", payload={"is_admin": is_admin}
    )
    return user, token


def issue_token(session: Session, *, user: User, actor: str) -> str:
    """A new API token for `user`; shown once."""
    token = new_token()
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), prefix=token[:8]))
    audit.append(
        session, actor=actor, action="token.issue", target=f"user:{user.name}", payload={"prefix": token[:8]}
    )
    return token


def authenticate(session: Session, token: str | None) -> User:
    """The user a bearer token belongs to, or PermissionDeniedError (the API answers 401)."""
    if not token:
        raise PermissionDeniedError("missing API token", code="unauthenticated")
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        raise PermissionDeniedError("invalid or revoked API token", code="unauthenticated")
    user = session.get(User, row.user_id)
    if user is None:
        raise PermissionDeniedError("invalid or revoked API token", code="unauthenticated")
    return user


def revoke_tokens(session: Session, *, user: User, actor: str) -> int:
    """Revoke every token of a user (e.g. after a leak)."""
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    count = 0
    for row in rows:
        row.revoked_at = datetime.now(UTC)
        count += 1
    audit.append(
        session, actor=actor, action="token.revoke", target=f"user:{user.name}", payload={"count": count}
    )
    return count


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        from cohortbench.errors import NotFoundError

        raise NotFoundError(f"no user named {name!r}")
    return user
