"""Label-quality audit of an owner's cohort by confident learning (cleanlab's `find_label_issues`).

A reference model (standardised features, multinomial logistic regression: trusted platform code,
not a contributor's) gives each record out-of-fold predicted probabilities by stratified k-fold
cross-validation, so no record is scored by a model that saw its label. cleanlab then lists the
records whose given label disagrees with what the rest of the cohort implies, ranked by the
self-confidence of the given label (lowest first), with the label the model suggests instead.
Plain functions on a frame: no service, store or web import.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from cleanlab.filter import find_label_issues
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cohortbench.errors import ValidationError

FOLDS = 5
REFERENCE_MODEL = f"StandardScaler + LogisticRegression(C=0.1), out-of-fold by {FOLDS}-fold stratified CV"


@dataclass(frozen=True)
class Suspect:
    record_id: str
    given: str
    suggested: str
    self_confidence: float  # out-of-fold probability of the given label


@dataclass(frozen=True)
class LabelAudit:
    n_records: int
    reference_model: str
    n_flagged: int  # how many records cleanlab flags (all of them are in `suspects`, ranked)
    suspects: list[Suspect]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def out_of_fold_proba(x: np.ndarray, y: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """Out-of-fold predicted probabilities of the reference model (every record scored by a model
    fitted without it)."""
    smallest = int(np.bincount(y).min()) if y.size else 0
    folds = min(FOLDS, smallest)
    if folds < 2:
        raise ValidationError("a label audit needs at least 2 records of every class")
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return np.asarray(cross_val_predict(model, x, y, cv=cv, method="predict_proba"), dtype=np.float64)


def audit_labels(
    frame: pd.DataFrame,
    *,
    id_column: str,
    label_column: str,
    classes: tuple[str, ...],
    features: list[str],
    seed: int = 0,
) -> LabelAudit:
    """Suspect labels of the cohort, most suspect first (given label's out-of-fold probability lowest)."""
    lookup = {c: i for i, c in enumerate(classes)}
    labels = frame[label_column].astype(str)
    unknown = sorted(set(labels) - set(lookup))
    if unknown:
        raise ValidationError(f"labels outside the classes: {', '.join(unknown[:5])}")
    y = labels.map(lookup).to_numpy(dtype=np.int64)
    if len(set(y.tolist())) != len(classes):
        raise ValidationError("a label audit needs every class present in the cohort")
    proba = out_of_fold_proba(frame[features].to_numpy(dtype=np.float64), y, seed=seed)
    ranked = find_label_issues(y, proba, return_indices_ranked_by="self_confidence")
    ids = frame[id_column].astype(str).to_numpy()
    suspects = [
        Suspect(
            record_id=str(ids[i]),
            given=classes[y[i]],
            suggested=classes[int(proba[i].argmax())],
            self_confidence=float(proba[i, y[i]]),
        )
        for i in ranked
    ]
    return LabelAudit(len(frame), REFERENCE_MODEL, len(suspects), suspects)
