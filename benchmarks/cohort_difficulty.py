"""Measure how hard the reference cohorts are, against the numbers the product brief quotes.

Run: .venv/bin/python benchmarks/cohort_difficulty.py [--seeds 5]

DILI: majority-class accuracy on the holdout; LightGBM with and without class weights
(holdout macro-F1, class-3 recall); and the contributor story: a model trained on each
shifted site, scored on its own internal holdout ("claimed"), on the workspace holdout as
submitted ("out-of-the-box"), and after continued boosting on the workspace train split.
Neuromuscular: logistic regression on the raw genes against a pathway-aware logistic
regression on gene-module means plus clinical covariates, and the same site story.
Each number is the mean (and sd) over data seeds 0..N-1, each with split seed 0.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, recall_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from cohortbench import cohorts
from cohortbench.cohorts import DILI, NEUROMUSCULAR, SITES, CohortSpec

warnings.filterwarnings("ignore")
GBM = {
    "n_estimators": 300,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 5,
    "reg_lambda": 1.0,
    "verbose": -1,
}
Row = dict[str, float]


def xy(frame: pd.DataFrame, spec: CohortSpec) -> tuple[pd.DataFrame, np.ndarray]:
    return frame[list(spec.features)], frame[spec.label_column].astype(str).to_numpy()


def scores(y: np.ndarray, pred: np.ndarray, critical: str) -> Row:
    return {
        "macro_f1": float(f1_score(y, pred, average="macro")),
        "critical_recall": float(recall_score(y, pred, labels=[critical], average="macro")),
    }


def gbm(
    x: pd.DataFrame, y: np.ndarray, weighted: bool, init: lgb.LGBMClassifier | None = None
) -> lgb.LGBMClassifier:
    """LightGBM; with `init`, continued boosting from that model's trees (the fine-tune)."""
    weight = compute_sample_weight("balanced", y) if weighted else None
    model = lgb.LGBMClassifier(**GBM, n_jobs=2, random_state=0)
    booster = init.booster_ if init is not None else None
    return model.fit(x, y, sample_weight=weight, init_model=booster)


def dili_seed(seed: int) -> Row:
    train, holdout = cohorts.split(cohorts.generate("dili", seed=seed), DILI)
    (xt, yt), (xh, yh) = xy(train, DILI), xy(holdout, DILI)
    row = {"majority_accuracy": float((yh == "0").mean())}
    for weighted, tag in ((True, "weighted"), (False, "unweighted")):
        for key, value in scores(yh, gbm(xt, yt, weighted).predict(xh), "3").items():
            row[f"{tag}_{key}"] = value
    return row


def site_story(name: str, seed: int, fit: Callable[..., object], tune: Callable[..., object]) -> Row:
    """Claimed (site holdout), out-of-the-box and fine-tuned (workspace holdout) macro-F1 per site."""
    spec = cohorts.get_spec(name)
    train, holdout = cohorts.split(cohorts.generate(name, seed=seed), spec)
    (xt, yt), (xh, yh) = xy(train, spec), xy(holdout, spec)
    row: Row = {}
    for site in SITES[1:]:
        site_frame = cohorts.generate(name, seed=seed, site=site)
        s_train, s_holdout = cohorts.split(site_frame, spec, holdout_size=len(site_frame) // 5)
        model = fit(*xy(s_train, spec))
        xs, ys = xy(s_holdout, spec)
        row[f"{site}_claimed"] = scores(ys, model.predict(xs), spec.critical_class)["macro_f1"]  # type: ignore[attr-defined]
        row[f"{site}_oob"] = scores(yh, model.predict(xh), spec.critical_class)["macro_f1"]  # type: ignore[attr-defined]
        tuned = tune(model, xt, yt)
        row[f"{site}_tuned"] = scores(yh, tuned.predict(xh), spec.critical_class)["macro_f1"]  # type: ignore[attr-defined]
    return row


def module_means(x: pd.DataFrame) -> pd.DataFrame:
    """Pathway-aware features: each gene module's mean expression, plus the clinical covariates."""
    means = {k: x[list(genes)].mean(axis=1) for k, genes in cohorts.gene_modules().items()}
    return pd.concat([pd.DataFrame(means), x[list(NEUROMUSCULAR.feature_groups["clinical"])]], axis=1)


def logreg() -> object:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))


def neuro_seed(seed: int) -> Row:
    train, holdout = cohorts.split(cohorts.generate("neuromuscular", seed=seed), NEUROMUSCULAR)
    (xt, yt), (xh, yh) = xy(train, NEUROMUSCULAR), xy(holdout, NEUROMUSCULAR)
    genes = [c for c in xt if c.startswith("gene_")]
    row: Row = {}
    for tag, make in (("raw_genes", lambda x: x[genes]), ("all_raw", lambda x: x), ("pathway", module_means)):
        model = logreg().fit(make(xt), yt)  # type: ignore[attr-defined]
        for key, value in scores(yh, model.predict(make(xh)), "Fast").items():
            row[f"{tag}_{key}"] = value
    return row


def summarise(title: str, rows: list[Row]) -> None:
    frame = pd.DataFrame(rows)
    print(f"\n## {title}\n\n| measure | mean | sd | seed 0 |\n|---|---|---|---|")
    for col in frame:
        print(f"| {col} | {frame[col].mean():.3f} | {frame[col].std():.3f} | {frame[col].iloc[0]:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", choices=["dili", "neuromuscular"], default=None)
    args = parser.parse_args()
    seeds = range(args.seeds)
    if args.only != "neuromuscular":
        summarise("DILI (workspace)", [dili_seed(s) for s in seeds])
        boost = lambda m, x, y: gbm(x, y, True, init=m)  # noqa: E731
        summarise("DILI sites", [site_story("dili", s, lambda x, y: gbm(x, y, True), boost) for s in seeds])
    if args.only != "dili":
        summarise("Neuromuscular (workspace)", [neuro_seed(s) for s in seeds])
        fit = lambda x, y: logreg().fit(x, y)  # type: ignore[attr-defined]  # noqa: E731
        refit = lambda m, x, y: m.fit(x, y)  # noqa: E731
        story = [site_story("neuromuscular", s, fit, refit) for s in seeds]
        summarise("Neuromuscular sites", story)


if __name__ == "__main__":
    main()
