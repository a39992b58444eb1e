"""Paired metrics (crossknow/analysis/paired.py): every number worked out by hand on tiny records, pairing by id,
and a simulation of the paired interval's coverage."""

import numpy as np
import pytest

from crossknow.analysis.paired import PairingError, holm, mcnemar_exact, paired_metrics
from crossknow.core.errors import CrossknowError


def records(rows: dict[str, tuple[bool, str | None]]) -> dict[str, dict]:
    return {qid: {"correct": correct, "prediction": prediction} for qid, (correct, prediction) in rows.items()}


# target t = 1 0 1 0 0, reference r = 1 1 0 1 0 (q1..q5)
TARGET = records({"q1": (True, "A"), "q2": (False, "B"), "q3": (True, "C"), "q4": (False, "D"), "q5": (False, "A")})
REFERENCE = records({"q1": (True, "A"), "q2": (True, "A"), "q3": (False, "D"), "q4": (True, "C"), "q5": (False, "A")})


def test_every_metric_by_hand():
    m = paired_metrics(TARGET, REFERENCE)
    assert m["n"] == 5
    assert m["accuracy"] == pytest.approx(0.4)
    assert m["accuracy_reference"] == pytest.approx(0.6)
    assert m["gap"] == pytest.approx(0.2)
    # b = 2 right in English only (q2, q4), c = 1 (q3): p = 2 * P(Bin(3, 1/2) <= 1) = 2 * 4/8 -> capped at 1
    assert m["mcnemar_p"] == 1.0
    assert m["overall"] == pytest.approx(1 / 5)  # q1 only
    assert m["overall_chance"] == pytest.approx(0.4 * 0.6)
    assert m["transfer"] == pytest.approx(1 / 3)  # q1 among q1, q2, q4
    assert m["transfer_chance"] == pytest.approx(0.4)
    assert m["consistency"] == pytest.approx(2 / 5)  # q1 A=A, q5 A=A (both wrong, same option)
    # 0.4 * 0.6 + 0.6 * 0.4 / 3 = 0.24 + 0.08
    assert m["consistency_chance"] == pytest.approx(0.32)
    assert m["gap_ci95_clustered"] is None
    assert m["dropped_target"] == [] and m["dropped_reference"] == []
    lo, hi = m["gap_ci95"]
    assert -1 <= lo <= 0.2 <= hi <= 1
    # gaps of a resample of 5 questions are multiples of 1/5
    assert round(lo * 5, 9) == round(lo * 5) and round(hi * 5, 9) == round(hi * 5)


def test_clustered_interval_by_hand():
    # cluster X = q1, q2 (r - t: 0, +1), Y = q3, q4, q5 (-1, +1, 0). Two clusters drawn with replacement:
    # XX -> (1 + 1) / 4 = 0.5; YY -> 0 / 6 = 0; XY -> 1 / 5 = 0.2.
    # Probabilities 1/4, 1/4, 1/2: the 2.5th percentile is 0 and the 97.5th is 0.5.
    clusters = {"q1": "X", "q2": "X", "q3": "Y", "q4": "Y", "q5": "Y"}
    m = paired_metrics(TARGET, REFERENCE, clusters=clusters)
    assert m["gap_ci95_clustered"] == [0.0, 0.5]
    one_cluster = paired_metrics(TARGET, REFERENCE, clusters=dict.fromkeys(TARGET, "X"))
    assert one_cluster["gap_ci95_clustered"] is None


def test_mcnemar_exact_values():
    assert mcnemar_exact(5, 1) == pytest.approx(2 * 7 / 64)  # P(Bin(6, 1/2) <= 1) = (1 + 6) / 64
    assert mcnemar_exact(4, 0) == pytest.approx(2 / 16)
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(3, 3) == 1.0
    assert mcnemar_exact(30, 0) == pytest.approx(2 * 0.5 ** 30)


def test_no_correct_english_answer_gives_no_transfer():
    target = records({"a": (True, "A"), "b": (False, "C")})
    reference = records({"a": (False, "B"), "b": (False, "C")})
    m = paired_metrics(target, reference)
    assert m["transfer"] is None and m["transfer_chance"] is None
    assert m["overall"] == 0.0
    assert m["gap"] == pytest.approx(-0.5)
    assert m["consistency"] == pytest.approx(0.5)  # b: C = C, both wrong


def test_one_question():
    m = paired_metrics(records({"only": (False, "B")}), records({"only": (True, "A")}))
    assert (m["n"], m["gap"], m["gap_ci95"], m["mcnemar_p"]) == (1, 1.0, [1.0, 1.0], 1.0)
    assert (m["overall"], m["transfer"], m["consistency"]) == (0.0, 0.0, 0.0)


def test_unparsed_predictions_are_never_consistent():
    # generation that named no option on both sides: the same (missing) answer is not agreement
    target = records({"a": (False, None), "b": (False, "")})
    reference = records({"a": (False, None), "b": (False, "")})
    assert paired_metrics(target, reference)["consistency"] == 0.0


def test_options_from_the_record_set_the_consistency_chance():
    target = {"a": {"correct": True, "prediction": "A", "choices": ["x", "y"]}}
    reference = {"a": {"correct": False, "prediction": "B", "choices": ["x", "y"]}}
    # a_t = 1, a_r = 0: chance = 0 + 0 * 1 / (2 - 1) = 0
    assert paired_metrics(target, reference)["consistency_chance"] == 0.0
    target["a"]["correct"] = False
    # a_t = a_r = 0, two options: a wrong answer has one place to go, so the chance of agreeing is 1
    assert paired_metrics(target, reference)["consistency_chance"] == 1.0


def test_same_counts_on_different_rows_are_refused_naming_the_first_differing_id():
    target = records({"mmlu/x/7": (True, "A"), "mmlu/x/8": (True, "A")})
    reference = records({"mmlu/x/7": (True, "A"), "mmlu/x/9": (True, "A")})
    with pytest.raises(PairingError, match=r"first differing id 'mmlu/x/8' \(only in the target\)") as error:
        paired_metrics(target, reference)
    assert error.value.first_id == "mmlu/x/8"
    assert isinstance(error.value, CrossknowError)
    partial = paired_metrics(target, reference, allow_partial=True)
    assert (partial["n"], partial["dropped_target"], partial["dropped_reference"]) == (1, ["mmlu/x/8"], ["mmlu/x/9"])


def test_up_to_one_percent_unpaired_is_accepted_and_listed():
    reference = records({f"q{i:03d}": (i % 2 == 0, "A") for i in range(100)})
    target = dict(reference)
    del target["q050"]  # 1 of 100 reference questions unpaired: at the limit, accepted
    m = paired_metrics(target, reference)
    assert (m["n"], m["dropped_reference"], m["dropped_target"]) == (99, ["q050"], [])
    del target["q051"]  # 2 of 100: refused
    with pytest.raises(PairingError, match="first differing id 'q050' \\(only in the reference\\)"):
        paired_metrics(target, reference)


def test_no_shared_question_is_refused_even_with_allow_partial():
    with pytest.raises(PairingError, match="no question in common"):
        paired_metrics(records({"a": (True, "A")}), records({"b": (True, "A")}), allow_partial=True)


def test_a_record_without_correct_is_refused():
    with pytest.raises(CrossknowError, match="target record 'a': no boolean 'correct' field"):
        paired_metrics({"a": {"prediction": "A"}}, REFERENCE)


def test_reordering_records_changes_nothing():
    clusters = {"q1": "X", "q2": "X", "q3": "Y", "q4": "Y", "q5": "Y"}
    forward = paired_metrics(TARGET, REFERENCE, clusters=clusters)
    backward = paired_metrics(dict(reversed(TARGET.items())), dict(reversed(REFERENCE.items())),
                              clusters=dict(reversed(clusters.items())))
    assert forward == backward


def test_holm_by_hand():
    # sorted: 0.005 * 4 = 0.02, 0.01 * 3 = 0.03, 0.03 * 2 = 0.06, 0.04 * 1 = 0.04 -> kept monotone at 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == [1.0, 1.0]
    assert holm([]) == []


def simulate_study(rng, n):
    """Correlated answers: the target copies the English answer 80% of the time, else guesses at 0.4.
    P(r) = 0.6, P(t) = 0.8 * 0.6 + 0.2 * 0.4 = 0.56, true gap 0.04."""
    r = rng.random(n) < 0.6
    t = np.where(rng.random(n) < 0.8, r, rng.random(n) < 0.4)
    return t, r


def test_paired_interval_covers_the_true_gap_and_is_narrower_than_unpaired():
    rng = np.random.default_rng(1)
    covered, paired_widths, unpaired_widths = 0, [], []
    for study in range(200):
        t, r = simulate_study(rng, 300)
        ids = [str(i) for i in range(300)]
        m = paired_metrics({i: {"correct": bool(x), "prediction": "A"} for i, x in zip(ids, t)},
                           {i: {"correct": bool(x), "prediction": "A"} for i, x in zip(ids, r)},
                           n_resamples=1000, seed=study)
        lo, hi = m["gap_ci95"]
        covered += lo <= 0.04 <= hi
        paired_widths.append(hi - lo)
        # the unpaired interval: each accuracy resampled on its own
        boot = np.random.default_rng(study)
        gaps = boot.binomial(300, r.mean(), 1000) / 300 - boot.binomial(300, t.mean(), 1000) / 300
        unpaired_widths.append(np.percentile(gaps, 97.5) - np.percentile(gaps, 2.5))
    assert 0.90 <= covered / 200 <= 0.99
    assert np.mean(paired_widths) < 0.7 * np.mean(unpaired_widths)
