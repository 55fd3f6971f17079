"""Populations the generators draw from: the workspace's own cohort and shifted contributor sites.

A site stands for a contributor's internal data: the same schema, another population. What
differs (demographics, dosing protocol, metabolic baseline, class prevalence, assay
calibration, and how strongly each marker tracks the label) is what makes a model trained
there lose accuracy on the workspace cohort and regain it by fine-tuning.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cohortbench.errors import ValidationError

WORKSPACE = "workspace"
SITES: tuple[str, ...] = (WORKSPACE, "pharma-internal", "academic-a", "academic-b")
SECOND_SITE = "workspace-b"
"""A second hospital of the workspace's own network: the workspace's population (class shares, dosing,
demographics, biology) measured on another lab platform. Its records are a batch the cohort grows by."""
GROWTH_SITES: tuple[str, ...] = (SECOND_SITE,)
LAB_PLATFORM_SHIFT: dict[str, dict[str, tuple[str, ...]]] = {
    "dili": {SECOND_SITE: ("ALT", "AST")},  # a transaminase analyser reading 30 % higher
    "neuromuscular": {SECOND_SITE: tuple(f"gene_{i}" for i in range(200))},  # another sequencing batch
}
"""The features whose values a growth site's lab platform moves; every other feature is unshifted."""
ID_PREFIX: dict[str, str] = {SECOND_SITE: "B"}
"""Id prefix of a growth site's records (P elsewhere), so a batch never reuses a workspace id."""


@dataclass(frozen=True)
class DiliSite:
    """Knobs of one DILI population; the workspace values reproduce the brief's facts."""

    class_counts: tuple[int, int, int, int]
    cum_dose_means: tuple[float, float, float, float]  # mg, per class
    dose_levels: tuple[float, ...]  # mg/day of the dosing protocol
    age_mean: float
    weight_mean: float
    diabetes_rate: float
    alt_scale: float  # assay calibration of the transaminases
    bile_scale: float  # dietary / platform baseline of bile acids
    lipid_batch: float  # batch offset of the lipid panel (log scale)
    alt_load: float  # how strongly transaminases track injury
    bile_load: float  # how strongly bile acids track injury
    dose_link: float  # how strongly severe vs moderate follows cumulative dose


@dataclass(frozen=True)
class NeuroSite:
    """Knobs of one neuromuscular population; batch offsets and module weights shift by site."""

    class_counts: tuple[int, int, int]  # Slow, Medium, Fast
    batch_sd: float  # per-gene batch offset (in gene-noise units)
    module_tilt: float  # how far the module -> progression weights move
    clinical_shift: float  # shift of clinical covariates (in their sd)
    age_mean: float


DILI_SITES: dict[str, DiliSite] = {
    WORKSPACE: DiliSite(
        class_counts=(1445, 19, 61, 75),
        cum_dose_means=(704.0, 1050.0, 1480.0, 1973.0),
        dose_levels=(10.0, 15.0, 20.0, 25.0),
        age_mean=54.0,
        weight_mean=78.0,
        diabetes_rate=0.16,
        alt_scale=1.0,
        bile_scale=1.0,
        lipid_batch=0.0,
        alt_load=1.0,
        bile_load=1.0,
        dose_link=1.0,
    ),
    "pharma-internal": DiliSite(
        class_counts=(3570, 150, 230, 250),
        cum_dose_means=(1150.0, 1700.0, 2300.0, 3100.0),
        dose_levels=(20.0, 30.0, 40.0),
        age_mean=47.0,
        weight_mean=84.0,
        diabetes_rate=0.09,
        alt_scale=1.35,
        bile_scale=0.7,
        lipid_batch=0.25,
        alt_load=1.25,
        bile_load=0.6,
        dose_link=1.3,
    ),
    "academic-a": DiliSite(
        class_counts=(980, 60, 80, 80),
        cum_dose_means=(520.0, 800.0, 1150.0, 1500.0),
        dose_levels=(5.0, 10.0, 15.0),
        age_mean=61.0,
        weight_mean=72.0,
        diabetes_rate=0.24,
        alt_scale=0.8,
        bile_scale=1.45,
        lipid_batch=-0.2,
        alt_load=0.8,
        bile_load=1.4,
        dose_link=0.7,
    ),
    "academic-b": DiliSite(  # same lab platform, but severe cases 4.5 times rarer than moderate
        class_counts=(1700, 80, 180, 40),
        cum_dose_means=(850.0, 1250.0, 1700.0, 2300.0),
        dose_levels=(10.0, 20.0, 30.0),
        age_mean=58.0,
        weight_mean=81.0,
        diabetes_rate=0.2,
        alt_scale=1.05,
        bile_scale=1.05,
        lipid_batch=0.15,
        alt_load=1.0,
        bile_load=1.0,
        dose_link=0.9,
    ),
}

DILI_SITES[SECOND_SITE] = replace(DILI_SITES[WORKSPACE], class_counts=(361, 5, 15, 19), alt_scale=1.3)

NEURO_SITES: dict[str, NeuroSite] = {
    WORKSPACE: NeuroSite(
        class_counts=(223, 202, 215), batch_sd=0.0, module_tilt=0.0, clinical_shift=0.0, age_mean=42.0
    ),
    "pharma-internal": NeuroSite(
        class_counts=(420, 300, 280), batch_sd=0.6, module_tilt=0.5, clinical_shift=0.4, age_mean=52.0
    ),
    "academic-a": NeuroSite(
        class_counts=(240, 260, 300), batch_sd=0.5, module_tilt=0.4, clinical_shift=-0.3, age_mean=31.0
    ),
    "academic-b": NeuroSite(
        class_counts=(300, 250, 250), batch_sd=0.7, module_tilt=0.6, clinical_shift=0.2, age_mean=51.0
    ),
}


NEURO_SITES[SECOND_SITE] = replace(NEURO_SITES[WORKSPACE], class_counts=(70, 63, 67), batch_sd=0.5)


def check_site(site: str) -> None:
    """Raise a ValidationError naming the known sites when `site` is not one of them."""
    if site not in SITES + GROWTH_SITES:
        raise ValidationError(f"unknown site {site!r}; known: {', '.join(SITES + GROWTH_SITES)}")
