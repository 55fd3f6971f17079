"""Scoring engine: holdout labels + predicted probabilities -> metrics with intervals a reviewer can trust.

Pure numpy/scipy (no web or database imports). Entry points: score(), compare(), transfer(),
and the metric registry (METRICS, get_metric) that fixes which way each metric sorts.
"""

from cohortbench.scoring.compare import Comparison, Difference, McNemar, compare, mcnemar
from cohortbench.scoring.engine import DEFAULT_BINS, TARGET_SPECIFICITIES, score
from cohortbench.scoring.importance import PermutedPrediction
from cohortbench.scoring.registry import METRICS, MetricSpec, get_metric, value_of
from cohortbench.scoring.result import (
    SCHEMA_VERSION,
    Calibration,
    ClassMetrics,
    Estimate,
    Headline,
    Importance,
    Interval,
    OperatingPoint,
    ReliabilityCurve,
    Result,
    Spread,
)
from cohortbench.scoring.transfer import Transfer, transfer
from cohortbench.scoring.validation import ROW_SUM_ATOL

__all__ = [
    "DEFAULT_BINS",
    "METRICS",
    "ROW_SUM_ATOL",
    "SCHEMA_VERSION",
    "TARGET_SPECIFICITIES",
    "Calibration",
    "ClassMetrics",
    "Comparison",
    "Difference",
    "Estimate",
    "Headline",
    "Importance",
    "Interval",
    "McNemar",
    "MetricSpec",
    "OperatingPoint",
    "PermutedPrediction",
    "ReliabilityCurve",
    "Result",
    "Spread",
    "Transfer",
    "compare",
    "get_metric",
    "mcnemar",
    "score",
    "transfer",
    "value_of",
]
