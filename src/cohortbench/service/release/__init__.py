"""The one guarded exit: every payload a member reads is built here, from the owner-side view.

The owner gets exact numbers. Everyone else gets each number under the release rule that the
channel budget (privacy.channels) itemizes: scores on the workspace policy's grid, bounded
buckets for what the contributor's code controls, derived numbers computed from released ones
only, and no per-run status before the whole submission has ended (phase timing is a channel).
A field without a rule here does not reach a contributor: the public models forbid extras.

One module per payload (submission, leaderboard, cards and versions, schema twin), sharing the
release policy (policy.py) and the list of released fields (fields.py, RELEASED_FIELDS).
"""

from cohortbench.service.release.cards import card, cards, versions
from cohortbench.service.release.fields import FIXED, RELEASED_FIELDS
from cohortbench.service.release.leaderboard import (
    CRITICAL_RECALL_FLOOR,
    RankedBoard,
    leaderboard,
    ranked_board,
)
from cohortbench.service.release.policy import FINAL, importance_units, policy_of, rounder
from cohortbench.service.release.schema_twin import schema_twin
from cohortbench.service.release.submission import submission, summaries

__all__ = [
    "CRITICAL_RECALL_FLOOR",
    "FINAL",
    "FIXED",
    "RELEASED_FIELDS",
    "RankedBoard",
    "card",
    "cards",
    "importance_units",
    "leaderboard",
    "policy_of",
    "ranked_board",
    "rounder",
    "schema_twin",
    "submission",
    "summaries",
    "versions",
]
