"""Users and API tokens: a token is shown once, only its hash is stored."""

from __future__ import annotations

from dataclasses import dataclass
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


def _require_admin(actor: User, action: str) -> None:
    if not actor.is_admin:
        raise PermissionDeniedError(f"{action} needs an administrator")


@dataclass(frozen=True)
class UserRow:
    """A user as an administrator lists them: never a token, only the prefixes of live ones."""

    name: str
    display_name: str
    is_admin: bool
    created_at: datetime
    token_prefixes: tuple[str, ...]


def list_users(session: Session, *, actor: User) -> list[UserRow]:
    """Every user of the deployment with the prefixes of their unrevoked tokens (administrators)."""
    _require_admin(actor, "listing users")
    live: dict[int, list[str]] = {}
    for token in session.scalars(select(ApiToken).where(ApiToken.revoked_at.is_(None)).order_by(ApiToken.id)):
        live.setdefault(token.user_id, []).append(token.prefix)
    return [
        UserRow(u.name, u.display_name, u.is_admin, u.created_at, tuple(live.get(u.id, ())))
        for u in session.scalars(select(User).order_by(User.name))
    ]


def reset_token(session: Session, *, actor: User, name: str) -> str:
    """Revoke every token of user `name` and issue a new one, returned once (administrators; audited
    as token.revoke then token.issue)."""
    _require_admin(actor, "resetting a token")
    user = get_user(session, name)
    revoke_tokens(session, user=user, actor=actor.name)
    return issue_token(session, user=user, actor=actor.name)
