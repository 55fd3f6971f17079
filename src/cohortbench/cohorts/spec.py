"""Public description of the two reference cohorts: columns, classes, feature groups.

Everything here is schema, never data: it may be shown to anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LIVER_PANEL = (
    "ALT",
    "AST",
    "ALP",
    "GGT",
    "total_bilirubin",
    "direct_bilirubin",
    "albumin",
    "INR",
    "creatine_kinase",
    "LDH",
    "total_protein",
)
DOSING = ("days_on_drug", "dose_mg", "cumulative_dose_mg", "weeks_on_treatment")
DEMOGRAPHICS = ("age", "weight_kg", "diabetes")
N_BILE_ACIDS = 8
N_LIPIDS = 201 - len(LIVER_PANEL) - len(DOSING) - len(DEMOGRAPHICS) - N_BILE_ACIDS
BILE_ACIDS = tuple(f"Bile_Acids_{i}" for i in range(1, N_BILE_ACIDS + 1))
LIPIDS = tuple(f"Lipids_{i}" for i in range(1, N_LIPIDS + 1))

N_GENES = 200
N_MODULES = 10  # co-expressed gene modules ("pathways") of 20 genes each
GENES = tuple(f"gene_{i}" for i in range(N_GENES))
CLINICAL = tuple(f"clinical_{i}" for i in range(29))
SIGNATURES = tuple(f"signature_{i}" for i in range(21))


@dataclass(frozen=True)
class CohortSpec:
    """Schema of a cohort: what a workspace exposes publicly about its columns."""

    name: str
    title: str
    id_column: str
    label_column: str
    classes: tuple[str, ...]
    class_counts: tuple[int, ...]
    critical_class: str
    holdout_size: int
    feature_groups: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(c for cols in self.feature_groups.values() for c in cols)

    @property
    def n_records(self) -> int:
        return sum(self.class_counts)


def gene_modules() -> dict[str, tuple[str, ...]]:
    """Gene module membership (module_k -> its 20 genes); public knowledge like a pathway database."""
    size = N_GENES // N_MODULES
    return {f"module_{k}": GENES[k * size : (k + 1) * size] for k in range(N_MODULES)}


DILI = CohortSpec(
    name="dili",
    title="Drug-induced liver injury severity (safety metabolomics)",
    id_column="patient_id",
    label_column="dili_class",
    classes=("0", "1", "2", "3"),
    class_counts=(1445, 19, 61, 75),
    critical_class="3",
    holdout_size=320,
    feature_groups={
        "liver_panel": LIVER_PANEL,
        "dosing": DOSING,
        "demographics": DEMOGRAPHICS,
        "lipids": LIPIDS,
        "bile_acids": BILE_ACIDS,
    },
)

NEUROMUSCULAR = CohortSpec(
    name="neuromuscular",
    title="Neuromuscular disease progression (transcriptomics)",
    id_column="patient_id",
    label_column="progression",
    classes=("Slow", "Medium", "Fast"),
    class_counts=(223, 202, 215),
    critical_class="Fast",
    holdout_size=128,
    feature_groups={"clinical": CLINICAL, "signatures": SIGNATURES, **gene_modules()},
)

SPECS: dict[str, CohortSpec] = {s.name: s for s in (DILI, NEUROMUSCULAR)}


def get_spec(name: str) -> CohortSpec:
    """The spec of a reference cohort, or a ValueError naming the known ones."""
    try:
        return SPECS[name]
    except KeyError:
        raise ValueError(f"unknown cohort {name!r}; known: {', '.join(sorted(SPECS))}") from None
