from .cells import CountTable, protect_counts
from .covert import ResourceBuckets, coarsen_losses, coarsen_resources
from .dp import DpSession, noisy_counts, noisy_group_means, noisy_histogram
from .eda import EdaRelease, release_eda
from .histogram import Histogram, protected_histogram
from .leaderboard import (
    Ladder,
    LadderDecision,
    ladder_decision,
    release_score,
    release_step,
    score_rounder,
)
from .ledger import BudgetExhaustedError, LedgerEntry, PrivacyLedger
from .released import MIN_CELL, Released
from .stats import GroupSummary, summarize, trimmed_quantile
from .twin import SchemaTwin
from .weights import WeightsExportDecision, decide_weights_export, require_weights_export

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
