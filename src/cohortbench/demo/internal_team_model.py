"""The neuromuscular owner's own "internal team" model: a plain logistic regression on raw genes.

The owner holds the data, so this model is trained on the workspace's training split; its claimed
score is its 5-fold cross-validated macro-F1 there (the number the team has been quoting).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from cohortbench.bundles.adapters.sklearn_model import skops_io
from cohortbench.cohorts import get_spec


def build_internal_bundle(train: pd.DataFrame, folder: Path) -> Path:
    """Write a zero-code sklearn bundle (raw genes -> logistic regression) into `folder`."""
    spec = get_spec("neuromuscular")
    genes = [c for c in spec.features if c.startswith("gene_")]
    y = np.array([spec.classes.index(str(v)) for v in train[spec.label_column]])
    model = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=0.05, max_iter=2000))])
    claimed = float(cross_val_score(model, train[genes], y, cv=5, scoring="f1_macro").mean())
    model.fit(train[genes], y)
    (folder / "weights").mkdir(parents=True, exist_ok=True)
    skops_io().dump(model, folder / "weights" / "model.skops")
    (folder / "cohortbench.toml").write_text(
        'name = "internal-genes-lr"\nframework = "sklearn"\n'
        'description = "Internal team: logistic regression on the 200 raw genes."\n'
        f"claimed = {{ macro_f1 = {claimed:.3f} }}\n\n[plan]\nseed = 0\n"
    )
    return folder
