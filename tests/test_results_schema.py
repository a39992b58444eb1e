"""The results schema (crossknow/core/results_schema.json): what it accepts, what it refuses, and that
the README documents the version the code writes."""

import copy

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
    assert result["schema_version"] == SCHEMA_VERSION == 1
    assert result["environment"]["versions"]["torch"] and result["environment"]["date"]


@pytest.mark.parametrize("breakage,message", [
    (lambda r: r.pop("weighted_accuracy"), r"\(top level\): 'weighted_accuracy' is a required property"),
    (lambda r: r["config"].pop("test_language"), r"config: 'test_language' is a required property"),
    (lambda r: r["config"]["model"].update(kind="pypi"), r"config/model/kind: 'pypi' is not one of"),
    (lambda r: r.update(weighted_accuracy=1.5), r"weighted_accuracy: 1.5 is greater than the maximum of 1"),
    (lambda r: r.update(schema_version=2), r"schema_version: 1 was expected"),
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


@pytest.mark.parametrize("run", ["first_design", "pilot"])
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


@pytest.mark.parametrize("run", ["first_design", "pilot"])
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
