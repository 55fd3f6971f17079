"""The rules that have no column of their own move out of `workspaces.settings` into `workspaces.rules`.

`settings` held those rules (ladder, DP budget, round_scores) beside what the workspace keeps that
is no rule (its cohort notes and the EDA cache); now each JSON holds one kind, read and written by
one module (service/workspaces/rules.py and notes.py). Self-contained: the rule keys are copied
here as of this revision, never imported from the application.

Revision ID: 0004_rules
Revises: 0003_rerun
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_rules"
down_revision = "0003_rerun"
branch_labels = None
depends_on = None

#: the rules kept in `settings` before this revision (workspaces.rules.Rules' fields without a column)
RULE_KEYS = ("round_scores", "ladder", "dp_epsilon", "dp_delta")
WORKSPACES = sa.table(
    "workspaces", sa.column("id", sa.Integer), sa.column("settings", sa.JSON), sa.column("rules", sa.JSON)
)


def upgrade() -> None:
    op.add_column("workspaces", sa.Column("rules", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    bind = op.get_bind()
    for workspace_id, settings in bind.execute(sa.select(WORKSPACES.c.id, WORKSPACES.c.settings)).all():
        settings = dict(settings or {})
        rules = {key: settings.pop(key) for key in RULE_KEYS if key in settings}
        bind.execute(
            WORKSPACES.update().where(WORKSPACES.c.id == workspace_id).values(settings=settings, rules=rules)
        )


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(WORKSPACES.c.id, WORKSPACES.c.settings, WORKSPACES.c.rules)).all()
    for workspace_id, settings, rules in rows:
        merged = {**(settings or {}), **{k: v for k, v in (rules or {}).items() if k in RULE_KEYS}}
        bind.execute(WORKSPACES.update().where(WORKSPACES.c.id == workspace_id).values(settings=merged))
    op.drop_column("workspaces", "rules")
