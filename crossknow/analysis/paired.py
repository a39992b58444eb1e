"""Paired per-question metrics of a result against its English counterpart: the one place where the
suite computes a crosslingual gap, its intervals and the transfer measures.

The two results are paired by question id (``crossknow.analysis.paired.paired_metrics``), never by position
or count. With ``t_i``, ``r_i`` in {0, 1} whether question i (of the n paired ones) is answered
correctly in the target language and in the reference (English), and ``a_t``, ``a_r`` their means:

- ``gap = a_r - a_t`` (English minus the target language).
- ``gap_ci95``: 95% paired percentile bootstrap (Efron & Tibshirani 1993, ch. 13): questions are
  resampled with replacement, each keeping both of its answers, and the gap recomputed. The gap of a
  resample depends only on how many drawn questions have ``r - t = +1`` and ``-1``, so the resamples
  are drawn as multinomial counts over the three kinds of question, which is the same distribution
  as drawing n question indices, in O(resamples) time.
- ``gap_ci95_clustered``: the same with whole clusters (MMLU subjects) resampled, the gap of a
  resample being (sum of ``r - t``) / (questions) over the drawn clusters: the cluster bootstrap
  (Field & Welsh 2007; Miller, "Adding error bars to evals", arXiv 2411.00640, 2024). None without
  clusters or with fewer than two.
- ``mcnemar_p``: the exact (binomial) McNemar test (McNemar 1947; Fagerland, Lydersen & Laake 2013):
  with ``b`` questions right in English only and ``c`` right in the target only,
  ``p = min(1, 2 * P(X <= min(b, c)))`` for ``X ~ Binomial(b + c, 1/2)``; 1 when ``b + c = 0``.
- ``overall = mean(t_i * r_i)``: right in both (ECLeKTic's Overall, Goldman et al. 2025); chance
  ``a_t * a_r``.
- ``transfer = sum(t_i * r_i) / sum(r_i)``: right in the target among those right in English
  (ECLeKTic's Transfer); None when no English answer is right; chance ``a_t`` (independence).
- ``consistency``: share of questions with the same predicted option in both languages, right or
  wrong (BMLAMA and RankC, Qi et al. 2023); chance, if the two answers were independent at their
  accuracies and wrong answers fell evenly on the other ``k_i - 1`` options,
  ``mean(a_t * a_r + (1 - a_t) * (1 - a_r) / (k_i - 1))`` (``k_i`` the question's number of options,
  from its record, 4 where the record does not say). An empty or missing prediction (generation that
  named no option) is never consistent with anything.

``holm`` adjusts the p-values of the cells of one table (Holm 1979).
"""

from __future__ import annotations

import math

import numpy as np

from crossknow.core.errors import CrossknowError

MAX_DROPPED = 0.01  # share of one side's questions that may lack a counterpart before pairing is refused
DEFAULT_OPTIONS = 4


class PairingError(CrossknowError):
    """Two results that are not on the same questions (more than 1% of one side unpaired)."""

    def __init__(self, message: str, first_id: str | None = None):
        super().__init__(message)
        self.first_id = first_id


def _check_records(records: dict[str, dict], side: str) -> None:
    for qid, record in records.items():
        if not isinstance(record, dict) or not isinstance(record.get("correct"), bool):
            raise CrossknowError(f"{side} record {qid!r}: no boolean 'correct' field")


def _pair_ids(target: dict, reference: dict, allow_partial: bool) -> tuple[list[str], list[str], list[str]]:
    """The shared ids (sorted), and those only in the target and only in the reference."""
    only_target = sorted(set(target) - set(reference))
    only_reference = sorted(set(reference) - set(target))
    shared = sorted(set(target) & set(reference))
    if not shared:
        first = min(only_target + only_reference, default=None)
        raise PairingError(f"no question in common (first differing id {first!r})", first)
    too_many = len(only_target) > MAX_DROPPED * len(target) or len(only_reference) > MAX_DROPPED * len(reference)
    if too_many and not allow_partial:
        first = min(only_target + only_reference)
        where = "only in the target" if first in only_target else "only in the reference"
        raise PairingError(
            f"not the same questions: {len(only_target)} of {len(target)} target and {len(only_reference)} of "
            f"{len(reference)} reference questions have no counterpart (more than 1%); first differing id "
            f"{first!r} ({where}); --allow_partial pairs the rest", first)
    return shared, only_target, only_reference


def _option_count(record: dict) -> int:
    for key in ("choices", "probs", "loglikelihoods"):
        if isinstance(record.get(key), list | dict) and len(record[key]) >= 2:
            return len(record[key])
    return DEFAULT_OPTIONS


def bootstrap_gap_ci(target_correct: np.ndarray, reference_correct: np.ndarray, *, n_resamples: int = 2000,
                     seed: int = 0) -> list[float]:
    """95% paired percentile bootstrap interval of mean(reference) - mean(target), questions resampled."""
    diff = reference_correct.astype(int) - target_correct.astype(int)
    n = len(diff)
    shares = [np.count_nonzero(diff == 1) / n, np.count_nonzero(diff == -1) / n]
    shares.append(max(0.0, 1.0 - shares[0] - shares[1]))
    counts = np.random.default_rng(seed).multinomial(n, shares, size=n_resamples)
    gaps = (counts[:, 0] - counts[:, 1]) / n
    return [float(v) for v in np.percentile(gaps, [2.5, 97.5])]


def clustered_gap_ci(target_correct: np.ndarray, reference_correct: np.ndarray, cluster_of: list[str], *,
                     n_resamples: int = 2000, seed: int = 0) -> list[float] | None:
    """95% bootstrap interval of the gap resampling whole clusters; None with fewer than two clusters."""
    names = sorted(set(cluster_of))
    if len(names) < 2:
        return None
    index = _index_of(cluster_of, names)
    diff = reference_correct.astype(int) - target_correct.astype(int)
    diff_sums = np.bincount(index, weights=diff, minlength=len(names))
    sizes = np.bincount(index, minlength=len(names)).astype(float)
    draws = np.random.default_rng(seed).multinomial(len(names), [1 / len(names)] * len(names), size=n_resamples)
    gaps = (draws @ diff_sums) / (draws @ sizes)
    return [float(v) for v in np.percentile(gaps, [2.5, 97.5])]


def _index_of(values: list[str], names: list[str]) -> np.ndarray:
    position = {name: i for i, name in enumerate(names)}
    return np.array([position[v] for v in values])


def mcnemar_exact(only_reference_right: int, only_target_right: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts b and c."""
    m = only_reference_right + only_target_right
    if m == 0:
        return 1.0
    k = np.arange(min(only_reference_right, only_target_right) + 1)
    log_terms = np.array([math.lgamma(m + 1) - math.lgamma(i + 1) - math.lgamma(m - i + 1) for i in k])
    log_terms -= m * math.log(2)
    tail = float(np.exp(np.logaddexp.reduce(log_terms)))
    return min(1.0, 2 * tail)


def holm(pvalues: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the order given (step-down, monotone, capped at 1)."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted = [0.0] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def paired_metrics(target: dict[str, dict], reference: dict[str, dict], *,
                   clusters: dict[str, str] | None = None, n_resamples: int = 2000,
                   seed: int = 0, allow_partial: bool = False) -> dict:
    """Every paired metric of ``target`` against ``reference`` (English), by question id.

    ``target`` and ``reference`` map a question id to its record (``correct`` bool, ``prediction``);
    ``clusters`` maps an id to its cluster (subject) for the clustered interval. Raises PairingError
    naming the first differing id when more than 1% of either side is unpaired, unless
    ``allow_partial``; the result lists the dropped ids either way.
    """
    _check_records(target, "target")
    _check_records(reference, "reference")
    ids, dropped_target, dropped_reference = _pair_ids(target, reference, allow_partial)
    t = np.array([target[i]["correct"] for i in ids], dtype=bool)
    r = np.array([reference[i]["correct"] for i in ids], dtype=bool)
    acc_t, acc_r = float(t.mean()), float(r.mean())
    both = int(np.count_nonzero(t & r))
    same = [target[i].get("prediction") == reference[i].get("prediction")
            and target[i].get("prediction") not in (None, "") for i in ids]
    options = np.array([_option_count(reference[i]) for i in ids], dtype=float)
    clustered = None
    if clusters is not None:
        clustered = clustered_gap_ci(t, r, [str(clusters.get(i, "")) for i in ids],
                                     n_resamples=n_resamples, seed=seed)
    return {
        "n": len(ids),
        "accuracy": acc_t,
        "accuracy_reference": acc_r,
        "gap": acc_r - acc_t,
        "gap_ci95": bootstrap_gap_ci(t, r, n_resamples=n_resamples, seed=seed),
        "gap_ci95_clustered": clustered,
        "mcnemar_p": mcnemar_exact(int(np.count_nonzero(r & ~t)), int(np.count_nonzero(t & ~r))),
        "overall": both / len(ids),
        "overall_chance": acc_t * acc_r,
        "transfer": both / int(r.sum()) if r.any() else None,
        "transfer_chance": acc_t if r.any() else None,
        "consistency": sum(same) / len(ids),
        "consistency_chance": float(np.mean(acc_t * acc_r + (1 - acc_t) * (1 - acc_r) / (options - 1))),
        "dropped_target": dropped_target,
        "dropped_reference": dropped_reference,
    }
