"""`transcriptomics-large`: a whole-transcriptome cohort (20,000 genes x 20,000 patients by default).

The neuromuscular biology at the size of real RNA-seq: genes come in pathways (co-expressed
modules of `pathway_size` genes); progression (Slow, Medium, Fast) moves the activity of a few
pathways and each gene reads its pathway weakly under strong gene-level noise, so a pathway's
mean separates the classes and no single gene does. The pathways are the workspace's feature
groups, so permutation importance is per pathway, not per gene.

Built for memory: the expression matrix is float32 from the start (random draws included),
allocated once in column-major order so each gene is one contiguous column, filled a block of
genes at a time, and wrapped by pandas without a copy. Rows are in random class order as
drawn, so no permutation copy is needed afterwards. Not in `SPECS`: the reference cohorts'
tests and demos iterate those, and this one is 1.6 GB at full size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cohortbench.cohorts.spec import CohortSpec
from cohortbench.errors import ValidationError

NAME = "transcriptomics-large"
CLASSES = ("Slow", "Medium", "Fast")
CLASS_SHARES = (0.35, 0.32, 0.33)
N_GENES = 20_000
N_PATIENTS = 20_000
PATHWAY_SIZE = 200
INFORMATIVE = (1.0, -0.85, 0.7, 0.6, -0.5, 0.45)  # weights of the first pathways; the rest carry none
PATHWAY_NOISE = 0.5
GENE_NOISE = 1.5
STRUCTURE_SEED = 20_261_203
BLOCK_GENES = 1_000  # genes drawn at a time: the float32 temporaries stay at n_patients x 1,000


def pathways(n_genes: int = N_GENES, pathway_size: int = PATHWAY_SIZE) -> dict[str, tuple[str, ...]]:
    """Pathway membership (pathway_k -> its genes), public like a pathway database; the last may be short."""
    names = [f"gene_{i:05d}" for i in range(n_genes)]
    return {
        f"pathway_{k:03d}": tuple(names[start : start + pathway_size])
        for k, start in enumerate(range(0, n_genes, pathway_size))
    }


def class_counts(n_patients: int) -> tuple[int, ...]:
    counts = [round(n_patients * s) for s in CLASS_SHARES[:-1]]
    return (*counts, n_patients - sum(counts))


def transcriptomics_spec(
    n_genes: int = N_GENES, n_patients: int = N_PATIENTS, pathway_size: int = PATHWAY_SIZE
) -> CohortSpec:
    """The public schema of the cohort at a given size."""
    _check_size(n_genes, n_patients, pathway_size)
    return CohortSpec(
        name=NAME,
        title=f"Whole-transcriptome progression ({n_genes:,} genes x {n_patients:,} patients)",
        id_column="patient_id",
        label_column="progression",
        classes=CLASSES,
        class_counts=class_counts(n_patients),
        critical_class="Fast",
        holdout_size=n_patients // 5,
        feature_groups=pathways(n_genes, pathway_size),
    )


def make_transcriptomics(
    n_genes: int = N_GENES, n_patients: int = N_PATIENTS, *, seed: int = 0, pathway_size: int = PATHWAY_SIZE
) -> pd.DataFrame:
    """patient_id, progression, then every gene as float32 log expression; the same arguments give the same frame."""
    spec = transcriptomics_spec(n_genes, n_patients, pathway_size)
    if seed < 0:
        raise ValidationError(f"seed must be a non-negative integer, got {seed}")
    rng = np.random.default_rng([seed, n_genes, n_patients, pathway_size])
    y = rng.permutation(np.repeat(np.arange(len(CLASSES)), spec.class_counts))
    n_pathways = len(spec.feature_groups)
    weights = np.zeros(n_pathways, dtype=np.float32)
    weights[: min(len(INFORMATIVE), n_pathways)] = INFORMATIVE[:n_pathways]
    activity = np.outer(y - 1.0, weights).astype(np.float32)
    activity += PATHWAY_NOISE * rng.standard_normal(activity.shape, dtype=np.float32)
    structure = np.random.default_rng(STRUCTURE_SEED)
    gene_mean = structure.uniform(4.0, 11.0, n_genes).astype(np.float32)
    gene_sd = structure.uniform(0.06, 0.14, n_genes).astype(np.float32)
    loading = structure.uniform(0.45, 0.9, n_genes).astype(np.float32)
    pathway_of = np.arange(n_genes) // pathway_size
    genes = np.empty((n_patients, n_genes), dtype=np.float32, order="F")
    for start in range(0, n_genes, BLOCK_GENES):
        cols = slice(start, min(start + BLOCK_GENES, n_genes))
        block = rng.standard_normal((n_patients, cols.stop - start), dtype=np.float32)
        block *= GENE_NOISE
        block += loading[cols] * activity[:, pathway_of[cols]]
        block *= gene_sd[cols]
        block += gene_mean[cols]
        genes[:, cols] = block
    frame = pd.DataFrame(genes, columns=list(spec.features), copy=False)
    frame.insert(0, spec.label_column, np.take(np.asarray(CLASSES, dtype=object), y))
    frame.insert(0, spec.id_column, [f"P{i:06d}" for i in range(1, n_patients + 1)])
    return frame


def _check_size(n_genes: int, n_patients: int, pathway_size: int) -> None:
    if n_genes < 1 or pathway_size < 1:
        raise ValidationError(
            f"need at least one gene and pathway size >= 1, got {n_genes} and {pathway_size}"
        )
    if n_patients < 50:
        raise ValidationError(f"need at least 50 patients to split every class, got {n_patients}")
