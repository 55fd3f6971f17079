"""Leaderboard release rules against holdout probing.

A contributor who sees exact holdout scores can learn holdout labels by submitting
predictions that differ in a few records and watching the score move. Three lines of defence,
cheapest first: the submission quota (enforced by workspaces), rounding of every released
score to a step no finer than the holdout's own sampling noise, and, as an owner option, the
Ladder (Blum & Hardt 2015, parameter-free): the shown score changes only when a submission
beats the contributor's best by more than one standard error of the paired loss difference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cohortbench.errors import ValidationError

_STEPS = (1.0, 2.0, 5.0)


def release_step(n_holdout: int) -> float:
    """The smallest 1-2-5 step of at least 1/(2 sqrt(n)), the largest standard error of an accuracy on n records.

    Differences finer than that are sampling noise for the contributor but signal for a prober.
    """
    if n_holdout < 1:
        raise ValidationError(f"n_holdout must be a positive integer, got {n_holdout}")
    target = 0.5 / math.sqrt(n_holdout)
    exponent = math.floor(math.log10(target))
    for power in (exponent, exponent + 1):
        for mantissa in _STEPS:
            step = mantissa * 10.0**power
            if step >= target * (1 - 1e-12):
                return float(f"{step:.12g}")
    return 1.0


def release_score(value: float, *, n_holdout: int) -> float:
    """`value` rounded to the release step of a holdout of n_holdout records."""
    return score_rounder(n_holdout)(value)


def score_rounder(n_holdout: int) -> Callable[[float], float]:
    """`release_score` for one holdout size, its step worked out once (a leaderboard rounds thousands).

    The result depends only on the number of steps, so each one's decimal rounding (the slow part)
    is done once: a score in [0, 1] takes one of at most 1/step + 1 values.
    """
    return step_rounder(release_step(n_holdout))


def step_rounder(step: float) -> Callable[[float], float]:
    """Round to a multiple of `step` (memoized by the number of steps), finite values only."""
    decimals = max(0, -math.floor(math.log10(step)) + 1)
    by_steps: dict[int, float] = {}

    def rounded(value: float) -> float:
        if not math.isfinite(value):
            raise ValidationError(f"a score must be a finite number, got {value}")
        steps = round(value / step)
        out = by_steps.get(steps)
        if out is None:
            out = by_steps[steps] = round(steps * step, decimals)
        return out

    return rounded


@dataclass(frozen=True)
class LadderDecision:
    """Whether a new submission replaces the best, and the numbers behind the decision (owner-side)."""

    accept: bool
    improvement: float
    threshold: float


def ladder_decision(new_losses: Sequence[float], best_losses: Sequence[float] | None) -> LadderDecision:
    """Accept when mean(best - new) exceeds one standard error of the paired per-record difference."""
    new = np.asarray(new_losses, dtype=np.float64)
    if new.ndim != 1 or len(new) < 2 or not np.all(np.isfinite(new)):
        raise ValidationError("per-record losses must be a 1-d sequence of at least 2 finite numbers")
    if best_losses is None:
        return LadderDecision(True, math.inf, 0.0)
    best = np.asarray(best_losses, dtype=np.float64)
    if best.shape != new.shape:
        raise ValidationError(f"loss vectors differ in length: {len(new)} new vs {len(best)} best")
    diff = best - new
    threshold = float(np.std(diff, ddof=1) / math.sqrt(len(diff)))
    improvement = float(np.mean(diff))
    return LadderDecision(improvement > threshold, improvement, threshold)


@dataclass
class Ladder:
    """One contributor's ladder state. `best_losses` are holdout-derived and never leave the scorer."""

    n_holdout: int
    best_losses: list[float] | None = None
    shown_score: float | None = None
    history: list[bool] = field(default_factory=list)

    def submit(self, losses: Sequence[float], score: float) -> float:
        """Score a submission and return the score to show (unchanged unless the ladder accepts)."""
        decision = ladder_decision(losses, self.best_losses)
        self.history.append(decision.accept)
        if decision.accept:
            self.best_losses = [float(v) for v in losses]
            self.shown_score = release_score(score, n_holdout=self.n_holdout)
        assert self.shown_score is not None
        return self.shown_score

    def to_dict(self) -> dict[str, Any]:
        """For the store (owner side only: it holds per-record losses)."""
        return {
            "n_holdout": self.n_holdout,
            "best_losses": self.best_losses,
            "shown_score": self.shown_score,
            "history": list(self.history),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ladder:
        losses = data.get("best_losses")
        return cls(
            n_holdout=int(data["n_holdout"]),
            best_losses=None if losses is None else [float(v) for v in losses],
            shown_score=None if data.get("shown_score") is None else float(data["shown_score"]),
            history=[bool(v) for v in data.get("history", [])],
        )
