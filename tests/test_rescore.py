"""Re-scoring from records (crossknow/analysis/rescore.py): answer-token convention, tie rules, categories,
and the records that cannot be re-scored, by hand."""

import json

import pytest

from crossknow.analysis.rescore import main, rescore_folder, rescored_correct
from crossknow.core.errors import CrossknowError


def letter_record(label, probs, by_convention, subject="anatomy", index=0):
    return {"subject": subject, "index": index, "label": label, "probs": dict(zip("ABCD", probs)),
            "probs_by_answer_token": by_convention, "correct": None}


def test_convention_and_tie_rules_by_hand():
    # as run ("paper"): B wins; under "space": A and C tie at 0.4
    record = letter_record("C", [0.1, 0.6, 0.2, 0.1], {"paper": [0.1, 0.6, 0.2, 0.1], "space": [0.4, 0.1, 0.4, 0.1]})
    assert rescored_correct(record) is False
    assert rescored_correct(record, "space", "first") is False  # A
    assert rescored_correct(record, "space", "last") is True  # C
    assert rescored_correct(record, "space", "wrong") is False  # a tie is wrong


def test_loglikelihood_ties_and_no_convention():
    record = {"index": 3, "label": "B", "loglikelihoods": {"A": -1.0, "B": -1.0, "C": -5.0, "D": -9.0}}
    assert rescored_correct(record, None, "first") is False and rescored_correct(record, None, "last") is True
    with pytest.raises(CrossknowError, match="record 3: options scored as text have no answer-token convention"):
        rescored_correct(record, "space")


def test_generation_records_are_refused():
    with pytest.raises(CrossknowError, match="record 0: keeps no option scores .* cannot be re-scored"):
        rescored_correct({"index": 0, "label": "A", "prediction": "A", "generated": "A."})


def test_folder_accuracy_per_category(tmp_path):
    rows = [letter_record("A", [0.7, 0.1, 0.1, 0.1], {"paper": [0.7, 0.1, 0.1, 0.1], "space": [0.1, 0.7, 0.1, 0.1]},
                          "high_school_physics", 0),
            letter_record("B", [0.3, 0.3, 0.2, 0.2], {"paper": [0.3, 0.3, 0.2, 0.2], "space": [0.1, 0.7, 0.1, 0.1]},
                          "high_school_physics", 1)]
    (tmp_path / "high_school_physics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    as_run = rescore_folder(tmp_path)
    assert (as_run["n"], as_run["accuracy"], as_run["ties"]) == (2, 0.5, 1)  # the tie A/B goes to A: wrong
    assert rescore_folder(tmp_path, tie="last")["accuracy"] == 1.0
    space = rescore_folder(tmp_path, "space")
    assert (space["accuracy"], space["ties"], space["category"]) == (0.5, 0, {"STEM": 0.5})


def test_cli_prints_recorded_and_rescored(tmp_path, capsys):
    run_dir = tmp_path / "m_0shot"
    (run_dir / "en").mkdir(parents=True)
    record = letter_record("A", [0.5, 0.5, 0.0, 0.0], {"paper": [0.5, 0.5, 0.0, 0.0], "space": [0.2, 0.8, 0.0, 0.0]})
    record["correct"] = True  # as run: the tie went to A (a result is served only with its records' numbers)
    (run_dir / "en" / "anatomy.jsonl").write_text(json.dumps(record) + "\n")
    config = {"name": "en", "test_variant": "", "dev_variant": "", "test_mode": None, "test_language": None,
              "shots": 0, "infer_mode": "logits"}
    (run_dir / "result_en.json").write_text(json.dumps({"schema_version": 1, "task": "mmlu", "config": config,
                                                         "weighted_accuracy": 1.0, "n": 1, "records": "en"}))
    [row] = main([str(run_dir), "--tie", "wrong"])
    assert (row["recorded"], row["accuracy"], row["ties"]) == (1.0, 0.0, 1)
    assert "100.0 as run -> 0.0 (n=1, 1 ties;" in capsys.readouterr().out
