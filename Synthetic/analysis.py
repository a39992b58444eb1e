"""The crosslingual gap of each arm, and the paired comparison of two arms on it, with the power the
design had.

A fact's gap is its English score (1 or 0) minus its mean score over the other languages; an arm's
gap is the mean over facts. Two arms trained with the same seed are quizzed on the same facts, so
they compare fact by fact: d = gap(arm) - gap(reference). Two views of the same differences:

- per fact, pooled over seeds: bootstrap interval, sign-flip permutation test, and the smallest
  difference detectable with 80% power at alpha 0.05 (normal approximation). It treats facts as
  independent, so it ignores the variation between training runs;
- per seed (one mean difference per training run): t interval and detectable difference with
  k - 1 degrees of freedom. With three seeds this view is the honest one and has little power.
"""

from __future__ import annotations

import math

import numpy as np

# Student t quantiles (0.975, 0.80) by degrees of freedom: numpy has no t distribution.
T_QUANTILES = {1: (12.706, 1.376), 2: (4.303, 1.061), 3: (3.182, 0.978), 4: (2.776, 0.941), 5: (2.571, 0.920),
               6: (2.447, 0.906), 7: (2.365, 0.896), 8: (2.306, 0.889), 9: (2.262, 0.883), 10: (2.228, 0.879)}
Z_975, Z_80 = 1.960, 0.842


def fact_gaps(by_variant: dict, english: str, others: list[str]) -> list[float]:
    """Per fact: correct in English (0/1) minus the mean correctness over ``others``."""
    en = by_variant[english]["correct"]
    rest = [by_variant[lang]["correct"] for lang in others]
    return [en[i] - sum(r[i] for r in rest) / len(rest) for i in range(len(en))]


def bootstrap_mean_interval(values: list[float], n_resamples: int = 2000, seed: int = 0) -> list[float]:
    if not values:
        return [math.nan, math.nan]
    x = np.asarray(values, dtype=np.float64)
    means = x[np.random.default_rng(seed).integers(0, len(x), size=(n_resamples, len(x)))].mean(axis=1)
    return [float(v) for v in np.percentile(means, [2.5, 97.5])]


def sign_flip_p_value(differences: list[float], n_draws: int = 20000, seed: int = 0) -> float:
    """Two-sided p-value of a mean paired difference of zero (random sign flips)."""
    d = np.asarray(differences, dtype=np.float64)
    if not d.size or not d.any():
        return 1.0
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(n_draws, d.size))
    null = np.abs((signs * d).mean(axis=1))
    return float((1 + (null >= abs(d.mean()) - 1e-12).sum()) / (n_draws + 1))


def seed_level(per_seed_means: list[float]) -> dict:
    """Mean over seeds, its t interval and the difference detectable with 80% power."""
    k = len(per_seed_means)
    mean = float(np.mean(per_seed_means)) if k else math.nan
    if k < 2:
        return {"mean": mean, "k": k, "ci95": [math.nan, math.nan], "detectable_80": math.nan}
    sd = float(np.std(per_seed_means, ddof=1))
    t_975, t_80 = T_QUANTILES.get(k - 1, (Z_975, Z_80))
    half = t_975 * sd / math.sqrt(k)
    return {"mean": mean, "k": k, "sd": sd, "ci95": [mean - half, mean + half],
            "detectable_80": (t_975 + t_80) * sd / math.sqrt(k)}


def paired_comparison(arm_gaps: dict[str, list[float]], reference_gaps: dict[str, list[float]]) -> dict:
    """``*_gaps``: seed -> per-fact gaps (the same facts in the same order for both arms)."""
    per_seed, pooled = [], []
    for seed, gaps in arm_gaps.items():
        ref = reference_gaps[seed]
        if len(ref) != len(gaps):
            raise ValueError(f"seed {seed}: {len(gaps)} facts against {len(ref)}; the arms must share their facts")
        d = [a - b for a, b in zip(gaps, ref)]
        pooled += d
        per_seed.append(float(np.mean(d)))
    sd = float(np.std(pooled, ddof=1)) if len(pooled) > 1 else math.nan
    return {"per_fact": {"mean": float(np.mean(pooled)), "n": len(pooled), "ci95": bootstrap_mean_interval(pooled),
                         "p_sign_flip": sign_flip_p_value(pooled),
                         "detectable_80": (Z_975 + Z_80) * sd / math.sqrt(len(pooled))},
            "per_seed": {"differences": per_seed, **seed_level(per_seed)}}


def summarize_gap(gaps_by_seed: dict[str, list[float]]) -> dict:
    """An arm's gap: pooled over facts (bootstrap interval) and per seed."""
    pooled = [g for gaps in gaps_by_seed.values() for g in gaps]
    per_seed = [float(np.mean(g)) for g in gaps_by_seed.values()]
    return {"mean": float(np.mean(pooled)), "n": len(pooled), "ci95": bootstrap_mean_interval(pooled),
            "per_seed": per_seed, "seed_level": seed_level(per_seed)}
