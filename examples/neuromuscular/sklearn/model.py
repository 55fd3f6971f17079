"""Pathway-level logistic regression for neuromuscular progression: cohortbench's SklearnModel with
`features` overridden to module means (blocks of 20 consecutive genes) plus clinical and signature
columns; the fitted Pipeline in weights/model.skops knows those engineered column names."""

from __future__ import annotations

import pandas as pd

from cohortbench.bundles import SklearnModel

GENE_BLOCK = 20


def pathway_features(X: pd.DataFrame) -> pd.DataFrame:
    """Module means first, then every non-gene column in its original order."""
    genes = sorted((c for c in X.columns if c.startswith("gene_")), key=lambda c: int(c.split("_")[1]))
    modules = {
        f"module_{k}": X[genes[k * GENE_BLOCK : (k + 1) * GENE_BLOCK]].mean(axis=1)
        for k in range(len(genes) // GENE_BLOCK)
    }
    others = X[[c for c in X.columns if not c.startswith("gene_")]]
    return pd.concat([pd.DataFrame(modules, index=X.index), others], axis=1)


class Model(SklearnModel):
    def features(self, X: pd.DataFrame) -> pd.DataFrame:
        return pathway_features(X)
