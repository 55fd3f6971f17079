"""Synthetic reference cohorts (DILI, neuromuscular), their schema, splits, and CSV/Parquet I/O."""

from cohortbench.cohorts.spec import DILI, NEUROMUSCULAR, SPECS, CohortSpec, gene_modules, get_spec

__all__ = ["DILI", "NEUROMUSCULAR", "SPECS", "CohortSpec", "gene_modules", "get_spec"]
