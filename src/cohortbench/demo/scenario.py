"""Who takes part in the demo: the two reference workspaces, their rules, and the contributors' bundles.

The contributors' bundles are the ready examples of examples/: each was pretrained on its own shifted
site cohort, and its claimed macro-F1 was measured on that site's internal holdout (examples/build.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from cohortbench.workspaces import Resources, Rules

BRIEF_RESOURCES = Resources(cpu=2, memory_gb=8.59, gpu=1, gpu_memory_gb=22.49)


@dataclass(frozen=True)
class Contributor:
    user: str
    display_name: str
    bundle: str  # examples/<workspace>/<framework>, or "internal" for the owner's own baseline model
    plan: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoWorkspace:
    cohort: str
    title: str
    description: str
    rules: Rules
    class_labels: dict[str, str]
    contributors: tuple[Contributor, ...]


WORKSPACES = (
    DemoWorkspace(
        cohort="dili",
        title="Safety metabolomics for drug-induced liver injury",
        description=(
            "Independent hepatotoxicity cohort for validating DILI severity models. "
            "Severe DILI (class 3) recall matters more than accuracy: predicting 'no injury' for "
            "everyone is 90% accurate and useless."
        ),
        rules=Rules(quota=5, budget_pflop=100.0, end_date=date(2027, 2, 18), resources=BRIEF_RESOURCES),
        class_labels={"0": "No injury", "1": "Mild", "2": "Moderate", "3": "Severe DILI"},
        contributors=(
            # plans set from the notebook: train longer on the workspace, without early stopping
            Contributor(
                "contributor-a",
                "Contributor A",
                "dili/torch",
                {"epochs": 60, "early_stopping_patience": None},
            ),
            Contributor(
                "contributor-b",
                "Contributor B",
                "dili/xgboost",
                {"epochs": 100, "early_stopping_patience": None},
            ),
            # pretrained without class weights where severe cases were rare: the brief's flagged contributor
            Contributor("contributor-c", "Contributor C", "dili/lightgbm"),
        ),
    ),
    DemoWorkspace(
        cohort="neuromuscular",
        title="Neuromuscular disease progression from transcriptomics",
        description=(
            "Slow / Medium / Fast progression from blood transcriptomics and clinical scores. "
            "Pathway-level features carry the signal that single genes do not."
        ),
        rules=Rules(quota=5, budget_pflop=100.0, end_date=date(2027, 10, 13), resources=BRIEF_RESOURCES),
        class_labels={"Slow": "Slow", "Medium": "Medium", "Fast": "Fast"},
        contributors=(
            Contributor("internal-team", "Internal team", "internal"),
            Contributor("contributor-a", "Contributor A", "neuromuscular/xgboost"),
            # a plan set from the notebook: longer training with weight decay on the small cohort
            Contributor(
                "contributor-b", "Contributor B", "neuromuscular/torch", {"epochs": 60, "weight_decay": 0.05}
            ),
            Contributor("contributor-c", "Contributor C", "neuromuscular/lightgbm"),
        ),
    ),
)
