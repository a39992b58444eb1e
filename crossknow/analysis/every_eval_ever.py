"""Export in the Every Eval Ever format (EvalEval coalition): ``report DIR --export every-eval-ever OUT/``.

For every MMLU and HP result with records, ``OUT/data/crossknow_{task}/{developer}/{model}/{uuid}.json``
(the format's layout; ``local`` is the developer of a model named by a path; the aggregate, valid
against ``schemas/every_eval_ever/eval.schema.json``: the accuracy with its 95% bootstrap interval
and, where the result is paired with English, the paired gap with its interval, McNemar p, overall,
transfer and consistency) and ``{uuid}_samples.jsonl`` beside it (one line per question, valid
against ``instance_level_eval.schema.json``: prompt, gold label, prediction, correctness, question
id). The uuid is derived from the evaluation id, so a second export writes the same files. Every
field comes from the result, its records or the export itself; what crossknow does not know is
written as the schema's ``unknown`` (model availability).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from pathlib import Path

from crossknow.analysis.export import UNIT_FIELDS, result_identity
from crossknow.analysis.paired_report import Pair, model_name, records_folder
from crossknow.core.io import atomic_write_text, read_jsonl
from crossknow.data.question_ids import record_id

SCHEMA_VERSION = "0.3.0"  # of the copied schemas (schemas/every_eval_ever/SOURCE.md)
SCHEMA_DIR = Path(__file__).with_name("schemas") / "every_eval_ever"
ACCURACY_RESAMPLES = 1000  # crossknow.core.results.bootstrap_interval, which made the result's ci95
SCORE_KEYS = {"mmlu": "weighted_accuracy", "hp": "accuracy"}
EXTRACTION = {"logits": "letter_logits_argmax", "loglikelihood": "option_loglikelihood_argmax",
              "generation": "first_option_letter_in_generation"}


def _strings(values: dict) -> dict[str, str]:
    return {k: json.dumps(v) if isinstance(v, dict | list) else str(v) for k, v in values.items() if v is not None}


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "model"


def model_info(result: dict, model: str) -> dict:
    spec = result.get("config", {}).get("model")
    spec = spec if isinstance(spec, dict) else {}
    backend = result.get("config", {}).get("backend") or {}
    info = {"name": model, "id": model,
            "additional_details": {"deployment_type": "externally_managed" if spec.get("kind") == "openai"
                                   else "self_deployed", "model_availability": "unknown",
                                   **_strings({"kind": spec.get("kind"), "path": spec.get("path"),
                                               "tokenizer": spec.get("tokenizer"),
                                               "dtype": backend.get("dtype"), "device": backend.get("device")})}}
    return info


def accuracy_result(result: dict, name: str, timestamp: str | None) -> dict:
    config = result.get("config", {})
    data = config.get("data") or {}
    uncertainty: dict = {"num_samples": result["n"]}
    if result.get("ci95"):
        low, high = result["ci95"]
        uncertainty.update({"confidence_interval": {"lower": low, "upper": high, "confidence_level": 0.95,
                                                    "method": "percentile bootstrap over questions"},
                            "num_bootstrap_samples": ACCURACY_RESAMPLES})
    entry = {
        "evaluation_result_id": f"{name}/accuracy",
        "evaluation_name": name,
        "source_data": {"dataset_name": str(data.get("source") or result["task"]), "source_type": "other",
                        "additional_details": _strings({"inputs_sha256": data.get("inputs_sha256"),
                                                        "limit": config.get("limit")})},
        "metric_config": {"evaluation_description": f"crossknow {result['task']} accuracy ({config.get('name', name)})",
                          "metric_id": "accuracy", "metric_name": "Accuracy", "metric_kind": "accuracy",
                          "metric_unit": "proportion", "lower_is_better": False, "score_type": "continuous",
                          "min_score": 0, "max_score": 1},
        "score_details": {"score": result[SCORE_KEYS[result["task"]]], "uncertainty": uncertainty},
    }
    if timestamp:
        entry["evaluation_timestamp"] = timestamp
    return entry


def gap_result(pair: Pair, name: str, source_data: dict) -> dict:
    m = pair.metrics
    low, high = m["gap_ci95"]
    return {
        "evaluation_result_id": f"{name}/gap_to_english",
        "evaluation_name": name,
        "source_data": source_data,
        "metric_config": {"evaluation_description": "English accuracy minus this configuration's, on the questions "
                          "paired by id (crossknow/analysis/paired.py)", "metric_id": "crosslingual_gap",
                          "metric_name": "Gap to English", "metric_kind": "accuracy_difference",
                          "metric_unit": "proportion", "lower_is_better": True, "score_type": "continuous",
                          "min_score": -1, "max_score": 1},
        "score_details": {"score": m["gap"],
                          "details": _strings({"accuracy_en": m["accuracy_reference"], "mcnemar_p": m["mcnemar_p"],
                                               "overall": m["overall"], "transfer": m["transfer"],
                                               "consistency": m["consistency"],
                                               "gap_ci95_clustered": m["gap_ci95_clustered"]}),
                          "uncertainty": {"confidence_interval": {"lower": low, "upper": high, "confidence_level": 0.95,
                                                                  "method": "paired percentile bootstrap over questions"},
                                          "num_samples": m["n"], "num_bootstrap_samples": 2000}},
    }


def sample_rows(result: dict, evaluation_id: str, model: str, name: str) -> list[dict]:
    unit_field = UNIT_FIELDS[result["task"]]
    method = EXTRACTION.get(result.get("config", {}).get("infer_mode", "logits"), "custom")
    rows = []
    for path in sorted(records_folder(result).glob("*.jsonl")):
        for record in read_jsonl(path):
            qid, _ = record_id(record, unit_field)
            prompt, label = record.get("prompt") or "", str(record.get("label"))
            prediction = "" if record.get("prediction") is None else str(record["prediction"])
            rows.append({
                "schema_version": SCHEMA_VERSION, "evaluation_id": evaluation_id, "model_id": model,
                "evaluation_name": name, "evaluation_result_id": f"{name}/accuracy", "sample_id": qid,
                "sample_hash": hashlib.sha256((prompt + label).encode("utf-8")).hexdigest(),
                "interaction_type": "single_turn",
                "input": {"raw": prompt, "reference": [label],
                          "choices": [str(c) for c in record["choices"]] if record.get("choices") else None},
                "output": {"raw": [str(record["generated"]) if "generated" in record else prediction]},
                "messages": None,
                "answer_attribution": [{"turn_idx": 0, "source": "output.raw", "extracted_value": prediction,
                                        "extraction_method": method, "is_terminal": True}],
                "evaluation": {"score": 1.0 if record["correct"] else 0.0, "is_correct": bool(record["correct"])},
                "metadata": _strings({unit_field: record.get(unit_field, path.stem), "index": record.get("index"),
                                      "culture": record.get("culture")}),
            })
    return rows


def export_result(result: dict, folder: Path, out_dir: Path, pair: Pair | None, retrieved: str) -> list[Path]:
    """The aggregate and samples files of one result; returns their paths."""
    model = model_name(result, folder)
    config, _ = result_identity(result, folder)
    name = f"crossknow_{result['task']}_{config}"
    evaluation_id = f"{name}/{model}/{result.get('config', {}).get('fingerprint_sha256') or result['n']}"
    # the format wants a version-4 uuid; derived from the evaluation id, a second export names the same files
    file_id = str(uuid.UUID(bytes=hashlib.sha256(evaluation_id.encode("utf-8")).digest()[:16], version=4))
    developer, _, short_model = model.rpartition("/") if "/" in model.strip("/") else ("local", "", model)
    relative = Path("data") / f"crossknow_{result['task']}" / _safe(developer) / _safe(short_model)
    samples = sample_rows(result, evaluation_id, model, name)
    samples_text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in samples)
    environment = result.get("environment") or {}
    accuracy = accuracy_result(result, name, environment.get("date"))
    aggregate = {
        "schema_version": SCHEMA_VERSION, "evaluation_id": evaluation_id, "retrieved_timestamp": retrieved,
        "source_metadata": {"source_name": "crossknow", "source_type": "evaluation_run",
                            "source_organization_name": "crossknow", "evaluator_relationship": "other",
                            "additional_details": _strings({"result_file": result["_path"],
                                                            "git_commit": environment.get("git_commit")})},
        "eval_library": {"name": "crossknow",
                         "version": str((environment.get("versions") or {}).get("crossknow") or "unknown"),
                         "additional_details": _strings({"git_commit": environment.get("git_commit")})},
        "model_info": model_info(result, model),
        "evaluation_results": [accuracy] + ([gap_result(pair, name, accuracy["source_data"])]
                                            if pair is not None and pair.metrics is not None else []),
        "detailed_evaluation_results": {"format": "jsonl", "file_path": str(relative / f"{file_id}_samples.jsonl"),
                                        "hash_algorithm": "sha256",
                                        "checksum": hashlib.sha256(samples_text.encode("utf-8")).hexdigest(),
                                        "total_rows": len(samples)},
    }
    if environment.get("date"):
        aggregate["evaluation_timestamp"] = environment["date"]
    aggregate_path = out_dir / relative / f"{file_id}.json"
    samples_path = out_dir / relative / f"{file_id}_samples.jsonl"
    atomic_write_text(samples_path, samples_text)
    atomic_write_text(aggregate_path, json.dumps(aggregate, indent=1, ensure_ascii=False) + "\n")
    return [aggregate_path, samples_path]


def export_every_eval_ever(folders: dict[Path, dict[str, list[dict]]], pairs: dict[Path, dict[str, list[Pair]]],
                           out_dir: Path) -> list[Path]:
    """Every MMLU and HP result with records of ``folders``, as Every Eval Ever files under ``out_dir``."""
    retrieved = str(int(time.time()))
    written = []
    for folder, by_task in folders.items():
        for task in SCORE_KEYS:
            by_config = {p.config: p for p in pairs.get(folder, {}).get(task, [])}
            for result in by_task.get(task, []):
                if records_folder(result) is None:
                    continue
                pair = by_config.get(result_identity(result, folder)[0])
                written += export_result(result, folder, Path(out_dir), pair, retrieved)
    return written
