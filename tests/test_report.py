"""The report: MMLU configurations x languages and HP languages, read from the config fields."""

import json

import pytest

from crossknow.errors import CrossknowError
from crossknow.report import format_table, load_results, main


def result(acc, test="", dev=None, shots=0, infer_mode="logits", n=10, name=None):
    mode, _, lang = test.rpartition("_") if "_" in test else (test or None, "", None)
    config = {"name": name or test or "en", "test_variant": test, "dev_variant": test if dev is None else dev,
              "test_mode": mode, "test_language": lang, "shots": shots, "infer_mode": infer_mode}
    return {"schema_version": 1, "task": "mmlu", "config": config, "weighted_accuracy": acc, "n": n}


def test_table_rows_columns_and_gaps():
    results = [result(0.5), result(0.4, "full_de"), result(0.45, "full_fr"), result(0.55, "gt_de"),
               result(0.3, "mixup"), result(0.42, "full_de", dev="", shots=5, name="a_file_name")]
    table = format_table({r["config"]["name"]: r for r in results})
    lines = table.splitlines()
    assert lines[0] == "English: 50.0 (n=10)"
    assert lines[1].split() == ["variant", "de", "fr"]
    assert lines[2].split() == ["full", "40.0", "(-10.0)", "45.0", "(-5.0)"]
    assert lines[3].split() == ["gt", "55.0", "(+5.0)", "-"]
    assert lines[4].split() == ["mixup", "30.0", "(-20.0)"]
    assert lines[5] == "[English demos]"
    assert "42.0 (-8.0)" in lines[-1]


def test_generation_results_form_their_own_table():
    results = [result(0.5), result(0.3, "mixup", infer_mode="generation", name="mixup_256_token")]
    lines = format_table({r["config"]["name"]: r for r in results}).splitlines()
    assert lines[:2] == ["English: 50.0 (n=10)", "[generation]"]
    assert lines[-1].split() == ["mixup", "30.0", "(-20.0)"]


def test_cli_reads_every_kind_of_result_and_never_crashes_on_a_sibling(tmp_path, capsys):
    prefix = tmp_path / "mmlu" / "model_0shot"
    prefix.mkdir(parents=True)
    for r in (result(0.6), result(0.5, "question_it")):
        (prefix / f"result_{r['config']['name']}.json").write_text(json.dumps(r))
    (prefix / "en").mkdir()
    (prefix / "en" / "settings.json").write_text(json.dumps({"task": "mmlu"}))  # a fingerprint, not a result
    hp = tmp_path / "hp" / "model" / "none"
    hp.mkdir(parents=True)
    for lang, acc in (("en", 0.5), ("fr", 0.25)):
        (hp / f"result_{lang}.json").write_text(json.dumps(
            {"schema_version": 1, "task": "hp", "config": {"language": lang}, "accuracy": acc, "n": 30}))
    (tmp_path / "synthetic").mkdir()
    (tmp_path / "synthetic" / "results.json").write_text(json.dumps({"schema_version": 1, "task": "synthetic"}))
    (tmp_path / "synthetic" / "quiz").mkdir()
    for arm in ("base", "english"):
        (tmp_path / "synthetic" / "quiz" / f"{arm}.json").write_text(json.dumps({"schema_version": 1,
                                                                               "task": "synthetic_quiz"}))
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "result_en.json").write_text(json.dumps({"weighted_accuracy": 0.5}))
    assert set(load_results(prefix)) == {"en", "question_it"}
    main([str(tmp_path), "--markdown"])
    out = capsys.readouterr().out
    assert "| variant | it |" in out and "| question | 50.0 (-10.0) |" in out
    assert "| fr | 25.0 (-25.0) | 30 |" in out and "| en | 50.0 | 30 |" in out
    assert "results.json: a synthetic result, not tabulated here" in out
    assert "synthetic/quiz: base.json, english.json: 2 synthetic_quiz results, not tabulated here (one arm's" in out
    assert "old/result_en.json: not a crossknow result of schema 1" in out


def test_cli_on_a_folder_without_results_says_so(tmp_path):
    with pytest.raises(CrossknowError, match="no MMLU or HP result found"):
        main([str(tmp_path)])
