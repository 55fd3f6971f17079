"""Submissions keep what the leaderboard shows of their runs (`board`), written when they finish.

The leaderboard then reads one small document per submission instead of joining every run's
resources and result (on SQLite the headline sits behind the large result document, in overflow
pages). Submissions that finished before this revision get theirs here.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("submissions", sa.Column("board", sa.JSON(), nullable=True))
    from cohortbench.service.results import board_of

    connection = op.get_bind()
    submissions = sa.table("submissions", sa.column("id", sa.Integer), sa.column("status", sa.String))
    finished = submissions.c.status.in_(("succeeded", "failed"))
    ids = connection.execute(sa.select(submissions.c.id).where(finished)).scalars().all()
    boards = sa.table("submissions", sa.column("id", sa.Integer), sa.column("board", sa.JSON))
    for submission_id in ids:
        board = board_of(connection, submission_id)
        connection.execute(boards.update().where(boards.c.id == submission_id).values(board=board))


def downgrade() -> None:
    op.drop_column("submissions", "board")
