"""The local administrator: whoever holds the data directory administers the deployment."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cohortbench.service.users import create_user
from cohortbench.store.models import User

ADMIN = "admin"


def local_admin(session: Session) -> tuple[User, str | None]:
    """The admin user, created on first use (its token is returned only then)."""
    user = session.scalar(select(User).where(User.name == ADMIN))
    if user is not None:
        return user, None
    return create_user(session, name=ADMIN, display_name="Data owner", is_admin=True)
