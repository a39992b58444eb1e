"""Tasks (crossknow/tasks/): the registry, a plugin task from outside the package (ten options,
through ``python -m crossknow.tasks``), Global-MMLU as its own task, and a runner that imports no
task: the CLI's predictions are those of the task scripts and of the model's own letter scores."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DEMO_DATA, ROOT, load_script
from crossknow.core.answers import LABELS, option_labels
from crossknow.core.io import read_jsonl
from crossknow.core.model_spec import ModelSpec
from crossknow.core.results import validate_result
from crossknow.data.mmlu import LocalSource
from crossknow.data.variants import variant_parts
from crossknow.tasks import Task, get_task, known_tasks
from crossknow.tasks.__main__ import main as tasks_main
from crossknow.tasks.base import UnknownTask

PLUGIN = "tests.ten_options_task:TenOptions"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crossknow.tasks", *argv], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=600)


def test_the_built_in_tasks_are_registered_and_are_tasks():
    assert {"mmlu", "hp", "synthetic_quiz", "translation", "global_mmlu"} <= set(known_tasks())
    for name in ("mmlu", "hp", "synthetic_quiz", "global_mmlu"):
        task = get_task(name)
        assert task.name == name and isinstance(task, Task)
    assert get_task("translation").name == "translation"


def test_an_unknown_task_is_refused_in_one_line_naming_the_known_ones():
    with pytest.raises(UnknownTask, match=r"^unknown task 'mmlu_pro'; known: global_mmlu, hp, mmlu, "):
        get_task("mmlu_pro")
    out = cli("--task", "mmlu_pro")
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"error: unknown task 'mmlu_pro'; known: {', '.join(known_tasks())} (or module:attribute for a task "
        "defined elsewhere)"]
    out = cli("--limit", "1")
    assert out.returncode == 2 and "--task is required; known: global_mmlu, hp, mmlu" in out.stderr


def test_a_plugin_task_loads_from_module_and_attribute_and_bad_specs_are_refused():
    task = get_task(PLUGIN)
    assert task.name == "ten_options" and isinstance(task, Task)
    assert get_task("ten_options").name == "ten_options"  # registered by the import
    with pytest.raises(UnknownTask, match=r"module 'tests.no_such_task' cannot be imported"):
        get_task("tests.no_such_task:Task")
    with pytest.raises(UnknownTask, match=r"module 'tests.ten_options_task' has no 'Eleven'"):
        get_task("tests.ten_options_task:Eleven")
    with pytest.raises(UnknownTask, match=r"'tests.ten_options_task:prompt' is not registered"):
        get_task("tests.ten_options_task:prompt")


def test_option_labels_come_from_the_count():
    assert option_labels(10) == tuple("ABCDEFGHIJ") and LABELS == ("A", "B", "C", "D")
    with pytest.raises(ValueError, match="1 options: a question has 2 to 26 labelled options"):
        option_labels(1)


def test_one_variant_parser():
    assert [variant_parts(v) for v in ("full_fr", "gt_question_de", "mixup", "mixup_ar-hi-ru-zh", "en", "")] == [
        ("full", "fr"), ("gt_question", "de"), ("mixup", None), ("mixup", None), ("en", None), (None, None)]


def test_a_ten_option_plugin_runs_through_the_cli_with_the_models_own_predictions(bpe_model_dir, tmp_path):
    from crossknow.models.hf_backend import HFBackend, load_model
    from tests.ten_options_task import items, prompt

    args = ["--task", PLUGIN, "--model", str(bpe_model_dir), "--output_dir", str(tmp_path), "--device", "cpu",
            "--batch_size", "2"]
    out = cli(*args)
    assert out.returncode == 0, out.stderr
    folder = tmp_path / bpe_model_dir.name
    result = json.loads((folder / "result_ten.json").read_text())
    validate_result(result)
    assert result["task"] == "ten_options" and result["config"]["labels"] == list("ABCDEFGHIJ")
    records = read_jsonl(folder / "ten" / "quiz.jsonl")
    assert [r["label"] for r in records] == ["J", "A", "C", "E"]

    backend = HFBackend(*load_model(ModelSpec.parse(str(bpe_model_dir)), dtype="fp32", device="cpu"), batch_size=1)
    scores = backend.score_letters([prompt(item) for item in items()], option_labels(10))
    expected = [option_labels(10)[max(range(10), key=s.probs["paper"].__getitem__)] for s in scores]
    assert [r["prediction"] for r in records] == expected
    assert [list(r["probs"]) for r in records] == [list("ABCDEFGHIJ")] * 4
    assert result["accuracy"] == sum(p == g for p, g in zip(expected, "JACE")) / 4

    again = cli(*args)  # the plugin's result validates and is served on a rerun
    assert again.returncode == 0 and "exists: skipping" in again.stdout
    refused = cli(*args, "--labels", "4", "--overwrite")
    assert refused.returncode == 1 and "Loading" not in refused.stderr  # refused before the model loads
    assert refused.stderr.strip() == ("error: result_ten.json: unit quiz question 0 has 10 options for 4 labels "
                                      "(A B C D); nothing was scored")


def global_mmlu_copy(root, sample_id=lambda subject, row: f"{subject}/test/{row}"):
    """A local stand-in for Global-MMLU French: the demo's full_fr rows in its columns, tagged."""
    from datasets import Dataset

    rows = []
    for subject in ("management", "world_religions"):
        for i, item in enumerate(LocalSource(DEMO_DATA).load(subject, "test", "full_fr")):
            rows.append({"sample_id": sample_id(subject, i), "subject": subject, "question": item.question,
                         **{f"option_{c}": item.choices[j] for j, c in enumerate("abcd")},
                         "answer": LABELS[item.answer], "cultural_sensitivity_label": ["CS", "CA", ""][i % 3],
                         "is_annotated": i % 3 != 2})
    Dataset.from_list(rows).save_to_disk(str(root / "fr"))
    return root


def test_global_mmlu_task_keeps_sample_ids_and_culture_and_predicts_as_mmlu(bpe_model_dir, tmp_path):
    copy = global_mmlu_copy(tmp_path / "gm")
    model = ["--model", str(bpe_model_dir), "--device", "cpu", "--batch_size", "4", "--limit", "3"]
    result = tasks_main(["--task", "global_mmlu", "--data_dir", str(copy), "--language", "fr",
                         "--output_dir", str(tmp_path / "g"), *model])["fr"]
    validate_result(result)
    records = read_jsonl(tmp_path / "g" / bpe_model_dir.name / "fr" / "management.jsonl")
    assert [r["source_id"] for r in records] == [f"global-mmlu:management/test/{i}" for i in range(3)]
    assert [r["culture"] for r in records] == ["CS", "CA", None]
    assert result["culture_n"] == {"CA": 2, "CS": 2, "none": 2} and result["n"] == 6
    with pytest.raises(ValueError, match=r"^r\.json: culture_n: 'unknown' "):  # the schema checks the task's own fields
        validate_result({**result, "culture_n": {"unknown": 1}}, "r.json")

    mmlu = tasks_main(["--task", "mmlu", "--data_dir", str(DEMO_DATA), "--variants", "full_fr", "--subjects", "management", "world_religions",
                       "--output_dir", str(tmp_path / "m"), *model])["full_fr"]
    assert mmlu["subject"] == result["subject"] and mmlu["weighted_accuracy"] == result["weighted_accuracy"]
    same = read_jsonl(tmp_path / "m" / bpe_model_dir.name / "full_fr" / "management.jsonl")
    assert [(r["prompt"], r["prediction"]) for r in same] == [(r["prompt"], r["prediction"]) for r in records]


def test_the_report_tabulates_global_mmlu_by_culture_tag(bpe_model_dir, tmp_path, capsys):
    from crossknow.analysis.report import main as report

    copy = global_mmlu_copy(tmp_path / "gm")
    result = tasks_main(["--task", "global_mmlu", "--data_dir", str(copy), "--language", "fr", "--output_dir",
                         str(tmp_path / "g"), "--model", str(bpe_model_dir), "--device", "cpu", "--limit", "3"])["fr"]
    capsys.readouterr()
    report([str(tmp_path / "g")])
    out = capsys.readouterr().out
    low, high = result["ci95"]
    culture = {tag: f"{100 * result['culture'][tag]:.1f} (n=2)" for tag in ("CS", "CA", "none")}
    row = (f"fr  {100 * result['weighted_accuracy']:.1f} [{100 * low:.1f}, {100 * high:.1f}]  6  "
           f"{culture['CS']}  {culture['CA']}  {culture['none']}")
    assert "(Global-MMLU accuracy %, by culture tag)" in out
    assert [line.split() for line in out.splitlines() if line.split()[:1] == ["fr"]] == [row.split()]


def test_global_mmlu_rows_out_of_place_are_refused(tmp_path):
    copy = global_mmlu_copy(tmp_path / "gm", sample_id=lambda subject, row: f"{subject}/test/{row + 1}")
    task = get_task("global_mmlu")
    args = task_args(task, ["--data_dir", str(copy), "--language", "fr"])
    with pytest.raises(ValueError, match=r"gm/fr: row 1: sample_id 'management/test/1' is not management/test/0"):
        task.configurations(args)


def task_args(task, argv):
    from crossknow.tasks.__main__ import parse_args

    return parse_args(task, ["--task", task.name, *argv])


def test_the_hp_task_through_the_cli_predicts_as_hp_evaluate(bpe_model_dir, tmp_path):
    model = ["--model", str(bpe_model_dir), "--device", "cpu", "--batch_size", "4", "--limit", "4"]
    through_cli = tasks_main(["--task", "hp", "--data_dir", str(ROOT / "HP" / "data" / "demo-quiz"), "--languages", "en",
                              "fr", "--output_dir", str(tmp_path / "cli"), *model])
    script = load_script("HP/evaluate.py").main(["--languages", "en", "fr", "--output_dir", str(tmp_path / "hp"), *model])
    for lang in ("en", "fr"):
        assert through_cli[lang]["accuracy"] == script[lang]["accuracy"]
        cli_records = read_jsonl(tmp_path / "cli" / bpe_model_dir.name / lang / f"{lang}.jsonl")
        script_records = read_jsonl(tmp_path / "hp" / bpe_model_dir.name / "none" / lang / f"{lang}.jsonl")
        assert [(r["prompt"], r["prediction"]) for r in cli_records] == [
            (r["prompt"], r["prediction"]) for r in script_records]


def test_the_runner_imports_no_task_and_no_task_data():
    code = ("import sys, crossknow.runner; print(sorted(m for m in sys.modules if m.startswith(('crossknow.tasks', "
            "'crossknow.data', 'crossknow.evaluate'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_layer_and_runner_contracts_hold():
    pytest.importorskip("importlinter")
    lint_imports = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert "crossknow layers: analysis | training > tasks > runner > models | data > core KEPT" in out.stdout
    assert "the runner imports no task and no task data KEPT" in out.stdout


def test_the_synthetic_quiz_task_requizzes_an_earlier_quiz_with_the_same_predictions(bpe_model_dir, tmp_path):
    from types import SimpleNamespace

    from crossknow.core.model_spec import ModelSpec
    from crossknow.models.hf_backend import HFBackend, load_model
    from crossknow.runner import Run, run_units

    quiz = get_task("synthetic_quiz")
    facts = [SimpleNamespace(fact=SimpleNamespace(person=f"P{i}", relation="pet"), answer=i % 4) for i in range(3)]
    pets = ["cat", "dog", "owl", "fox"]
    units = quiz.quiz_units({"trained": facts}, ["en", "fr"],
                            lambda q, variant, row: [f"{q.fact.person} ({variant}) has a {pet}." for pet in pets],
                            "tests/pets")
    first = Run(task="synthetic_quiz", spec=ModelSpec.parse(str(bpe_model_dir)),
                config={"arm": "base", "experiment_seed": 0, "settings": {"model": "m", "seeds": 1},
                        "training_sha256": None}, data_source="tests/pets",
                result_file=tmp_path / "quiz" / "base.json", records_dir=tmp_path / "quiz" / "base")
    backend = HFBackend(*load_model(ModelSpec.parse(str(bpe_model_dir)), dtype="fp32", device="cpu"), batch_size=4)
    earlier = run_units(backend, first, units, quiz.scoring_rule, quiz.summarize)
    validate_result(earlier)

    again = tasks_main(["--task", "synthetic_quiz", "--quiz_records", str(tmp_path / "quiz" / "base"),
                        "--model", str(bpe_model_dir), "--device", "cpu", "--output_dir", str(tmp_path / "cli")])["base"]
    validate_result(again)
    assert again["sets"] == earlier["sets"]  # every prediction and accuracy, per set and variant
    assert again["config"]["data"] == earlier["config"]["data"] == {"source": "tests/pets",
                                                                   "inputs_sha256": earlier["config"]["data"]["inputs_sha256"]}


def test_the_translation_task_through_the_cli_writes_what_translate_py_writes(bpe_model_dir, tmp_path):
    argv = ["--model", str(bpe_model_dir), "--system_name", "tiny", "--languages", "fr", "--direction", "both",
            "--num_examples", "2", "--max_new_tokens", "4", "--batch_size", "2"]
    through_cli = tasks_main(["--task", "translation", *argv, "--output_dir", str(tmp_path / "cli")])
    script = load_script("Translation/translate.py").main([*argv, "--output_dir", str(tmp_path / "script")])
    for direction in ("test-en-fr", "test-fr-en"):
        written = (tmp_path / "cli" / "tiny" / direction).read_text(encoding="utf-8")
        assert written == (tmp_path / "script" / "tiny" / direction).read_text(encoding="utf-8")
        assert len(written.splitlines()) == 2
    assert {k: v for k, v in through_cli.items() if k != "date"} == {k: v for k, v in script.items() if k != "date"}
    refused = cli("--task", "translation", "--languages", "en")
    assert refused.returncode == 2 and "--languages: en is the other side of every direction" in refused.stderr


def test_a_global_mmlu_result_is_checked_against_its_records(bpe_model_dir, tmp_path):
    from crossknow.core.results import ResultError, verified_result

    copy = global_mmlu_copy(tmp_path / "gm")
    tasks_main(["--task", "global_mmlu", "--data_dir", str(copy), "--language", "fr", "--output_dir", str(tmp_path / "g"),
                "--model", str(bpe_model_dir), "--device", "cpu", "--limit", "2"])
    path = tmp_path / "g" / bpe_model_dir.name / "result_fr.json"
    assert verified_result(path)["task"] == "global_mmlu"
    result = json.loads(path.read_text())
    accuracy = result["subject"]["management"]
    result["subject"]["management"] = accuracy + 0.5 if accuracy < 0.5 else accuracy - 0.5  # a number edited
    path.write_text(json.dumps(result))
    with pytest.raises(ResultError, match=r"subject.management: .* on disk, .* from the records"):
        verified_result(path)
