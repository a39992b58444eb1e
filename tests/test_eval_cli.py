"""MMLU/eval.py end to end on a tiny model loaded by path: results, resume, validation."""

import json

import pytest

from conftest import DEMO_DATA, ROOT, load_script
from crossknow.core.io import read_jsonl
from crossknow.core.results import validate_result
from crossknow.data.mmlu import DataError
from crossknow.models import hf_backend
from crossknow.runner import ResumeError

mmlu_eval = load_script("MMLU/eval.py")

SUBJECTS = ["management", "world_religions"]


def run(model_dir, save_dir, *extra):
    argv = ["--model", str(model_dir), "--data_dir", str(DEMO_DATA), "--save_dir", str(save_dir),
            "--subjects", *SUBJECTS, "--limit", "4", "--batch_size", "3", "--dtype", "fp32", *extra]
    return mmlu_eval.main(argv)


def strip_volatile(result: dict) -> dict:
    environment = {k: v for k, v in result["environment"].items() if k != "date"}
    return {**result, "environment": environment}


def validate_records(path):
    import jsonschema

    from crossknow.core.results import SCHEMA_FILE

    schema = json.loads(SCHEMA_FILE.read_text())
    record_schema = {**schema["$defs"]["record"], "$defs": schema["$defs"]}
    for record in read_jsonl(path):
        jsonschema.validate(record, record_schema)


def test_results_layout_and_contents(bpe_model_dir, tmp_path):
    results = run(bpe_model_dir, tmp_path, "--configs", "en", "full_fr", "mixup")
    prefix = tmp_path / f"{bpe_model_dir.name}_0shot"
    assert sorted(p.name for p in prefix.glob("result_*.json")) == [
        "result_en.json", "result_full_fr.json", "result_mixup.json"]
    result = json.loads((prefix / "result_full_fr.json").read_text())
    assert result == results["full_fr"]
    validate_result(result)
    assert result["schema_version"] == 2 and result["task"] == "mmlu" and result["records"] == "full_fr"
    assert result["n"] == 8 and set(result["subject"]) == set(SUBJECTS)
    assert result["category"].keys() == {"humanities", "other"}
    low, high = result["ci95"]
    assert low <= result["weighted_accuracy"] <= high
    config = result["config"]
    assert config["test_variant"] == "full_fr" and config["dev_variant"] == "full_fr" and config["shots"] == 0
    assert (config["test_mode"], config["test_language"], config["intervention"]) == ("full", "fr", None)
    assert config["model"] == {"name": str(bpe_model_dir), "kind": "local", "path": str(bpe_model_dir),
                               "tokenizer": str(bpe_model_dir), "tag": bpe_model_dir.name}
    assert config["backend"] == {"backend": "hf", "device": "cpu", "dtype": "float32", "batch_size": 3,
                                 "prefix_cache": True, "attention": "packed",
                                 "sampling": {"temperature": 1.0, "top_p": 1.0, "top_k": 50}}  # none set: the defaults
    assert config["answer_token"] == "paper" and set(config["answer_token_ids"]) == {"paper", "space"}
    assert config["units"] == SUBJECTS and len(config["data"]["inputs_sha256"]) == 64
    assert config["data"]["source"].endswith("test_full_fr")
    assert result["environment"]["versions"]["transformers"] and result["environment"]["date"]
    assert "git_commit" in result["environment"]
    assert result["prefix_reuse"] == {"questions_with_reuse": 8, "questions_without": 0}
    validate_records(prefix / "full_fr" / "management.jsonl")
    records = read_jsonl(prefix / "full_fr" / "management.jsonl")
    assert len(records) == 4
    first = records[0]
    assert first["prompt"].startswith(
        "The following are multiple choice questions (with answers) about  management.\n\n"
        "Quel est le terme désignant un résultat sous-optimal")
    assert first["subject"] == "management" and first["index"] == 0
    assert first["label"] == "B" and first["correct"] == (first["prediction"] == "B")
    assert sum(first["probs"].values()) == pytest.approx(1.0, abs=1e-5)
    assert first["probs"] == dict(zip("ABCD", first["probs_by_answer_token"]["paper"]))


def test_killed_run_resumes_to_the_same_results(bpe_model_dir, tmp_path, monkeypatch):
    reference = run(bpe_model_dir, tmp_path / "ref", "--configs", "full_de")["full_de"]

    calls = {"n": 0}
    real_score = hf_backend.HFBackend.score_letters

    def dies_on_second_subject(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_score(self, *args, **kwargs)

    monkeypatch.setattr(hf_backend.HFBackend, "score_letters", dies_on_second_subject)
    with pytest.raises(KeyboardInterrupt):
        run(bpe_model_dir, tmp_path / "resumed", "--configs", "full_de")
    prefix = tmp_path / "resumed" / f"{bpe_model_dir.name}_0shot"
    assert (prefix / "full_de" / "management.jsonl").exists()
    assert not (prefix / "full_de" / "world_religions.jsonl").exists()
    assert not (prefix / "result_full_de.json").exists()
    monkeypatch.setattr(hf_backend.HFBackend, "score_letters", real_score)
    resumed = run(bpe_model_dir, tmp_path / "resumed", "--configs", "full_de")["full_de"]
    assert strip_volatile(resumed) == strip_volatile(reference)
    for subject in SUBJECTS:
        ref_prefix = tmp_path / "ref" / f"{bpe_model_dir.name}_0shot"
        assert read_jsonl(prefix / "full_de" / f"{subject}.jsonl") == read_jsonl(
            ref_prefix / "full_de" / f"{subject}.jsonl")


def test_finished_result_is_not_recomputed_or_overwritten(bpe_model_dir, tmp_path, monkeypatch):
    first = run(bpe_model_dir, tmp_path, "--configs", "en")["en"]

    def must_not_score(*args, **kwargs):
        raise AssertionError("a finished configuration was scored again")

    monkeypatch.setattr(hf_backend.HFBackend, "score_letters", must_not_score)
    assert run(bpe_model_dir, tmp_path, "--configs", "en")["en"] == first
    with pytest.raises(AssertionError, match="scored again"):
        run(bpe_model_dir, tmp_path, "--configs", "en", "--overwrite")


def test_partial_results_with_other_settings_are_refused(bpe_model_dir, tmp_path):
    prefix = tmp_path / f"{bpe_model_dir.name}_0shot"
    run(bpe_model_dir, tmp_path, "--configs", "en")
    (prefix / "result_en.json").unlink()  # as if killed before the end
    with pytest.raises(ResumeError, match=r"partial results made with other settings "
                                          r"\(scoring.answer_token: 'paper' on disk, 'space' now\)"):
        run(bpe_model_dir, tmp_path, "--configs", "en", "--answer_token", "space")


def test_a_finished_result_made_with_other_inputs_is_not_served(bpe_model_dir, tmp_path, monkeypatch):
    run(bpe_model_dir, tmp_path, "--configs", "en", "--limit", "3")
    prefix = tmp_path / f"{bpe_model_dir.name}_0shot"
    with pytest.raises(ResumeError, match=r"holds a finished result made with other settings \(config.limit: 3 on disk"):
        run(bpe_model_dir, tmp_path, "--configs", "en", "--limit", "4")
    # The same settings on other data: the data folder and the inputs' hash tell them apart.
    import shutil

    data = tmp_path / "data"
    shutil.copytree(DEMO_DATA / "test", data / "test")
    csv = data / "test" / "management_test.csv"
    lines = csv.read_text().splitlines(keepends=True)
    csv.write_text(lines[0] + lines[2] + lines[1] + "".join(lines[3:]))
    with pytest.raises(ResumeError, match=r"other settings \(data_source: .* on disk, .*data/test' now\)"):
        mmlu_eval.main(["--model", str(bpe_model_dir), "--data_dir", str(data), "--save_dir", str(tmp_path),
                        "--subjects", *SUBJECTS, "--limit", "3", "--batch_size", "3", "--dtype", "fp32",
                        "--configs", "en"])
    assert (prefix / "result_en.json").exists()


def test_bad_data_stops_before_the_model_is_loaded(bpe_model_dir, tmp_path, monkeypatch):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(DEMO_DATA / "test", data / "test")
    shutil.copytree(DEMO_DATA / "test_full_fr", data / "test_full_fr")
    bad = data / "test_full_fr" / "world_religions_test.csv"
    bad.write_text(bad.read_text().replace(",3\n", ",7\n", 1))

    def must_not_load(*args, **kwargs):
        raise AssertionError("the model was loaded before the data was validated")

    monkeypatch.setattr(hf_backend, "load_model", must_not_load)
    with pytest.raises(DataError, match=r"test_full_fr/world_religions_test.csv: row \d+: answer '7'"):
        mmlu_eval.main(["--model", str(bpe_model_dir), "--data_dir", str(data), "--save_dir",
                        str(tmp_path / "out"), "--configs", "en", "full_fr"])


def test_five_shot_english_and_same_variant_demos(bpe_model_dir, tmp_path):
    results = run(bpe_model_dir, tmp_path, "-k", "5", "--variants", "en", "gt_it", "--demos", "same", "en")
    assert sorted(results) == ["en", "gt_it", "gt_it_en_demo"]
    prefix = tmp_path / f"{bpe_model_dir.name}_5shot"
    same = read_jsonl(prefix / "gt_it" / "management.jsonl")[0]["prompt"]
    english = read_jsonl(prefix / "gt_it_en_demo" / "management.jsonl")[0]["prompt"]
    demo = "What are the two main dimensions of the Ohio Studies into leadership?\nA. "
    assert english.count("Answer: ") == 5 and english.count(demo) == 1
    assert same.count(demo) == 1 and "D. Strutturazione iniziale e considerazione\nAnswer: D\n\n" in same
    assert results["gt_it"]["config"]["dev_variant"] == "gt_it"
    assert results["gt_it_en_demo"]["config"]["dev_variant"] == ""
    assert results["gt_it"]["config"]["shots"] == 5


def test_paper_style_single_config_and_translate_then_answer(bpe_model_dir, tmp_path):
    results = run(bpe_model_dir, tmp_path, "-k", "2", "--config", "mixup_8", "--test_trans_lan", "mixup",
                  "--dev_trans_lan", "mixup", "--interv_prompt_id", "2", "--infer_mode", "generation",
                  "--max_token", "8")
    assert list(results) == ["mixup_8_token"]
    prefix = tmp_path / f"{bpe_model_dir.name}_2shot_interv2"
    records = read_jsonl(prefix / "mixup_8_token" / "management.jsonl")
    assert records[0]["prompt"].endswith(
        "\nAnswer: \nTranslate the question and options into English, and then answer.\nQuestion: ")
    assert "Question: What is the term for power derived from" not in records[0]["prompt"]
    assert all("generated" in r and r["parsed"] == (r["prediction"] is not None) for r in records)
    result = results["mixup_8_token"]
    validate_result(result)
    assert (result["config"]["name"], result["config"]["infer_mode"], result["config"]["intervention"]) == (
        "mixup_8_token", "generation", 2)
    assert result["config"]["max_new_tokens"] == 8 and result["config"]["test_mode"] == "mixup"
    from crossknow.core.answers import BLOCK_STOPS

    assert result["config"]["stop"] == list(BLOCK_STOPS)
    assert result["unparsed"] == sum(not r["parsed"] for s in SUBJECTS
                                     for r in read_jsonl(prefix / "mixup_8_token" / f"{s}.jsonl"))


def test_all_expands_to_the_paper_sweep():
    args = mmlu_eval.parse_args(["--configs", "all", "-k", "5", "--demos", "same", "en"])
    names = [c.name for c in mmlu_eval.build_configs(args)]
    assert len(names) == 59 and names[0] == "en" and "mixup_en_demo" in names
    assert "threewrong_it" in names and "question_de_en_demo" in names


def test_a_launcher_runs_with_its_arguments_overridden(bpe_model_dir, tmp_path):
    import os
    import subprocess

    env = {**os.environ, "SAVE_DIR": str(tmp_path), "DATA_DIR": str(DEMO_DATA)}
    out = subprocess.run(
        ["bash", str(ROOT / "MMLU/scripts/0shot/llama3-8b.sh"), "--model", str(bpe_model_dir), "--arch",
         str(bpe_model_dir), "--dtype", "fp32", "--subjects", "management", "--limit", "2", "--languages", "fr"],
        env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    prefix = tmp_path / f"{bpe_model_dir.name}_0shot"
    assert len(list(prefix.glob("result_*.json"))) == 1 + 7 + 1
    assert "threewrong" in out.stdout and "English:" in out.stdout
    assert "setting 9/9 mixup" in out.stderr  # the sweep's overall progress


def test_two_process_data_parallel_run_equals_one_process(bpe_model_dir, tmp_path):
    import os
    import socket
    import subprocess

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ["--model", str(bpe_model_dir), "--data_dir", str(DEMO_DATA), "--subjects", *SUBJECTS,
            "--configs", "en", "full_it", "--batch_size", "3", "--dtype", "fp32"]
    single = run(bpe_model_dir, tmp_path / "single", "--configs", "en", "full_it", "--limit", "10")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}  # two CPU processes
    out = subprocess.run(["torchrun", "--nproc_per_node", "2", "--master_addr", "127.0.0.1", "--master_port",
                          str(port), str(ROOT / "MMLU/eval.py"), *args, "--save_dir", str(tmp_path / "two")],
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count("English:") == 1  # only the main process prints the table
    prefix = tmp_path / "two" / f"{bpe_model_dir.name}_0shot"
    for name in ("en", "full_it"):
        result = json.loads((prefix / f"result_{name}.json").read_text())
        assert result["config"]["processes"] == 2
        assert result["weighted_accuracy"] == single[name]["weighted_accuracy"]
        assert result["subject"] == single[name]["subject"] and result["n"] == 20
        for subject in SUBJECTS:
            two = read_jsonl(prefix / name / f"{subject}.jsonl")
            one = read_jsonl(tmp_path / "single" / f"{bpe_model_dir.name}_0shot" / name / f"{subject}.jsonl")
            assert [r["index"] for r in two] == list(range(10))
            assert [(r["prompt"], r["prediction"]) for r in two] == [(r["prompt"], r["prediction"]) for r in one]
            for a, b in zip(two, one):
                assert a["probs"] == pytest.approx(b["probs"], abs=1e-5)


def test_the_closing_table_shows_the_paired_difference_to_english_with_its_interval(bpe_model_dir, tmp_path, capsys):
    from crossknow.analysis.report import main as report_main
    from crossknow.data.mmlu import LocalSource
    from crossknow.data.question_ids import mmlu_question_id

    run(bpe_model_dir, tmp_path, "--configs", "en", "full_fr")
    table = capsys.readouterr().out
    prefix = tmp_path / f"{bpe_model_dir.name}_0shot"
    assert f"{prefix} (weighted accuracy %, difference to English, the language minus English [paired 95% interval])" in table

    def correct(config):
        return [r["correct"] for s in SUBJECTS for r in read_jsonl(prefix / config / f"{s}.jsonl")]

    french, english = correct("full_fr"), correct("en")
    gap = (sum(english) - sum(french)) / 8  # the 8 questions are paired: both runs have the same ids
    full_row = next(line for line in table.splitlines() if line.startswith("full "))
    cell = full_row.split(None, 1)[1].strip()
    assert cell.startswith(f"{100 * sum(french) / 8:.1f} ({0.0 - 100 * gap:+.1f} [")
    report_main([str(prefix)])  # the report prints the same cell: the run reuses its pairing and its cells
    report_row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("full "))
    assert report_row.split(None, 1)[1].strip() == cell

    run(bpe_model_dir, tmp_path, "--configs", "full_de", "--limit", "2")  # other questions than English's
    table = capsys.readouterr().out
    first = mmlu_question_id("management", "test", 2, LocalSource(DEMO_DATA).load("management", "test")[2])
    assert (f"not paired: result_full_de.json vs result_en.json: not paired with English: not the same questions: "
            f"0 of 4 target and 4 of 8 reference questions have no counterpart (more than 1%); first differing id "
            f"'{first}' (only in the reference); --allow_partial pairs the rest") in table
    full_row = next(line for line in table.splitlines() if line.startswith("full "))
    assert "[n=4, not paired]" in full_row
