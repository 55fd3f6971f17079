"""Synthetic reference cohorts (DILI, neuromuscular, transcriptomics-large), their schema, splits, and CSV/Parquet I/O."""

from cohortbench.cohorts.generate import generate
from cohortbench.cohorts.io import load_frame, save_frame
from cohortbench.cohorts.sites import SITES
from cohortbench.cohorts.spec import DILI, NEUROMUSCULAR, SPECS, CohortSpec, gene_modules, get_spec
from cohortbench.cohorts.split import split
from cohortbench.cohorts.transcriptomics import make_transcriptomics, transcriptomics_spec

__all__ = [
    "DILI",
    "NEUROMUSCULAR",
    "SITES",
    "SPECS",
    "CohortSpec",
    "gene_modules",
    "generate",
    "get_spec",
    "load_frame",
    "make_transcriptomics",
    "save_frame",
    "split",
    "transcriptomics_spec",
]
