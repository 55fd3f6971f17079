"""Attacks on what the privacy rules release: reconstructing a patient from EDA aggregates, and
learning holdout labels from leaderboard scores."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score

from cohortbench.cohorts import DILI, NEUROMUSCULAR, generate
from cohortbench.privacy import MIN_CELL, DpSession, Ladder, PrivacyLedger, release_eda, release_score

from .release_walk import numbers

DOSE = "cumulative_dose_mg"


@cache
def _dili() -> tuple[pd.DataFrame, dict[str, Any]]:
    frame = generate("dili")
    release = release_eda(
        frame,
        label_column=DILI.label_column,
        id_column=DILI.id_column,
        classes=DILI.classes,
        feature_groups=DILI.feature_groups,
    ).to_dict()
    return frame, release


def _reconstruct(release: dict[str, Any], cls: str) -> dict[str, float]:
    """The attacker's best row from aggregates: the top released value for the dose (the target is the
    maximum), the class mean for every other feature."""
    row = {f: by[cls]["mean"]["value"] for f, by in release["summaries"].items()}
    about_dose = [*numbers(release["summaries"][DOSE]), *numbers(release["histograms"][DOSE]["edges"])]
    row[DOSE] = max(about_dose)
    return row


def test_the_highest_dose_patient_cannot_be_reconstructed() -> None:
    frame, release = _dili()
    target = frame.loc[frame[DOSE].idxmax()]
    cls = str(target[DILI.label_column])
    guess = _reconstruct(release, cls)
    features = list(DILI.features)
    truth = target[features].to_numpy(dtype=float)
    estimate = np.array([guess[f] for f in features], dtype=float)
    # The exact extreme appears nowhere in the release, and the best dose guess describes a crowd,
    # not the patient: at least a minimum cell of patients lie as close to it as the target does.
    # (How close the guess lands in mg depends on how heavy the dose tail is, not on the release.)
    assert float(target[DOSE]) not in set(numbers(release))
    error = abs(guess[DOSE] - target[DOSE])
    assert int((abs(frame[DOSE] - guess[DOSE]) <= error).sum()) >= MIN_CELL
    # Few features land within 1% of the patient's values ...
    close = np.abs(estimate - truth) <= 0.01 * np.abs(truth)
    assert close.mean() < 0.05
    # ... and the reconstruction does not single the patient out of the cohort.
    block = frame[features].to_numpy(dtype=float)
    scale = block.std(axis=0)
    scale[scale == 0] = 1.0
    distance = np.sqrt((((block - estimate) / scale) ** 2).sum(axis=1))
    rank = int((distance < distance[frame.index.get_loc(target.name)]).sum())
    assert rank >= 10, f"the reconstruction's {rank}th nearest record is the target"


def test_differencing_attack_on_the_dp_release_fails() -> None:
    """The strongest attacker knows every other record; only noise protects the target then."""
    frame, _ = _dili()
    target_index = frame[DOSE].idxmax()
    cls = str(frame.at[target_index, DILI.label_column])
    session = DpSession(
        PrivacyLedger(epsilon=1.0), epsilon_per_query=0.25, public_bounds={DOSE: (0.0, 5000.0)}
    )
    groups = {"dosing": (DOSE,)}
    release = release_eda(
        frame,
        label_column=DILI.label_column,
        id_column=DILI.id_column,
        classes=DILI.classes,
        feature_groups=groups,
        dp=session,
    ).to_dict()
    others = frame.drop(index=target_index)
    others_in_class = others.loc[others[DILI.label_column].astype(str) == cls, DOSE]
    noisy_mean = release["summaries"][DOSE][cls]["mean"]["value"]
    estimate = noisy_mean * (len(others_in_class) + 1) - others_in_class.sum()
    assert release["summaries"][DOSE][cls]["mean"]["noise_scale"] > 0
    assert abs(estimate - frame.at[target_index, DOSE]) > 0.25 * frame.at[target_index, DOSE]
    assert session.ledger.spent[0] <= 1.0


# --- label probing -------------------------------------------------------------------------------

Release = Callable[[np.ndarray, np.ndarray], float]


def _holdout_labels(spec: Any, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shares = np.array(spec.class_counts, dtype=float) / sum(spec.class_counts)
    return rng.choice(len(spec.classes), size=spec.holdout_size, p=shares)


def _boosting_attack(
    y_true: np.ndarray, prior: np.ndarray, queries: int, release: Release, seed: int
) -> float:
    """Blum & Hardt's boosting attack: random label vectors, weighted by how their released score compares
    to the average, combined by vote. Returns the accuracy of the attacker's final guess."""
    rng = np.random.default_rng([seed, 1])  # the attacker's randomness is not the holdout's
    k, n = len(prior), len(y_true)
    guesses = rng.choice(k, size=(queries, n), p=prior)
    shown = np.array([release(np.eye(k)[g], g) for g in guesses])
    weights = shown - shown.mean()
    votes = np.zeros((n, k))
    for w, g in zip(weights, guesses, strict=True):
        votes[np.arange(n), g] += w
    final = np.where(np.abs(votes).sum(axis=1) > 0, votes.argmax(axis=1), int(prior.argmax()))
    return float(accuracy_score(y_true, final))


def _exact_release(y_true: np.ndarray) -> Release:
    return lambda proba, _: float(f1_score(y_true, proba.argmax(axis=1), average="macro"))


def _rules_release(y_true: np.ndarray) -> Release:
    """The release rules: per-record 0/1 losses feed the Ladder, the shown score is rounded."""
    ladder = Ladder(n_holdout=len(y_true))

    def release(proba: np.ndarray, _: np.ndarray) -> float:
        pred = proba.argmax(axis=1)
        losses = (pred != y_true).astype(float)
        return ladder.submit(losses, float(f1_score(y_true, pred, average="macro")))

    return release


def _mean_attack(
    spec: Any, queries: int, make_release: Callable[[np.ndarray], Release]
) -> tuple[float, float]:
    accuracies, priors = [], []
    for seed in range(12):
        y = _holdout_labels(spec, seed)
        prior = np.bincount(y, minlength=len(spec.classes)) / len(y)
        accuracies.append(_boosting_attack(y, prior, queries, make_release(y), seed))
        priors.append(prior.max())
    return float(np.mean(accuracies)), float(np.mean(priors))


@pytest.mark.parametrize("spec", [NEUROMUSCULAR, DILI], ids=lambda s: s.name)
def test_label_probing_with_quota_and_release_rules_stays_at_the_prior(spec: Any) -> None:
    accuracy, prior = _mean_attack(spec, 5, _rules_release)
    assert accuracy <= prior + 0.02, (accuracy, prior)


def test_label_probing_without_rules_and_without_quota_succeeds() -> None:
    """The attack is real: exact scores and 120 submissions give many labels away ..."""
    accuracy, prior = _mean_attack(NEUROMUSCULAR, 120, _exact_release)
    assert accuracy >= prior + 0.15, (accuracy, prior)


def test_ladder_and_rounding_hold_even_past_the_quota() -> None:
    """... while the Ladder and rounding alone keep 120 submissions at the prior."""
    accuracy, prior = _mean_attack(NEUROMUSCULAR, 120, _rules_release)
    assert accuracy <= prior + 0.02, (accuracy, prior)


def test_release_score_rounds_to_the_holdout_noise_level() -> None:
    assert release_score(0.8234, n_holdout=NEUROMUSCULAR.holdout_size) == 0.8
    assert release_score(0.8234, n_holdout=10_000) == 0.825
