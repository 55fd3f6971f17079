"""Same seed, same bytes; other seeds and other sites give other data."""

from __future__ import annotations

from pathlib import Path

import pytest
from scipy.stats import ks_2samp

from cohortbench import cohorts
from cohortbench.cohorts import SITES


@pytest.mark.parametrize("name", ["dili", "neuromuscular"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_same_seed_same_bytes(tmp_path: Path, name: str, suffix: str) -> None:
    a, b = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    cohorts.save_frame(cohorts.generate(name, seed=7), a)
    cohorts.save_frame(cohorts.generate(name, seed=7), b)
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("name", ["dili", "neuromuscular"])
def test_different_seeds_differ(name: str) -> None:
    spec = cohorts.get_spec(name)
    a = cohorts.generate(name, seed=1)[list(spec.features)]
    b = cohorts.generate(name, seed=2)[list(spec.features)]
    assert not a.equals(b)
    assert (a != b).to_numpy().mean() > 0.5


@pytest.mark.parametrize("site", SITES[1:])
def test_dili_sites_differ_in_dose_and_prevalence(site: str) -> None:
    home, other = cohorts.generate("dili"), cohorts.generate("dili", site=site)
    assert ks_2samp(home["cumulative_dose_mg"], other["cumulative_dose_mg"]).pvalue < 1e-6
    assert ks_2samp(home["ALT"], other["ALT"]).pvalue < 1e-3
    assert abs((other["dili_class"] == 3).mean() - (home["dili_class"] == 3).mean()) > 0.01


@pytest.mark.parametrize("site", SITES[1:])
def test_neuromuscular_sites_differ(site: str) -> None:
    home, other = cohorts.generate("neuromuscular"), cohorts.generate("neuromuscular", site=site)
    assert ks_2samp(home["clinical_4"], other["clinical_4"]).pvalue < 1e-3
    shifted = [ks_2samp(home[g], other[g]).pvalue < 1e-3 for g in cohorts.gene_modules()["module_0"]]
    assert sum(shifted) >= 5
