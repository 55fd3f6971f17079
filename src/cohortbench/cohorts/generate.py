"""`generate`: one deterministic entry point for both reference cohorts and every site."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from cohortbench.cohorts.dili import make_dili
from cohortbench.cohorts.neuromuscular import make_neuromuscular
from cohortbench.cohorts.sites import DILI_SITES, ID_PREFIX, NEURO_SITES, WORKSPACE, check_site
from cohortbench.cohorts.spec import SPECS
from cohortbench.cohorts.transcriptomics import NAME as LARGE
from cohortbench.cohorts.transcriptomics import make_transcriptomics
from cohortbench.errors import ValidationError


def generate(name: str, *, seed: int = 0, site: str = WORKSPACE) -> pd.DataFrame:
    """The cohort `name` drawn for `site` with `seed`: id column, label column, then the spec's features.

    Rows are shuffled and ids assigned afterwards, so neither row order nor id says anything
    about the label. The same (name, seed, site) always gives the same frame.
    """
    if name not in SPECS and name != LARGE:
        raise ValidationError(f"unknown cohort {name!r}; known: {', '.join(sorted([*SPECS, LARGE]))}")
    check_site(site)
    if seed < 0:
        raise ValidationError(f"seed must be a non-negative integer, got {seed}")
    if name == LARGE:
        if site != WORKSPACE:
            raise ValidationError(f"{LARGE} has no shifted sites; use site {WORKSPACE!r}")
        return make_transcriptomics(seed=seed)
    rng = np.random.default_rng([seed, zlib.crc32(name.encode()), zlib.crc32(site.encode())])
    if name == "dili":
        body = make_dili(rng, DILI_SITES[site])
    else:
        body = make_neuromuscular(rng, site, NEURO_SITES[site])
    body = body.iloc[rng.permutation(len(body))].reset_index(drop=True)
    spec = SPECS[name]
    prefix = ID_PREFIX.get(site, "P")
    ids = pd.Series([f"{prefix}{i:04d}" for i in range(1, len(body) + 1)], name=spec.id_column)
    return pd.concat([ids, body], axis=1)
