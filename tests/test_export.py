"""Every Eval Ever export: every file validates against the copied schemas, carries the result's own
numbers, and reads back to the same n and accuracy."""

import json

import pytest

from crossknow.analysis.every_eval_ever import SCHEMA_DIR
from crossknow.analysis.report import main

jsonschema = pytest.importorskip("jsonschema", reason="the dev extra (jsonschema) is not installed")


def write_run(folder, name, variant, correct, model="org/tiny"):
    mode, _, lang = variant.rpartition("_") if variant else ("", "", "")
    config = {"name": name, "test_variant": variant, "dev_variant": variant, "test_mode": mode or None,
              "test_language": lang or None, "shots": 0, "infer_mode": "logits",
              "model": {"name": model, "kind": "hf", "path": None, "tokenizer": None, "tag": "tiny"},
              "backend": {"device": "cpu", "dtype": "float32"}, "limit": None,
              "data": {"source": "MMLU/data/demo/test", "inputs_sha256": "ab" * 32}, "fingerprint_sha256": name * 3}
    records = [{"subject": "anatomy", "index": i, "id": f"mmlu/anatomy/test/{i}/0000000{i}", "prompt": f"Q{i}?\nAnswer:",
                "label": "A", "prediction": "A" if ok else "B", "correct": ok} for i, ok in enumerate(correct)]
    (folder / name).mkdir(parents=True)
    (folder / name / "anatomy.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    result = {"schema_version": 1, "task": "mmlu", "config": config, "n": len(correct), "records": name,
              "weighted_accuracy": sum(correct) / len(correct), "ci95": [0.1, 0.9], "subject_n": {"anatomy": len(correct)},
              "environment": {"versions": {"crossknow": "0.9.0"}, "git_commit": "abc", "date": "2026-12-04T17:00:00+00:00"}}
    (folder / f"result_{name}.json").write_text(json.dumps(result))


def validator(name):
    schema = json.loads((SCHEMA_DIR / name).read_text())
    return jsonschema.Draft7Validator(schema)


def test_every_exported_file_validates_and_reads_back(tmp_path, capsys):
    run = tmp_path / "results" / "tiny_0shot"
    write_run(run, "en", "", [True, True, True, False])
    write_run(run, "full_fr", "full_fr", [True, False, False, False])
    out = tmp_path / "eee"
    main([str(run), "--export", "every-eval-ever", str(out)])
    assert f"wrote 4 Every Eval Ever files under {out}" in capsys.readouterr().out
    aggregates = sorted(p for p in out.rglob("*.json"))
    assert len(aggregates) == 2
    aggregate_schema, sample_schema = validator("eval.schema.json"), validator("instance_level_eval.schema.json")
    by_name = {}
    for path in aggregates:
        aggregate = json.loads(path.read_text())
        assert list(aggregate_schema.iter_errors(aggregate)) == []
        samples_path = out / aggregate["detailed_evaluation_results"]["file_path"]
        samples = [json.loads(line) for line in samples_path.read_text().splitlines()]
        for sample in samples:
            assert list(sample_schema.iter_errors(sample)) == []
            assert sample["evaluation_id"] == aggregate["evaluation_id"]
        accuracy = aggregate["evaluation_results"][0]
        # n and accuracy recovered from the export alone
        assert accuracy["score_details"]["uncertainty"]["num_samples"] == len(samples) == 4
        assert accuracy["score_details"]["score"] == sum(s["evaluation"]["is_correct"] for s in samples) / 4
        assert aggregate["detailed_evaluation_results"]["total_rows"] == 4
        by_name[accuracy["evaluation_name"]] = (aggregate, samples)
    english, _ = by_name["crossknow_mmlu_en"]
    french, samples = by_name["crossknow_mmlu_full_fr"]
    assert english["evaluation_results"][0]["score_details"]["score"] == 0.75
    assert english["model_info"]["id"] == "org/tiny" and english["eval_library"]["version"] == "0.9.0"
    assert english["evaluation_timestamp"] == "2026-12-04T17:00:00+00:00"
    assert len(english["evaluation_results"]) == 1  # English has no gap to itself
    gap = french["evaluation_results"][1]
    assert gap["metric_config"]["metric_id"] == "crosslingual_gap" and gap["score_details"]["score"] == 0.5
    assert json.loads(gap["score_details"]["details"]["transfer"]) == pytest.approx(1 / 3)
    assert [s["sample_id"] for s in samples] == [f"mmlu/anatomy/test/{i}/0000000{i}" for i in range(4)]
    assert [s["answer_attribution"][0]["extracted_value"] for s in samples] == ["A", "B", "B", "B"]


def test_a_second_export_writes_the_same_files(tmp_path):
    run = tmp_path / "results" / "tiny_0shot"
    write_run(run, "en", "", [True, False])
    main([str(run), "--export", "every-eval-ever", str(tmp_path / "a")])
    main([str(run), "--export", "every-eval-ever", str(tmp_path / "b")])
    names = lambda root: sorted(str(p.relative_to(root)) for p in root.rglob("*.*"))  # noqa: E731
    assert names(tmp_path / "a") == names(tmp_path / "b")
