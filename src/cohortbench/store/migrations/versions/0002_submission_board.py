"""Submissions keep what the leaderboard shows of their runs (`board`), written when they finish.

The leaderboard then reads one small document per submission instead of joining every run's
resources and result (on SQLite the headline sits behind the large result document, in overflow
pages). Submissions that finished before this revision get theirs here.

Self-contained: a migration must not change when the application does, so the board's recipe
(service/results.py `board_of` as of this revision) is copied here, not imported.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


#: what a leaderboard row may show of a phase's headline, as of this revision
BOARD_KEYS = (
    "macro_f1",
    "critical_recall",
    "accuracy",
    "balanced_accuracy",
    "weighted_f1",
    "ece",
    "support",
)

runs = sa.table(
    "runs",
    sa.column("id", sa.Integer),
    sa.column("submission_id", sa.Integer),
    sa.column("phase", sa.String),
    sa.column("resources", sa.JSON),
)
results = sa.table("results", sa.column("run_id", sa.Integer), sa.column("headline", sa.JSON))


def board_of(connection: sa.Connection, submission_id: int) -> dict[str, Any]:
    """Each phase's headline cut to BOARD_KEYS, CPU and GPU seconds summed in run order, the last
    parameter count given."""
    query = (
        sa.select(runs.c.phase, runs.c.resources, results.c.headline)
        .select_from(runs.outerjoin(results, results.c.run_id == runs.c.id))
        .where(runs.c.submission_id == submission_id)
        .order_by(runs.c.id)
    )
    headlines: dict[str, dict[str, Any]] = {}
    cpu_seconds = gpu_seconds = 0.0
    n_parameters = None
    for phase, resources, headline in connection.execute(query).all():
        resources = resources or {}
        if headline is not None:
            headlines[phase] = {key: headline[key] for key in BOARD_KEYS if key in headline}
        cpu_seconds += float(resources.get("cpu_seconds") or 0.0)
        gpu_seconds += float(resources.get("gpu_seconds") or 0.0)
        n_parameters = resources.get("n_parameters") or n_parameters
    return {
        "headlines": headlines,
        "cpu_seconds": cpu_seconds,
        "gpu_seconds": gpu_seconds,
        "n_parameters": n_parameters,
    }


def upgrade() -> None:
    op.add_column("submissions", sa.Column("board", sa.JSON(), nullable=True))
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
