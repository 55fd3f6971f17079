"""The neuromuscular progression cohort: co-expressed gene modules carry the signal collectively.

Progression (Slow, Medium, Fast) moves the activity of a few gene modules; each gene reads
its module's activity weakly under strong gene-level noise, so no single gene separates the
classes but a module's mean does. Clinical covariates (stage, functional scores, treatment
history) add a partly independent view with the largest variances. Signature scores average
curated gene sets that are slightly wrong: some member genes come from other modules.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cohortbench.cohorts.sites import NeuroSite
from cohortbench.cohorts.spec import CLINICAL, GENES, NEUROMUSCULAR, SIGNATURES, gene_modules

STRUCTURE_SEED = 20_240_602  # fixed biology shared by every seed and site
MODULE_WEIGHTS = (1.0, -0.85, 0.7, 0.6, -0.5, 0.45, 0.0, 0.0, 0.0, 0.0)
MODULE_NOISE = 0.5  # biological spread of module activity within a class
GENE_NOISE = 1.5  # gene-level noise: one gene alone says little, the module mean much more
SIGNATURE_FOREIGN = 6  # of 20 genes in a signature's set, this many come from other modules


@dataclass(frozen=True)
class Biology:
    """Constants of the simulated biology: gene scales, module loadings, signature gene sets."""

    gene_mean: np.ndarray
    gene_sd: np.ndarray
    loading: np.ndarray
    module_of: np.ndarray
    signature_sets: tuple[np.ndarray, ...]


def biology() -> Biology:
    """The biology every site shares; drawn once from a fixed seed so it never varies."""
    rng = np.random.default_rng(STRUCTURE_SEED)
    modules = list(gene_modules().values())
    module_of = np.repeat(np.arange(len(modules)), len(modules[0]))
    sets = []
    for j in range(len(SIGNATURES)):
        own = np.flatnonzero(module_of == j % len(modules))
        other = np.flatnonzero(module_of != j % len(modules))
        keep = rng.choice(own, len(own) - SIGNATURE_FOREIGN, replace=False)
        sets.append(np.sort(np.concatenate([keep, rng.choice(other, SIGNATURE_FOREIGN, replace=False)])))
    return Biology(
        gene_mean=rng.uniform(4.0, 11.0, len(GENES)),
        gene_sd=rng.uniform(0.06, 0.14, len(GENES)),
        loading=rng.uniform(0.45, 0.9, len(GENES)),
        module_of=module_of,
        signature_sets=tuple(sets),
    )


def site_effects(site_name: str, site: NeuroSite, bio: Biology) -> tuple[np.ndarray, np.ndarray]:
    """Per-gene batch offsets and module weights of a site: fixed per site, independent of the seed."""
    rng = np.random.default_rng([STRUCTURE_SEED, zlib.crc32(site_name.encode())])
    batch = rng.normal(0.0, site.batch_sd, len(bio.gene_mean))
    base = np.asarray(MODULE_WEIGHTS)
    weights = base + site.module_tilt * rng.normal(0.0, 1.0, len(base))
    return batch, weights * (np.linalg.norm(base) / np.linalg.norm(weights))  # same strength, other pathways


def make_neuromuscular(rng: np.random.Generator, site_name: str, site: NeuroSite) -> pd.DataFrame:
    """Label column plus every feature of the neuromuscular spec, rows grouped by class."""
    y = np.repeat(np.arange(3), site.class_counts)
    z = y - 1.0
    bio = biology()
    batch, weights = site_effects(site_name, site, bio)
    activity = np.outer(z, weights) + rng.normal(0.0, MODULE_NOISE, (len(y), len(weights)))
    genes = _genes(rng, bio, activity, batch)
    columns = {
        NEUROMUSCULAR.label_column: np.take(np.asarray(NEUROMUSCULAR.classes), y),
        **_clinical(rng, site, z),
        **_signatures(rng, bio, genes),
        **{name: np.round(genes[:, i], 4) for i, name in enumerate(GENES)},
    }
    return pd.DataFrame(columns)[[NEUROMUSCULAR.label_column, *NEUROMUSCULAR.features]]


def _genes(rng: np.random.Generator, bio: Biology, activity: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """Normalised log expression: small per-gene variance, module signal buried in gene noise."""
    signal = bio.loading * activity[:, bio.module_of]
    noise = rng.normal(0.0, GENE_NOISE, signal.shape)
    return np.asarray(bio.gene_mean + bio.gene_sd * (signal + noise + batch))


def _signatures(rng: np.random.Generator, bio: Biology, genes: np.ndarray) -> dict[str, np.ndarray]:
    """Pathway scores from mis-specified gene sets, on a 0-100-like scale, with scoring noise."""
    standard = (genes - bio.gene_mean) / bio.gene_sd
    out = {}
    for name, members in zip(SIGNATURES, bio.signature_sets, strict=True):
        score = standard[:, members].mean(axis=1) + rng.normal(0.0, 0.35, len(genes))
        out[name] = np.round(50.0 + 12.0 * score, 3)
    return out


def _clinical(rng: np.random.Generator, site: NeuroSite, z: np.ndarray) -> dict[str, np.ndarray]:
    """Stage, functional scores, treatment history and noise covariates, each on its natural scale."""
    n = len(z)
    sev = 0.6 * z + rng.normal(0.0, 1.0, n) + site.clinical_shift

    def noisy(scale: float) -> np.ndarray:
        return rng.normal(0.0, scale, n)

    informative = {
        "clinical_0": np.clip(np.round(2.5 + 0.8 * sev + noisy(0.5)), 1, 5),  # disease stage
        "clinical_1": np.round(np.clip(34.0 - 5.0 * sev + noisy(4.0), 0, 48)),  # functional rating scale
        "clinical_2": np.round(np.clip(380.0 - 70.0 * sev + noisy(60.0), 20, 700)),  # 6-minute walk (m)
        "clinical_3": np.round(np.clip(82.0 - 9.0 * sev + noisy(10.0), 20, 130), 1),  # FVC % predicted
        "clinical_4": np.round(np.clip(site.age_mean + noisy(14.0), 2, 85)),  # age at onset
        "clinical_5": np.round(np.exp(6.5 + 0.3 * sev + noisy(0.7))),  # creatine kinase (U/L)
        "clinical_6": np.round(np.clip(rng.gamma(2.0, 3.0, n) - 0.8 * z, 0.1, 40), 1),  # years since onset
    }
    history = {f"clinical_{i}": (rng.random(n) < rng.uniform(0.1, 0.6)).astype(float) for i in range(7, 13)}
    scales = np.geomspace(1.5, 60.0, len(CLINICAL) - 13)
    extra = {f"clinical_{13 + i}": np.round(3.0 * s + noisy(s), 2) for i, s in enumerate(scales)}
    return {**informative, **history, **extra}
