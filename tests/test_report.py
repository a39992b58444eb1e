"""The report: MMLU configurations x languages and HP languages, read from the config fields."""

import json

import pytest

from crossknow.analysis.report import format_table, load_results, main
from crossknow.core.errors import CrossknowError


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
    assert "results.json: a synthetic result without arms: nothing to tabulate" in out
    assert "old/result_en.json: not a crossknow result (no schema_version or task" in out


def test_cli_on_a_folder_without_results_says_so(tmp_path):
    with pytest.raises(CrossknowError, match="no result found"):
        main([str(tmp_path)])


# Paired comparisons: results with their per-question records, paired with English by question id.

def write_run(folder, name, variant, rows, model="m"):
    """An MMLU result and its records; rows: (subject, id or None, correct, prediction)."""
    mode, _, lang = variant.rpartition("_") if variant else ("", "", "")
    config = {"name": name, "test_variant": variant, "dev_variant": variant, "test_mode": mode or None,
              "test_language": lang or None, "shots": 0, "infer_mode": "logits", "model": {"name": model}}
    by_subject = {}
    for subject, qid, correct, prediction in rows:
        record = {"subject": subject, "index": len(by_subject.get(subject, [])), "label": "A",
                  "prediction": prediction, "correct": correct}
        if qid is not None:
            record["id"] = qid
        by_subject.setdefault(subject, []).append(record)
    (folder / name).mkdir(parents=True)
    for subject, records in by_subject.items():
        (folder / name / f"{subject}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    acc = sum(r[2] for r in rows) / len(rows)
    result = {"schema_version": 1, "task": "mmlu", "config": config, "weighted_accuracy": acc, "n": len(rows),
              "subject_n": {s: len(v) for s, v in by_subject.items()}, "records": name}
    (folder / f"result_{name}.json").write_text(json.dumps(result))


ENGLISH = [("anatomy", "a0", True, "A"), ("anatomy", "a1", True, "A"), ("law", "l0", True, "A"),
           ("law", "l1", False, "B")]
FRENCH = [("anatomy", "a0", True, "A"), ("anatomy", "a1", False, "C"), ("law", "l0", False, "B"),
          ("law", "l1", False, "B")]


def test_paired_table_and_file_by_hand(tmp_path, capsys):
    run = tmp_path / "m_0shot"
    write_run(run, "en", "", ENGLISH)
    write_run(run, "full_fr", "full_fr", FRENCH)
    main([str(run), "--paired", str(tmp_path / "paired.json")])
    out = capsys.readouterr().out
    [row] = json.loads((tmp_path / "paired.json").read_text())
    # en 3/4, fr 1/4; English-only right: a1, l0 (b = 2, c = 0): McNemar p = 2 * (1/2)^2
    assert {k: row[k] for k in ("model", "task", "config", "language", "n", "accuracy", "accuracy_en", "gap",
                                "mcnemar_p", "overall", "transfer", "consistency")} == {
        "model": "m", "task": "mmlu", "config": "full_fr", "language": "fr", "n": 4, "accuracy": 0.25,
        "accuracy_en": 0.75, "gap": 0.5, "mcnemar_p": 0.5, "overall": 0.25, "transfer": 1 / 3,
        "consistency": 0.5}  # a0 A = A, l1 B = B
    # each subject has r - t summing to 1 over 2 questions: every subject resample gives 2/4
    assert row["gap_ci95_clustered"] == [0.5, 0.5]
    lo, hi = row["gap_ci95"]
    assert 0 <= lo <= 0.5 <= hi <= 1
    assert f"full     25.0 (-50.0 [{0.0 - 100 * hi:+.1f}, {0.0 - 100 * lo:+.1f}])" in out
    paired_line = next(line for line in out.splitlines() if line.startswith("full_fr"))
    assert paired_line.split()[:6] == ["full_fr", "fr", "4", "25.0", "75.0", "+50.0"]
    assert "[+50.0, +50.0]" in paired_line and "25.0 (18.8)" in paired_line  # overall, chance 3/4 * 1/4


def test_equal_counts_on_other_rows_are_not_paired_and_say_which_id(tmp_path, capsys):
    run = tmp_path / "m_0shot"
    write_run(run, "en", "", ENGLISH)
    write_run(run, "full_fr", "full_fr", FRENCH[:3] + [("law", "l9", False, "B")])
    main([str(run), "--paired", str(tmp_path / "paired.json")])
    out = capsys.readouterr().out
    assert "full     25.0 [n=4, not paired]" in out
    assert ("not paired: result_full_fr.json vs result_en.json: not paired with English: not the same questions: "
            "1 of 4 target and 1 of 4 reference questions have no counterpart (more than 1%); first differing id "
            "'l1' (only in the reference)") in out
    assert json.loads((tmp_path / "paired.json").read_text()) == []
    main([str(run), "--allow_partial", "--paired", str(tmp_path / "paired.json")])
    [row] = json.loads((tmp_path / "paired.json").read_text())
    assert (row["n"], row["dropped"], row["dropped_en"], row["accuracy"]) == (3, 1, 1, 1 / 3)


def test_reordered_records_give_the_same_paired_file(tmp_path):
    for name, english, french in (("a", ENGLISH, FRENCH), ("b", ENGLISH[::-1], FRENCH[::-1])):
        run = tmp_path / name / "m_0shot"
        write_run(run, "en", "", english)
        write_run(run, "full_fr", "full_fr", french)
        main([str(run), "--paired", str(tmp_path / f"{name}.json")])
    a, b = (json.loads((tmp_path / f"{n}.json").read_text()) for n in "ab")
    assert [{k: v for k, v in r.items() if k != "folder"} for r in a] == \
        [{k: v for k, v in r.items() if k != "folder"} for r in b]


def test_records_without_ids_pair_by_subject_and_row_and_say_so(tmp_path, capsys):
    run = tmp_path / "m_0shot"
    write_run(run, "en", "", [(s, None, c, p) for s, _, c, p in ENGLISH])
    write_run(run, "full_fr", "full_fr", [(s, None, c, p) for s, _, c, p in FRENCH])
    main([str(run), "--paired", str(tmp_path / "paired.json")])
    [row] = json.loads((tmp_path / "paired.json").read_text())
    assert (row["gap"], row["paired_by"]) == (0.5, "unit and row")
    assert "records without question ids (written before ids existed): paired by unit and row" in capsys.readouterr().out


def test_several_folders_and_every_kind(tmp_path, capsys):
    run = tmp_path / "mmlu" / "m_0shot"
    write_run(run, "en", "", ENGLISH)
    write_run(run, "full_fr", "full_fr", FRENCH)
    synthetic = tmp_path / "synthetic"
    (synthetic / "quiz" / "english").mkdir(parents=True)
    arms = {"english": {"trained": {"en": {"accuracy": 0.75, "n": 4, "ci95": [0.5, 1.0]},
                                    "fr": {"accuracy": 0.5, "n": 4, "ci95": [0.25, 0.75]}}}}
    gaps = {"english": {"mean": 0.25, "n": 4, "ci95": [0.0, 0.5]}}
    (synthetic / "results.json").write_text(json.dumps({"schema_version": 1, "task": "synthetic", "arms": arms,
                                                        "gaps": gaps}))
    quiz = {"schema_version": 1, "task": "synthetic_quiz", "config": {"arm": "english", "experiment_seed": 0},
            "records": "english"}
    (synthetic / "quiz" / "english.json").write_text(json.dumps(quiz))
    for unit, answers in (("trained_en", [True, True, False]), ("trained_fr", [True, False, False])):
        records = [{"unit": unit, "index": i, "person": f"P{i}", "relation": "city", "prediction": "A" if ok else "B",
                    "correct": ok} for i, ok in enumerate(answers)]
        (synthetic / "quiz" / "english" / f"{unit}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    translation = tmp_path / "translation" / "sys"
    translation.mkdir(parents=True)
    (translation / "scores.json").write_text(json.dumps({
        "schema_version": 1, "task": "translation", "system": "sys",
        "directions": {"en-fr": {"n": 100, "bleu": 31.25, "chrf": 55.5, "failed_lines": []}}}))
    main([str(tmp_path / "mmlu"), str(synthetic), str(translation)])
    out = capsys.readouterr().out
    assert "full     25.0 (-50.0 [" in out
    assert "english  trained  75.0 [50.0, 100.0] n=4  50.0 [25.0, 75.0] n=4" in out
    assert "english: gap (en - others) +25.0, 95% interval [+0.0, +50.0] over 4 facts" in out
    quiz_line = next(line for line in out.splitlines() if line.startswith("english/seed0/trained"))
    # en 2/3, fr 1/3 on P0..P2: gap 1/3; overall 1/3; transfer 1/2; consistency: P0 A=A, P2 B=B
    assert quiz_line.split()[:6] == ["english/seed0/trained", "fr", "3", "33.3", "66.7", "+33.3"]
    assert quiz_line.split()[-6:] == ["33.3", "(22.2)", "50.0", "(33.3)", "66.7", "(29.6)"]  # 2/9 + (2/3)(1/3)/3
    assert "sys     31.2/55.5 n=100" in out


def test_csv_export_has_one_row_per_question_and_reads_back(tmp_path):
    import csv

    run = tmp_path / "m_0shot"
    write_run(run, "en", "", ENGLISH)
    write_run(run, "full_fr", "full_fr", FRENCH)
    main([str(run), "--export", "csv", str(tmp_path / "out")])
    rows = list(csv.DictReader((tmp_path / "out" / "records.csv").open()))
    assert len(rows) == 8
    fr = [r for r in rows if r["config"] == "full_fr"]
    assert [(r["language"], r["question_id"], r["unit"], r["correct"]) for r in fr] == [
        ("fr", "a0", "anatomy", "True"), ("fr", "a1", "anatomy", "False"), ("fr", "l0", "law", "False"),
        ("fr", "l1", "law", "False")]
    assert sum(r["correct"] == "True" for r in rows if r["config"] == "en") / 4 == 0.75  # the result's accuracy
    assert {r["model"] for r in rows} == {"m"} and {r["language"] for r in rows} == {"en", "fr"}


def test_unknown_export_format_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path), "--export", "xlsx", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert "--export: unknown format 'xlsx'; known: csv, every-eval-ever" in capsys.readouterr().err


def test_a_synthetic_seed_folder_of_arm_checkpoints_is_tabulated_not_refused_as_different_models(capsys):
    """A seed's quizzes are of the base model and of each arm's checkpoint by design: the folder
    check for results of different models must not drop them (MMLU folders keep that check)."""
    from conftest import ROOT

    seed = ROOT / "Synthetic" / "measured" / "pilot" / "quiz" / "seed0"
    models = {json.loads(p.read_text())["config"]["model"]["name"] for p in seed.glob("*.json")}
    assert len(models) > 1  # the committed pilot has arms trained from the base model
    main([str(seed)])
    out = capsys.readouterr().out
    assert "different models" not in out and "not tabulated" not in out
    arms = {line.split("/")[0] for line in out.splitlines() if "/seed0/trained " in line}
    assert arms == {p.stem for p in seed.glob("*.json")}


def test_a_record_without_a_true_or_false_correct_is_named_not_a_traceback(tmp_path, capsys):
    run = tmp_path / "m_0shot"
    (run / "en").mkdir(parents=True)
    (run / "en" / "anatomy.jsonl").write_text(json.dumps({"index": 0, "correct": True}) + "\n"
                                              + json.dumps({"index": 1, "correct": None}) + "\n")
    config = {"name": "en", "test_variant": "", "dev_variant": "", "test_mode": None, "test_language": None,
              "shots": 0, "infer_mode": "logits"}
    (run / "result_en.json").write_text(json.dumps({"schema_version": 1, "task": "mmlu", "config": config,
                                                    "weighted_accuracy": 0.5, "n": 2, "records": "en"}))
    with pytest.raises(CrossknowError) as error:  # nothing left to tabulate: the one-line error says why
        main([str(run)])
    assert f"{run / 'en' / 'anatomy.jsonl'}: line 2: a record without a true/false 'correct'" in str(error.value)
    assert str(error.value).startswith(f"{run}: no result found (1 skipped; the first: {run / 'result_en.json'}: ")


@pytest.mark.parametrize("setting, value, shown", [
    ("backend", {"backend": "hf", "dtype": "bfloat16", "batch_size": 8}, "backend: {'backend': 'hf', 'dtype': 'bfloat16'} here"),
    ("apply_chat_template", True, "apply_chat_template: True here, None in English"),
    ("truncate_demos", True, "truncate_demos: True here, None in English"),
])
def test_results_made_under_other_settings_are_not_paired(tmp_path, capsys, setting, value, shown):
    run = tmp_path / "m_0shot"
    write_run(run, "en", "", ENGLISH)
    write_run(run, "full_fr", "full_fr", FRENCH)
    result_file = run / "result_full_fr.json"
    result = json.loads(result_file.read_text())
    result["config"][setting] = value
    result_file.write_text(json.dumps(result))
    main([str(run)])
    out = capsys.readouterr().out
    assert f"not paired: result_full_fr.json vs result_en.json: not paired with English: made under other settings ({shown}" in out
    assert "full_fr  fr    4" not in out  # no paired row for it


def test_a_batch_size_or_device_difference_still_pairs(tmp_path, capsys):
    run = tmp_path / "m_0shot"
    write_run(run, "en", "", ENGLISH)
    write_run(run, "full_fr", "full_fr", FRENCH)
    for name, batch in (("en", 4), ("full_fr", 64)):
        path = run / f"result_{name}.json"
        result = json.loads(path.read_text())
        result["config"]["backend"] = {"backend": "hf", "dtype": "float32", "batch_size": batch, "device": f"d{batch}"}
        path.write_text(json.dumps(result))
    main([str(run)])
    assert "made under other settings" not in capsys.readouterr().out


def test_csv_export_names_mixup_rows_by_their_variant_not_by_a_piece_of_the_subject(tmp_path):
    import csv

    run = tmp_path / "m_0shot"
    mixed = [("abstract_algebra", "q0", True, "A"), ("high_school_world_history", "q1", False, "B")]
    write_run(run, "en", "", [(s, q, True, "A") for s, q, _, _ in mixed])
    write_run(run, "mixup", "mixup", mixed)
    result_file = run / "result_mixup.json"
    result = json.loads(result_file.read_text())
    result["config"].update(test_mode=None, test_language=None)  # as MMLU/eval.py writes mixup
    result_file.write_text(json.dumps(result))
    main([str(run), "--export", "csv", str(tmp_path / "out")])
    rows = list(csv.DictReader((tmp_path / "out" / "records.csv").open()))
    assert {r["language"] for r in rows if r["config"] == "mixup"} == {"mixup"}
