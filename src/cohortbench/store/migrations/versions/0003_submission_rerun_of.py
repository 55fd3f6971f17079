"""A submission may be the owner's re-evaluation of another one on a later cohort version (`rerun_of`).

A plain indexed integer, no foreign-key constraint: adding one on SQLite would rebuild the
submissions table, and dropping the old copy with foreign keys on would cascade into the runs.

Revision ID: 0003_rerun
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_rerun"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("submissions", sa.Column("rerun_of", sa.Integer(), nullable=True))
    op.create_index("ix_submissions_rerun_of", "submissions", ["rerun_of"])


def downgrade() -> None:
    op.drop_index("ix_submissions_rerun_of", table_name="submissions")
    op.drop_column("submissions", "rerun_of")
