"""What may leave a workspace: protected EDA aggregates, DP noise and its ledger, leaderboard release
rules, coarsened contributor-controlled numbers, the weights export rule and the schema twin."""

from cohortbench.privacy.cells import CountTable, protect_counts
from cohortbench.privacy.covert import ResourceBuckets, coarsen_losses, coarsen_resources
from cohortbench.privacy.dp import DpSession, noisy_counts, noisy_group_means, noisy_histogram
from cohortbench.privacy.eda import EdaRelease, release_eda
from cohortbench.privacy.histogram import Histogram, protected_histogram
from cohortbench.privacy.leaderboard import (
    Ladder,
    LadderDecision,
    ladder_decision,
    release_score,
    release_step,
    score_rounder,
)
from cohortbench.privacy.ledger import BudgetExhaustedError, LedgerEntry, PrivacyLedger
from cohortbench.privacy.released import MIN_CELL, Released
from cohortbench.privacy.stats import GroupSummary, summarize, trimmed_quantile
from cohortbench.privacy.twin import SchemaTwin
from cohortbench.privacy.weights import WeightsExportDecision, decide_weights_export, require_weights_export

__all__ = [
    "MIN_CELL",
    "BudgetExhaustedError",
    "CountTable",
    "DpSession",
    "EdaRelease",
    "GroupSummary",
    "Histogram",
    "Ladder",
    "LadderDecision",
    "LedgerEntry",
    "PrivacyLedger",
    "Released",
    "ResourceBuckets",
    "SchemaTwin",
    "WeightsExportDecision",
    "coarsen_losses",
    "coarsen_resources",
    "decide_weights_export",
    "ladder_decision",
    "noisy_counts",
    "noisy_group_means",
    "noisy_histogram",
    "protect_counts",
    "protected_histogram",
    "release_eda",
    "release_score",
    "release_step",
    "require_weights_export",
    "score_rounder",
    "summarize",
    "trimmed_quantile",
]
