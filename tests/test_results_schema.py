"""The results schema (crossknow/core/results_schema.json): what it accepts, what it refuses, and that
the README documents the version the code writes."""

import copy
import json

import pytest

from conftest import ROOT
from crossknow.core.results import SCHEMA_VERSION, result_document, validate_result


def mmlu_result() -> dict:
    model = {"name": "smollm2", "kind": "embedded", "path": "smollm2", "tokenizer": "smollm2",
             "tag": "SmolLM2-135M-Instruct"}
    config = {"name": "full_fr", "test_variant": "full_fr", "dev_variant": "full_fr", "test_mode": "full",
              "test_language": "fr", "shots": 0, "intervention": None, "limit": None, "model": model,
              "backend": {"backend": "hf"}, "infer_mode": "logits", "labels": ["A", "B", "C", "D"],
              "answer_token": "paper", "max_new_tokens": 32, "do_sample": False, "seed": 0, "stop": None,
              "units": ["management"], "data": {"source": "MMLU/data/demo/test_full_fr", "inputs_sha256": "0" * 64},
              "processes": 1}
    return result_document("mmlu", config, records="full_fr", n=10, weighted_accuracy=0.3, macro_accuracy=0.3,
                           ci95=[0.1, 0.6], subject={"management": 0.3}, subject_n={"management": 10},
                           category={"other": 0.3})


def test_a_complete_result_validates_and_carries_the_environment():
    result = mmlu_result()
    validate_result(result)
    assert result["schema_version"] == SCHEMA_VERSION == 2
    assert result["environment"]["versions"]["torch"] and result["environment"]["date"]


@pytest.mark.parametrize("breakage,message", [
    (lambda r: r.pop("weighted_accuracy"), r"\(top level\): 'weighted_accuracy' is a required property"),
    (lambda r: r["config"].pop("test_language"), r"config: 'test_language' is a required property"),
    (lambda r: r["config"]["model"].update(kind="pypi"), r"config/model/kind: 'pypi' is not one of"),
    (lambda r: r.update(weighted_accuracy=1.5), r"weighted_accuracy: 1.5 is greater than the maximum of 1"),
    (lambda r: r.update(schema_version=3), r"schema_version: 3 is not one of \[1, 2\]"),
    (lambda r: r["config"]["data"].update(inputs_sha256="abc"), r"config/data/inputs_sha256: 'abc' does not match"),
])
def test_a_broken_result_is_refused_naming_the_field(breakage, message):
    result = copy.deepcopy(mmlu_result())
    breakage(result)
    with pytest.raises(ValueError, match=message):
        validate_result(result, where="result_full_fr.json")


def test_unknown_task_is_refused():
    with pytest.raises(ValueError, match="unknown task 'squad'"):
        result_document("squad", {})


def test_the_readme_documents_the_schema_version_the_code_writes():
    readme = (ROOT / "README.md").read_text()
    assert f"`schema_version` ({SCHEMA_VERSION})" in readme and "crossknow/core/results_schema.json" in readme


@pytest.mark.parametrize("run", ["first_design", "pilot", "second_design"])
def test_the_committed_synthetic_results_and_their_quizzes_validate(run):
    import json

    results = sorted((ROOT / "Synthetic" / "measured" / run).rglob("*.json"))
    tasks = set()
    for path in results:
        document = json.loads(path.read_text())
        if "schema_version" in document:  # the runner's settings.json fingerprints are not results
            validate_result(document, str(path))
            tasks.add(document["task"])
    assert tasks == {"synthetic", "synthetic_quiz"}


@pytest.mark.parametrize("run", ["first_design", "pilot", "second_design"])
def test_the_committed_synthetic_quizzes_are_the_ones_its_results_pool(run):
    import json

    from crossknow.runner import fingerprint_sha256

    folder = ROOT / "Synthetic" / "measured" / run
    results = json.loads((folder / "results.json").read_text())
    for seed, entry in results["seeds"].items():
        for arm, quiz_file in entry["quiz"].items():
            quiz = json.loads((folder / quiz_file).read_text())
            assert quiz["sets"] == entry["arms"][arm] and quiz["config"]["experiment_seed"] == int(seed)
            records = folder / quiz_file.removesuffix(".json")
            fingerprint = json.loads((records / "settings.json").read_text())
            assert quiz["config"]["fingerprint_sha256"] == fingerprint_sha256(fingerprint)
            for variant, cell in quiz["sets"]["trained"].items():
                lines = (records / f"trained_{variant}.jsonl").read_text().splitlines()
                assert [int(json.loads(line)["correct"]) for line in lines] == cell["correct"]


def test_write_result_refuses_a_broken_result_in_one_line_and_writes_nothing(tmp_path):
    from crossknow.core.results import ResultValidationError, write_result

    path = tmp_path / "result_full_fr.json"
    result = mmlu_result()
    result["weighted_accuracy"] = 1.5
    with pytest.raises(ResultValidationError) as refused:
        write_result(path, result)
    assert str(refused.value) == f"{path}: weighted_accuracy: 1.5 is greater than the maximum of 1"
    assert not path.exists() and not list(tmp_path.iterdir())  # nor a temporary file
    write_result(path, mmlu_result())
    assert json.loads(path.read_text())["weighted_accuracy"] == 0.3


def test_a_schema_1_result_still_validates_and_is_read():
    from crossknow.core.results import check_schema

    result = mmlu_result()
    result["schema_version"] = 1
    validate_result(result)
    check_schema(result, "result_full_fr.json")


DOCUMENTS = {
    "hp_summary": ({"en": {"accuracy": 0.5, "n": 4},
                    "fr": {"accuracy": 0.25, "n": 4, "paired": None, "not_paired": "no English result"}},
                   lambda d: d["fr"].update(accuracy=-0.1), r"summary.json: fr/accuracy: -0.1 is less than the minimum"),
    "mmlu_run_summary": ({"schema_version": 2, "command": ["MMLU/eval.py", "--quick"], "configs": [
        {"name": "en", "result": "result_en.json", "n": 2, "weighted_accuracy": 0.5, "ci95": [0.0, 1.0],
         "fingerprint_sha256": "a" * 64}]},
        lambda d: d["configs"][0].pop("n"), r"run_summary.json: configs/0: 'n' is a required property"),
    "finetuning_run": ({"schema_version": 2, "config": {"lr": 0.001}, "corpus_sha256": {"t.txt": "b" * 64},
                        "optim_used": "adamw_torch", "optim_note": None, "precision_used": "fp32",
                        "warmup_steps_used": 1},
                       lambda d: d.update(precision_used="fp8"), r"ft_run.json: precision_used: 'fp8' is not one of"),
    "finetuning_summary": ({"schema_version": 2, "train_loss": 2.5, "global_step": 6, "examples": 20,
                            "train_tokens": 640, "train_tokens_this_run": 320, "seconds": 1.5,
                            "tokens_per_second": 213.3, "resumed_from": "out/checkpoint-3", "optim_used": "adamw_torch",
                            "optim_note": None, "warmup_steps_used": 1, "precision_used": "fp32"},
                           lambda d: d.update(global_step=-1), r"train_summary.json: global_step: -1 is less than"),
    "embedding_analysis": ({"schema_version": 2, "model": "use", "num_examples": 3, "unit_words": 1,
                            "perturb_language": "es", "seed": 0,
                            "alignment": {"sentence": {"fr": {"matched_cosine": [0.8], "mismatched_cosine": [0.1],
                                                              "retrieval_top1": [1.0]}}},
                            "perturbation": {"sentence": {"p": [0.0, 0.5], "share_replaced": [0.0, 0.4],
                                                          "translated_cosine": [[1.0], [0.9]],
                                                          "random_cosine": [[1.0], [0.8]], "layers_plotted": [0]}},
                            "units": {"total": 10, "translated": 9}},
                           lambda d: d["alignment"]["sentence"]["fr"].pop("retrieval_top1"),
                           r"embedding_analysis.json: alignment/sentence/fr: 'retrieval_top1' is a required property"),
}
FILES = {"hp_summary": "summary.json", "mmlu_run_summary": "run_summary.json", "finetuning_run": "ft_run.json",
         "finetuning_summary": "train_summary.json", "embedding_analysis": "embedding_analysis.json"}


@pytest.mark.parametrize("document", sorted(DOCUMENTS))
def test_every_document_that_is_not_a_task_result_is_validated_when_written(tmp_path, document):
    from crossknow.core.results import ResultValidationError, write_result

    good, breakage, message = DOCUMENTS[document]
    path = tmp_path / FILES[document]
    write_result(path, good, document)
    assert json.loads(path.read_text()) == good
    broken = copy.deepcopy(good)
    breakage(broken)
    path.unlink()
    with pytest.raises(ResultValidationError, match=message):
        write_result(path, broken, document)
    assert not path.exists()


def test_the_committed_embedding_analyses_validate():
    for path in sorted((ROOT / "Translation" / "analysis").glob("*/embedding_analysis.json")):
        validate_result(json.loads(path.read_text()), str(path), "embedding_analysis")
