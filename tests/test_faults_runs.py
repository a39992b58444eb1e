"""Fault tests (issue 21, classes 5, 6, 8, 9, 10): provenance kept across partial reruns,
fine-tuning reruns and edge values, failures that must stop a run, settings checked before the
first long step, and the alignment of imported translations. Each test failed on the code before."""

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import DEMO_DATA, ROOT, load_script
from crossknow.data.flores import FLORES_DIR
from crossknow.data.mmlu import DataError, LocalSource, read_mmlu_csv
from crossknow.models.translation import AnyPair, translate
from crossknow.training import finetuning as ft

mmlu_translate = load_script("MMLU/translate.py")
build_variants = load_script("MMLU/build_variants.py")


class FailingTranslator(AnyPair):
    """Upper-cases text; a text in ``failing`` fails (a network error)."""

    name, model = "fake", "upper"

    def __init__(self, failing: set[str]):
        self.failing = failing

    def translate_batch(self, texts, src, tgt):
        if any(t in self.failing for t in texts):
            raise ConnectionError("backend down")
        return [f"[{tgt}] {t.upper()}" for t in texts]


def translate_demo(tmp_path, monkeypatch, failing: set[str], subjects: list[str], *extra: str) -> None:
    monkeypatch.setattr(mmlu_translate, "make_translator", lambda kind, model=None: FailingTranslator(failing))
    monkeypatch.setattr(mmlu_translate, "translate", lambda *a, **k: translate(*a, **{**k, "batch_size": 1,
                                                                                   "retry_wait": 0}))
    mmlu_translate.main(["--data_dir", str(DEMO_DATA), "--out_dir", str(tmp_path / "out"), "--split", "test",
                         "--subjects", *subjects, "--limit", "3", "--languages", "es", "--mode", "full",
                         "--cache", str(tmp_path / "cache.sqlite"), *extra])


# 21.5 provenance survives a partial rerun; variants are never built from kept-English cells unasked

def test_a_partial_rerun_keeps_the_kept_english_flags_and_build_variants_refuses_them(tmp_path, monkeypatch):
    both = ["management", "world_religions"]
    translate_demo(tmp_path, monkeypatch, {"Satisficing"}, both, "--on_failure", "keep_english")
    translate_demo(tmp_path, monkeypatch, set(), ["world_religions"], "--on_failure", "keep_english")
    manifest_path = tmp_path / "out" / "test_full_es" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["kept_english_cells"] == {"management": [[0, "B"]]}
    assert manifest["incomplete_subjects"] == ["management"]
    assert manifest["subjects"] == 2
    argv = ["--data_dir", str(tmp_path / "out"), "--languages", "es", "--splits", "test", "--no_mixup"]
    with pytest.raises(DataError, match=r"test_full_es/manifest.json: 1 cell\(s\) kept in English in 1 subject\(s\) "
                                        r"\(management\), first management: row 1 B; re-run"):
        build_variants.main(argv)
    assert not (tmp_path / "out" / "test_gt_es").exists()

    build_variants.main([*argv, "--allow_kept_english"])  # asked for: built, and the manifest says so
    gt_manifest = json.loads((tmp_path / "out" / "test_gt_es" / "manifest.json").read_text())
    assert gt_manifest["kept_english_subjects"] == {"full_es": ["management"]}

    translate_demo(tmp_path, monkeypatch, set(), ["management"])  # translated at last: the flag goes
    manifest = json.loads(manifest_path.read_text())
    assert manifest["kept_english_cells"] == {} and manifest["incomplete_subjects"] == []
    assert read_mmlu_csv(tmp_path / "out" / "test_full_es" / "management_test.csv")[0].choices[1] == "[es] SATISFICING"
    build_variants.main([*argv, "--overwrite"])
    assert "kept_english_subjects" not in json.loads((tmp_path / "out" / "test_gt_es" / "manifest.json").read_text())


def test_a_failed_rerun_with_stop_keeps_the_earlier_flag(tmp_path, monkeypatch):
    translate_demo(tmp_path, monkeypatch, {"Satisficing"}, ["management"], "--on_failure", "keep_english")
    with pytest.raises(mmlu_translate.TranslationFailed):
        translate_demo(tmp_path, monkeypatch, {"Satisficing"}, ["management", "world_religions"])
    manifest = json.loads((tmp_path / "out" / "test_full_es" / "manifest.json").read_text())
    assert manifest["kept_english_cells"] == {"management": [[0, "B"]]}
    assert sorted(manifest["subject_sources"]) == ["management", "world_religions"]
    with pytest.raises(DataError, match="kept in English"):
        mmlu_translate.main(["--data_dir", str(tmp_path / "out"), "--split", "test", "--languages", "es",
                             "--mode", "gt", "--subjects", "management"])


# 21.9 a launcher's settings and a command's path arguments are checked before the first long step

PREPARE_FAULTS = [
    ({"TRANSLATOR": "mmmlu"}, "error: MMMLU_DIR: not set; TRANSLATOR=mmmlu needs the folder holding the MMMLU "
                              "files mmlu_XX-XX.csv"),
    ({"TRANSLATOR": "mmmlu", "MMMLU_DIR": "{tmp}"}, "error: MMMLU_DIR: {tmp}/mmlu_FR-FR.csv: no such file "
                                                    "(the MMMLU file of 'fr')"),
    ({"TRANSLATOR": "hf", "MIXUP": "build"}, "error: MIXUP=build: mixup needs four or more languages besides "
                                             "English; LANGUAGES has 2 (es fr)"),
    ({"TRANSLATOR": "bing"}, "error: TRANSLATOR: 'bing' is not one of google, hf, llm, openai, apertium, mmmlu"),
    ({"TRANSLATOR": "hf", "LANGUAGES": "fr xx"}, "error: LANGUAGES: unknown language code 'xx'; known: "),
]


@pytest.mark.parametrize("settings, message", PREPARE_FAULTS)
def test_prepare_data_checks_its_settings_before_fetching(tmp_path, settings, message):
    out = tmp_path / "full"
    env = {**os.environ, "OUT_DIR": str(out), "SOURCE": str(tmp_path / "no_such_mmlu"), "LANGUAGES": "fr es",
           "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",  # the launcher calls `python`
           **{k: v.format(tmp=tmp_path) for k, v in settings.items()}}
    done = subprocess.run(["bash", str(ROOT / "MMLU/scripts/prepare_data.sh")], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith(message.format(tmp=tmp_path)) and done.stderr.count("\n") == 1
    assert not out.exists()  # nothing fetched


def run_report(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crossknow.analysis.report", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "CROSSKNOW_DEBUG": ""}, timeout=120)


def test_report_plot_baseline_must_be_a_results_folder(tmp_path):
    results = tmp_path / "run"
    results.mkdir()
    (results / "result_en.json").write_text("{}")
    (tmp_path / "empty").mkdir()
    missing = run_report(str(results), "--plot", "--baseline", str(tmp_path / "missing"))
    assert missing.returncode == 2
    assert missing.stderr.strip().endswith(f"argument --baseline: {tmp_path / 'missing'}: no such file or folder")
    empty = run_report(str(results), "--plot", "--baseline", str(tmp_path / "empty"))
    assert empty.returncode == 2 and "Traceback" not in empty.stderr
    assert empty.stderr.strip().endswith(f"argument --baseline: {tmp_path / 'empty'}: no result_*.json in this "
                                         "folder (a results folder of one model, such as results/mmlu/{model}_0shot)")
    assert not (results / "figures").exists()


# 21.8 a refused key stops a translation at once; a metric asked for and not computed is a failure

def run_script(script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / script), *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "CROSSKNOW_DEBUG": "", **env}, timeout=300)


def test_a_refused_api_key_stops_the_translation_with_one_masked_line(tmp_path):
    from test_openai_backend import FakeChatServer

    key = "sk-secret-abcdef123456"
    refusal = (f"Incorrect API key provided: {key}. Header was: Authorization: Bearer {key}, token=tok_998877; "
               "an older key sk-proj-zzzz99998888 was revoked")
    with FakeChatServer([(401, refusal)] * 20) as server:
        done = run_script("Translation/translate.py", "--model", "openai/gpt-4", "--languages", "fr",
                          "--direction", "en2x", "--num_examples", "4", "--batch_size", "2", "--output_dir",
                          str(tmp_path), OPENAI_API_KEY=key, OPENAI_BASE_URL=server.url)
    assert done.returncode == 1
    assert len(server.requests) == 1  # no retry, no other line tried
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: {server.url}: HTTP 401: ") and line.endswith(
        "(the API key was refused: check OPENAI_API_KEY and OPENAI_BASE_URL)")
    assert "provided: ***." in line and "Bearer ***" in line and "token=***" in line and "older key sk-***" in line
    assert not any(secret in done.stderr for secret in ("secret", "abcdef", "998877", "zzzz"))
    assert not list(tmp_path.rglob("test-en-fr"))  # no file of empty lines


def test_compute_comet_that_does_not_load_is_an_error_unless_skipped(tmp_path, monkeypatch):
    flores_evaluate = load_script("Translation/evaluate.py")
    monkeypatch.setitem(sys.modules, "comet", None)  # not installed: import comet raises ImportError
    system = tmp_path / "outputs" / "copy"
    system.mkdir(parents=True)
    reference = (FLORES_DIR / "fr.devtest").read_text(encoding="utf-8").splitlines()[:3]
    (system / "test-en-fr").write_text("\n".join(reference) + "\n", encoding="utf-8")
    argv = ["--outputs_dir", str(system), "--num_examples", "3"]
    with pytest.raises(flores_evaluate.MetricMissing, match=r"^--compute_comet: COMET not computed "
                       r"\(ModuleNotFoundError: .*\); install it .* or pass --skip_missing_metrics to score without it$"):
        flores_evaluate.main([*argv, "--compute_comet"])
    assert not (system / "scores.json").exists()
    results = flores_evaluate.main([*argv, "--compute_comet", "--skip_missing_metrics"])
    assert results[0]["directions"]["en-fr"]["bleu"] == pytest.approx(100.0)
    assert "comet_computed" not in results[0]["directions"]["en-fr"]


# 21.6 fine-tuning: a finished run is left alone, edge values refused up front, a damaged checkpoint skipped

from test_ft import interrupted_run, same_weights, straight_run, tiny_training_setup, train  # noqa: E402, F401


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_same_command_after_a_finished_run_leaves_it_alone(straight_run, tiny_training_setup, tmp_path,  # noqa: F811
                                                               capsys):
    model_dir, text = tiny_training_setup
    out = tmp_path / "ft"
    shutil.copytree(straight_run[0], out)
    before = {p.name: sha256(p) for p in out.iterdir() if p.is_file()}
    summary = train(model_dir, text, out, "--max_steps", "6")
    assert summary == json.loads((straight_run[0] / "train_summary.json").read_text())
    assert {p.name: sha256(p) for p in out.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-3", "checkpoint-6"]
    assert f"note: {out} holds a finished run of these settings (train_summary.json): left alone" in \
        capsys.readouterr().out


@pytest.mark.parametrize("extra, message", [
    (["--max_steps", "0"], r"^max_steps: must be at least 1 \(or -1: train num_epochs\), got 0$"),
    (["--max_steps", "-2"], r"^max_steps: must be at least 1 \(or -1: train num_epochs\), got -2$"),
    (["--precision", "fp16"], r"^precision: fp16 needs a CUDA GPU, and there is none here; use fp32 \(or auto, bf16\)$"),
])
def test_edge_values_are_refused_before_anything_is_written(tiny_training_setup, tmp_path, extra, message):  # noqa: F811
    import torch

    if "fp16" in extra and torch.cuda.is_available():
        pytest.skip("fp16 trains on this machine's GPU")
    model_dir, text = tiny_training_setup
    with pytest.raises(ft.ConfigError, match=message):
        train(model_dir, text, tmp_path / "ft", *extra)
    assert not (tmp_path / "ft").exists()


def test_the_precision_used_is_recorded(straight_run):  # noqa: F811
    import torch

    expected = "fp32" if not torch.cuda.is_available() else "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    out, summary = straight_run
    assert summary["precision_used"] == expected
    assert json.loads((out / "ft_run.json").read_text())["precision_used"] == expected


def test_a_damaged_checkpoint_marked_complete_falls_back_to_the_last_good_one(tiny_training_setup, straight_run,  # noqa: F811
                                                                              tmp_path, monkeypatch, capsys):
    model_dir, text = tiny_training_setup
    out = tmp_path / "run"
    interrupted_run(monkeypatch, model_dir, text, out)
    broken = out / "checkpoint-5"  # marked complete, but its weights were cut short (a full disk, a bad copy)
    shutil.copytree(out / "checkpoint-3", broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1000])
    summary = train(model_dir, text, out, "--max_steps", "6")
    assert summary["resumed_from"].endswith("checkpoint-3")
    size = weights.stat().st_size
    assert (f"note: skipping {broken}: marked complete but model.safetensors is damaged ({size} bytes, its header "
            f"needs {size + 1000}); falling back to an older checkpoint") in capsys.readouterr().out
    same_weights(straight_run[0], out)


# 21.10 imported rows are aligned by MMMLU's row index; a content check warns about misaligned rows

def write_swapped_mmmlu(path, with_index: bool, indices=None) -> None:
    """abstract_algebra in French, MMMLU layout, rows 1 and 4 (the same answer, B) swapped in the file."""
    import csv

    rows = list(enumerate(LocalSource(DEMO_DATA).load("abstract_algebra", "test", "full_fr")))
    rows[0], rows[3] = rows[3], rows[0]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(([""] if with_index else []) + ["Question", "A", "B", "C", "D", "Answer", "Subject"])
        for position, (index, item) in enumerate(rows):
            index = indices[position] if indices else 100 + index  # a subject's indices start anywhere
            w.writerow(([index] if with_index else []) + [item.question, *item.choices, "ABCD"[item.answer],
                                                          "abstract_algebra"])


def import_mmmlu(tmp_path, path):
    mmlu_translate.main(["--data_dir", str(DEMO_DATA), "--out_dir", str(tmp_path / "out"), "--split", "test",
                         "--subjects", "abstract_algebra", "--languages", "fr", "--import_mmmlu", str(path)])
    return read_mmlu_csv(tmp_path / "out" / "test_full_fr" / "abstract_algebra_test.csv")


def test_mmmlu_rows_are_aligned_by_their_row_index(tmp_path, capsys):
    path = tmp_path / "mmlu_FR-FR.csv"
    write_swapped_mmmlu(path, with_index=True)
    assert import_mmmlu(tmp_path, path) == LocalSource(DEMO_DATA).load("abstract_algebra", "test", "full_fr")
    err = capsys.readouterr().err
    assert f"note: {path} (abstract_algebra): 2 row(s) out of index order, aligned to English by the row index" in err
    assert "warning" not in err


def test_swapped_rows_with_the_same_answer_and_no_index_are_warned_about(tmp_path, capsys):
    path = tmp_path / "mmlu_FR-FR.csv"
    write_swapped_mmmlu(path, with_index=False)
    imported = import_mmmlu(tmp_path, path)  # warned, never refused
    assert imported[0].question.startswith("Affirmation 1")
    err = capsys.readouterr().err
    assert (f"warning: {path} (abstract_algebra): numbers of the English row missing on row(s) [1, 4] (row 1: "
            "['1', '2'] here, ['0', '18', '2', '2', '3', '4', '6'] in English): check that the rows are the same "
            "questions") in err
    assert (f"warning: {path} (abstract_algebra): option lengths far outside this file's range of English-to-"
            "translation ratios on row(s) [4]") in err


def test_a_repeated_mmmlu_row_index_is_refused(tmp_path):
    path = tmp_path / "mmlu_FR-FR.csv"
    write_swapped_mmmlu(path, with_index=True, indices=[0, 1, 2, 3, 4, 5, 6, 7, 8, 8])
    with pytest.raises(DataError, match=r"abstract_algebra: row index 8 is repeated \(indices 0-8\): the rows "
                                        "cannot be aligned to English"):
        import_mmmlu(tmp_path, path)


def test_numbers_are_compared_after_normalising_digits_and_separators():
    from crossknow.data.alignment import numbers

    assert numbers("٣,٥ ३.५ 3.5 1\u00a0000 1,000 ۱۲ 007") == ["1000", "1000", "12", "35", "35", "35", "7"]
