"""crossknow.analysis.compare: two MMLU result folders, question by question."""

import pytest

from crossknow.analysis.compare import main
from crossknow.core.io import atomic_write_jsonl


def write(folder, probs=(0.1, 0.2, 0.3, 0.4), prediction="D", extra_subject=False):
    record = {"subject": "management", "index": 0, "prompt": "p", "label": "D", "prediction": prediction,
              "correct": prediction == "D", "probs_by_answer_token": {"paper": list(probs), "space": list(probs)}}
    atomic_write_jsonl(folder / "en" / "management.jsonl", [record])
    if extra_subject:
        atomic_write_jsonl(folder / "en" / "world_religions.jsonl", [record])


def test_equal_folders_pass_and_every_difference_is_named(tmp_path, capsys):
    write(tmp_path / "a")
    write(tmp_path / "b")
    assert main([str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert "1 configurations, 1 subject files, 1 questions compared; largest probability difference 0.00e+00; " \
           "0 difference(s)" in capsys.readouterr().out
    write(tmp_path / "c", probs=(0.1, 0.2, 0.3, 0.40001), prediction="C", extra_subject=True)
    assert main([str(tmp_path / "a"), str(tmp_path / "c")]) == 1
    out = capsys.readouterr().out
    assert "en/management.jsonl: question 0: prediction 'D' before, 'C' after" in out
    assert "en/management.jsonl: question 0: probabilities differ by 1.00e-05" in out
    assert f"en/world_religions.jsonl: only in {tmp_path / 'c'}" in out
    assert main([str(tmp_path / "a"), str(tmp_path / "c"), "--tolerance", "1e-4"]) == 1  # the prediction still differs


def test_a_folder_without_records_is_an_error(tmp_path):
    write(tmp_path / "a")
    with pytest.raises(SystemExit, match="no per-question records"):
        main([str(tmp_path / "a"), str(tmp_path / "empty")])
