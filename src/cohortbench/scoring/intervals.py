"""Percentile and BCa bootstrap intervals from a bootstrap distribution and jackknife values.

The formulas follow scipy.stats.bootstrap step by step (Efron & Tibshirani eq. 14.3, 15.36:
percentile of the observed value with the 'mean' tie rule, linear quantiles), so both give
the same interval from the same resamples. Resamples where a statistic is undefined (NaN) are
left out; an interval that cannot be formed (degenerate distribution) is None, never a guess.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr, ndtri

from cohortbench.scoring.validation import FloatArray


def percentile_interval(boot: FloatArray, confidence: float) -> tuple[float, float] | None:
    """Equal-tailed percentile interval of the defined resample values."""
    values = boot[np.isfinite(boot)]
    if values.size == 0:
        return None
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return float(low), float(high)


def acceleration(jack: FloatArray) -> float:
    """BCa acceleration from leave-one-out values; NaN when they are all equal."""
    n = float(jack.size)
    u = (n - 1.0) * (jack.mean() - jack)
    den = float(np.sum(u**2)) / n**2
    if den == 0.0:
        return float("nan")
    skew = float(np.sum(u**3)) / n**3
    return skew / math.pow(den, 1.5) / 6.0


def bca_interval(
    observed: float, boot: FloatArray, jack: FloatArray, confidence: float
) -> tuple[float, float] | None:
    """Bias-corrected and accelerated interval; None when bias or acceleration is undefined."""
    values = boot[np.isfinite(boot)]
    if values.size == 0 or not math.isfinite(observed) or not np.isfinite(jack).all():
        return None
    share = (np.count_nonzero(values < observed) + np.count_nonzero(values <= observed)) / (2.0 * values.size)
    z0 = float(ndtri(share))
    a_hat = acceleration(jack)
    z_alpha = float(ndtri((1.0 - confidence) / 2.0))
    levels = []
    for z in (z_alpha, -z_alpha):
        num = z0 + z
        levels.append(float(ndtr(z0 + num / (1.0 - a_hat * num))))
    if not all(math.isfinite(v) for v in levels):
        return None
    low, high = np.quantile(values, levels)
    return float(low), float(high)


def bootstrap_p_value(boot: FloatArray, null: float = 0.0) -> float | None:
    """Two-sided p-value of 'statistic == null' by inverting the percentile interval, (1 + r)/(B + 1)."""
    values = boot[np.isfinite(boot)]
    if values.size == 0:
        return None
    tail = min(np.count_nonzero(values <= null), np.count_nonzero(values >= null))
    return float(min(1.0, 2.0 * (1.0 + tail) / (values.size + 1.0)))
