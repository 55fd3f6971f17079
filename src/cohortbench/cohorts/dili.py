"""The DILI severity cohort: two latent injury axes drive the liver panel and bile acids.

Each patient gets a class and a cumulative dose drawn around the class's mean (rising with
severity, exact class means). Two latent scores sit around the class's level: hepatocellular
injury (ALT, AST, LDH), nudged by dose so more drug means a steeper ALT rise, and cholestatic
/ synthetic injury (bile acids, bilirubin, ALP, INR, albumin); damaged hepatocytes also clear
less bile acid and bilirubin, so those rise a little with hepatocellular injury too. Mild is
transaminases alone; moderate adds cholestasis; severe sits only a little above moderate on
both axes, so what tells severe from moderate is exposure: cumulative dose (tight around each
class's mean) and the dose-driven ALT rise. A model that learned another site's exposure
scale, or a site where severe cases were rarer than moderate ones, calls this cohort's severe
cases moderate. Assays are noisy and site-calibrated; creatine kinase is a muscle confounder;
the lipid panel is correlated noise with a few weak species.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cohortbench.cohorts.sites import DiliSite
from cohortbench.cohorts.spec import BILE_ACIDS, DILI, LIPIDS

HEP_MEAN = (0.0, 2.0, 2.4, 2.55)  # hepatocellular injury (transaminases, LDH), per class
HEP_SD = (0.25, 0.3, 0.35, 0.5)
CHOL_MEAN = (0.0, 0.1, 1.3, 1.75)  # cholestatic / synthetic injury (bile acids, bilirubin, INR)
CHOL_SD = (0.25, 0.3, 0.4, 0.5)
HEP_SPILL = 0.2  # impaired uptake: hepatocellular injury raises bile acids and bilirubin too
BILE_NOISE = 0.35  # species-specific assay noise of the bile acids (log scale)
DOSE_SIGMA = (0.45, 0.4, 0.25, 0.25)  # log-scale spread of cumulative dose per class
INFORMATIVE_LIPIDS = (3, 11, 27, 42, 58)  # 1-based: weakly track injury
N_LIPID_FACTORS = 3
STRUCTURE_SEED = 20_240_601  # fixed biology shared by every seed and site


def exact_mean_lognormal(rng: np.random.Generator, mean: float, sigma: float, n: int) -> np.ndarray:
    """Log-normal draws rescaled so their sample mean is exactly `mean` (the brief quotes class means)."""
    x = np.exp(rng.normal(0.0, sigma, n))
    return np.asarray(x * (mean / x.mean()))


def make_dili(rng: np.random.Generator, site: DiliSite) -> pd.DataFrame:
    """Label column plus every feature of the DILI spec, rows grouped by class (caller shuffles)."""
    y = np.repeat(np.arange(4), site.class_counts)
    n = len(y)
    demo = _demographics(rng, site, y)
    dosing = _dosing(rng, site, y)
    dose_effect = site.dose_link * 0.35 * np.log(dosing["cumulative_dose_mg"] / site.cum_dose_means[0])
    hep = rng.normal(np.take(HEP_MEAN, y), np.take(HEP_SD, y)) + np.where(y > 0, dose_effect, 0.0)
    chol = rng.normal(np.take(CHOL_MEAN, y), np.take(CHOL_SD, y))
    liver = _liver_panel(rng, site, hep, chol, demo["diabetes"])
    bile = _bile_acids(rng, site, chol + HEP_SPILL * hep, n)
    lipids = _lipids(rng, site, hep + chol, n)
    columns = {DILI.label_column: y, **liver, **dosing, **demo, **bile, **lipids}
    return pd.DataFrame(columns)[[DILI.label_column, *DILI.features]]


def _demographics(rng: np.random.Generator, site: DiliSite, y: np.ndarray) -> dict[str, np.ndarray]:
    n = len(y)
    age = np.clip(rng.normal(site.age_mean, 13.0, n), 18, 90)
    weight = np.clip(rng.normal(site.weight_mean, 15.0, n), 40, 170)
    diabetes = (rng.random(n) < site.diabetes_rate + 0.06 * (y == 3)).astype(float)
    return {"age": np.round(age), "weight_kg": np.round(weight, 1), "diabetes": diabetes}


def _dosing(rng: np.random.Generator, site: DiliSite, y: np.ndarray) -> dict[str, np.ndarray]:
    """Cumulative dose per class; daily dose from the protocol; days follow, with missed doses."""
    cum = np.empty(len(y))
    for c, (mean, sigma) in enumerate(zip(site.cum_dose_means, DOSE_SIGMA, strict=True)):
        cum[y == c] = exact_mean_lognormal(rng, mean, sigma, int((y == c).sum()))
    dose = rng.choice(np.asarray(site.dose_levels), len(y))
    adherence = rng.uniform(0.8, 1.0, len(y))
    days = np.maximum(1, np.round(cum / (dose * adherence)))
    weeks = np.round(days / 7 * rng.uniform(1.0, 1.25, len(y)), 1)
    return {
        "days_on_drug": days,
        "dose_mg": dose,
        "cumulative_dose_mg": np.round(cum, 1),
        "weeks_on_treatment": weeks,
    }


def _liver_panel(
    rng: np.random.Generator, site: DiliSite, hep: np.ndarray, chol: np.ndarray, diabetes: np.ndarray
) -> dict[str, np.ndarray]:
    n = len(hep)

    def noise(sd: float) -> np.ndarray:
        return rng.normal(0.0, sd, n)

    base = rng.normal(0.0, 0.25, n) + 0.15 * diabetes  # fatty-liver baseline
    ck = 120.0 * np.exp(noise(0.6))
    alt = 25.0 * site.alt_scale * np.exp(base + 0.75 * site.alt_load * hep + noise(0.35))
    ast = 22.0 * site.alt_scale * np.exp(0.8 * base + 0.65 * site.alt_load * hep + noise(0.35)) + 0.03 * ck
    bili = 0.6 * np.exp(0.5 * (chol + HEP_SPILL * hep) + noise(0.3))
    direct_fraction = 0.2 + 0.3 / (1.0 + np.exp(-(chol - 1.5)))
    return {
        "ALT": np.round(alt, 1),
        "AST": np.round(ast, 1),
        "ALP": np.round(80.0 * np.exp(0.3 * chol + noise(0.25)), 1),
        "GGT": np.round(30.0 * np.exp(base + 0.3 * chol + 0.2 * diabetes + noise(0.4)), 1),
        "total_bilirubin": np.round(bili, 2),
        "direct_bilirubin": np.round(bili * direct_fraction, 2),
        "albumin": np.round(np.clip(4.2 - 0.12 * chol + noise(0.3), 2.0, 5.4), 2),
        "INR": np.round(np.exp(0.05 * np.clip(chol, 0, None) ** 2 + noise(0.06)), 2),
        "creatine_kinase": np.round(ck, 1),
        "LDH": np.round(180.0 * np.exp(0.1 * hep + noise(0.2)), 1),
        "total_protein": np.round(np.clip(7.0 - 0.05 * chol + noise(0.4), 4.5, 9.0), 2),
    }


def _bile_acids(rng: np.random.Generator, site: DiliSite, chol: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Bile acids (umol/L): a shared cholestatic response plus species-specific noise."""
    k = len(BILE_ACIDS)
    weights = np.linspace(0.45, 0.1, k) * site.bile_load
    baseline = np.geomspace(2.0, 0.2, k) * site.bile_scale
    shared = rng.normal(0.0, 0.3, n)
    logs = np.outer(chol, weights) + shared[:, None] + rng.normal(0.0, BILE_NOISE, (n, k))
    values = baseline * np.exp(logs)
    return {name: np.round(values[:, i], 3) for i, name in enumerate(BILE_ACIDS)}


def _lipids(rng: np.random.Generator, site: DiliSite, injury: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Lipid species: a few dietary factors, batch offset, noise; a handful weakly track injury."""
    k = len(LIPIDS)
    structure = np.random.default_rng(STRUCTURE_SEED)  # the same lipid biology at every site
    loadings = structure.normal(0.0, 0.25, (N_LIPID_FACTORS, k))
    centre = structure.uniform(-1.0, 3.0, k)
    factors = rng.normal(0.0, 1.0, (n, N_LIPID_FACTORS))
    logs = centre + site.lipid_batch + factors @ loadings + rng.normal(0.0, 0.4, (n, k))
    informative = [i - 1 for i in INFORMATIVE_LIPIDS]
    logs[:, informative] += 0.12 * injury[:, None]
    values = np.exp(logs)
    return {name: np.round(values[:, i], 4) for i, name in enumerate(LIPIDS)}
