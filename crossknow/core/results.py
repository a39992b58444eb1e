"""The results JSON: one versioned schema for every task (``crossknow/core/results_schema.json``), the
MMLU summary of per-question records, and the environment block (library versions, commit).

Every result file is an object with ``schema_version``, ``task`` (mmlu, hp, translation, synthetic,
synthetic_quiz, global_mmlu, or a registered plugin task), ``config`` (the settings as structured fields), ``environment``, and the task's
numbers; the runner's results (MMLU, HP, Synthetic quizzes) also name the folder of their
per-question records (``records``). The other JSON documents the suite writes (HP's summary.json,
MMLU's run_summary.json, fine-tuning's run and summary files, the embedding analysis) have a
definition of their own in the same schema (``DOCUMENTS``). ``write_result`` validates every one
of them before it writes it, atomically: a document that breaks the schema is never written.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np

from crossknow.core.errors import CrossknowError
from crossknow.core.io import atomic_write_json, read_json, read_jsonl
from crossknow.core.subjects import CATEGORIES

TRACKED_PACKAGES = ("torch", "transformers", "accelerate", "datasets", "tokenizers", "crossknow")
SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)  # version 2 added the documents that are not task results; results read alike
SCHEMA_FILE = Path(__file__).with_name("results_schema.json")
TASKS = ("mmlu", "hp", "translation", "synthetic", "synthetic_quiz", "global_mmlu")  # the built-in tasks
# Tasks whose results hold MMLU's summary (per subject and category), recomputed from their records.
MMLU_SUMMARY_TASKS = ("mmlu", "global_mmlu")
# Task names registered at run time (crossknow.tasks.base.register_task): a plugin task's results
# validate, resume and are served like the built-in ones'.
_REGISTERED_TASKS: list[str] = []
# The result's own label for what one result is of, per task: two results of one folder with the
# same label are two results for one configuration.
CONFIGURATION_FIELDS = {"mmlu": ("name",), "hp": ("variant", "language"), "synthetic_quiz": ("arm", "experiment_seed")}
# Tasks whose folder holds one result per model by design: a Synthetic seed's quizzes are of the
# base model and of each arm's fine-tuned checkpoint.
MODELS_DIFFER_BY_DESIGN = ("synthetic_quiz",)
# The fields the report reads of each task's result: a result without them is incomplete.
REPORT_FIELDS = {"mmlu": (("config", "name"), ("config", "test_variant"), ("config", "dev_variant"),
                          ("config", "test_mode"), ("config", "test_language"), ("config", "shots"),
                          ("config", "infer_mode"), ("weighted_accuracy",), ("n",)),
                 "hp": (("config", "language"), ("accuracy",), ("n",))}


def register_result_task(name: str) -> None:
    """Accept results of the task ``name`` (called by the task registry)."""
    if name not in TASKS and name not in _REGISTERED_TASKS:
        _REGISTERED_TASKS.append(name)


def known_tasks() -> tuple[str, ...]:
    """The task names whose results this process reads: the built-in ones, then the registered ones."""
    return (*TASKS, *_REGISTERED_TASKS)


class ResultError(CrossknowError, ValueError):
    """A result file that must not be served: unknown schema, or numbers that are not its records'."""


def bootstrap_interval(correct: list[bool], n_resamples: int = 1000, seed: int = 0) -> list[float]:
    """95% percentile bootstrap interval of the accuracy."""
    if not correct:
        return [float("nan"), float("nan")]
    values = np.asarray(correct, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(n_resamples, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return [float(low), float(high)]


def summarize(records_by_subject: dict[str, list[dict]], categories: dict[str, str] = CATEGORIES) -> dict:
    """Accuracy per subject, micro (``weighted_accuracy``, the paper's headline), macro, per category."""
    subject_acc = {s: float(np.mean([r["correct"] for r in recs])) for s, recs in records_by_subject.items() if recs}
    all_correct = [r["correct"] for recs in records_by_subject.values() for r in recs]
    by_category: dict[str, list[bool]] = {}
    for subject, recs in records_by_subject.items():
        by_category.setdefault(categories.get(subject, "other"), []).extend(r["correct"] for r in recs)
    return {
        "n": len(all_correct),
        "weighted_accuracy": float(np.mean(all_correct)) if all_correct else float("nan"),
        "macro_accuracy": float(np.mean(list(subject_acc.values()))) if subject_acc else float("nan"),
        "ci95": bootstrap_interval(all_correct),
        "subject": subject_acc,
        "subject_n": {s: len(recs) for s, recs in records_by_subject.items()},
        "category": {c: float(np.mean(v)) for c, v in sorted(by_category.items()) if v},
    }


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def environment() -> dict:
    """Library versions, git commit, machine and date for the config block."""
    versions = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "versions": versions,
        "python": platform.python_version(),
        "git_commit": git_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def result_document(task: str, config: dict, **numbers) -> dict:
    """A result in the schema: version, task, config, environment, then the task's numbers."""
    if task not in known_tasks():
        raise ValueError(f"unknown task {task!r}; known: {', '.join(known_tasks())}")
    return {"schema_version": SCHEMA_VERSION, "task": task, "config": config, "environment": environment(),
            **numbers}


# The documents that are not task results, by their definition in the schema (``$defs``).
DOCUMENTS = ("embedding_analysis", "finetuning_run", "finetuning_summary", "hp_summary", "mmlu_run_summary")


class ResultValidationError(CrossknowError, ValueError):
    """A document that breaks the results schema: refused before it is written."""


@functools.cache
def _validator(document: str | None):
    import jsonschema

    schema = json.loads(SCHEMA_FILE.read_text())
    if document is not None:
        if document not in DOCUMENTS:
            raise ValueError(f"unknown document {document!r}; known: {', '.join(DOCUMENTS)}")
        schema = {"$schema": schema["$schema"], "$ref": f"#/$defs/{document}", "$defs": schema["$defs"]}
    return jsonschema.Draft202012Validator(schema)


def validate_result(result: dict, where: str = "result", document: str | None = None) -> None:
    """Raise ``ResultValidationError`` (a ``ValueError``), one line naming ``where`` and the first
    field that breaks the schema: the whole schema for a task result, or the definition named
    ``document`` (one of ``DOCUMENTS``)."""
    errors = sorted(_validator(document).iter_errors(result), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        first = errors[0]
        field = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        message = " ".join(first.message.split())
        raise ResultValidationError(f"{where}: {field}: {message[:300]}")


def write_result(path: str | Path, result: dict, document: str | None = None) -> None:
    """Validate ``result`` (see ``validate_result``) and write it atomically; a document that breaks
    the schema is refused, naming the file and the first failing field, and nothing is written."""
    validate_result(result, str(path), document)
    atomic_write_json(path, result)


# --- reading a result to serve it: the one place that decides whether a result on disk is served ---

def read_result_file(path: str | Path) -> dict | None:
    """The JSON object in ``path`` if it is a result (it has ``schema_version`` and ``task``); None
    for any other file (fingerprints, manifests, damaged JSON)."""
    try:
        data = read_json(path)
    except (CrossknowError, OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "schema_version" in data and "task" in data else None


def check_schema(result: dict, where: str) -> None:
    """Refuse a schema version this crossknow does not know (naming it), one that is not an integer,
    and an unknown task."""
    version = result.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ResultError(f"{where}: schema_version {version!r} is not an integer; this crossknow reads "
                          f"schema {' and '.join(map(str, READABLE_VERSIONS))}")
    if version not in READABLE_VERSIONS:
        raise ResultError(f"{where}: schema version {version} is unknown; this crossknow reads schema "
                          f"{' and '.join(map(str, READABLE_VERSIONS))} (written by another version of crossknow?)")
    if result.get("task") not in known_tasks():
        raise ResultError(f"{where}: unknown task {result.get('task')!r}; known: {', '.join(known_tasks())}")
    if not isinstance(result.get("config", {}), dict):
        raise ResultError(f"{where}: config is not an object")
    for keys in REPORT_FIELDS.get(result["task"], ()):
        value = result
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None and not (keys[-1] in ("test_mode", "test_language") and keys[-1] in result["config"]):
            raise ResultError(f"{where}: an incomplete {result['task']} result: no {'.'.join(keys)} "
                              "(written by an older version, or damaged?)")


def records_difference(result: dict, records_dir: Path) -> str | None:
    """None when the result's numbers are those recomputed from its per-question records in
    ``records_dir`` (one JSONL per unit of ``config.units``); otherwise what differs or is missing."""
    units = result.get("config", {}).get("units")
    if units is None:  # a result written by hand: every records file of the folder
        units = sorted(path.stem for path in Path(records_dir).glob("*.jsonl"))
    if not isinstance(units, list) or not units:
        return f"no records in {records_dir}"
    records_by_unit = {}
    for unit in units:
        path = Path(records_dir) / f"{unit}.jsonl"
        if not path.is_file():
            return f"its records {path} are missing"
        try:
            records_by_unit[unit] = read_jsonl(path)
        except CrossknowError as error:
            return str(error)
        bad = next((i for i, r in enumerate(records_by_unit[unit])
                    if not isinstance(r, dict) or not isinstance(r.get("correct"), bool)), None)
        if bad is not None:
            return f"{path}: line {bad + 1}: a record without a true/false 'correct'"
    return _first_mismatch(recomputed_numbers(result["task"], records_by_unit), result)


def recomputed_numbers(task: str, records_by_unit: dict[str, list[dict]]) -> dict:
    """The numbers of a runner result recomputed from its records (the fields every version of the
    task writes; bootstrap intervals are left out)."""
    correct = [bool(r["correct"]) for records in records_by_unit.values() for r in records]
    if task in MMLU_SUMMARY_TASKS:
        summary = summarize(records_by_unit)
        return {key: summary[key] for key in ("n", "weighted_accuracy", "macro_accuracy", "subject", "subject_n",
                                              "category")}
    if task == "hp":
        return {"n": len(correct), "accuracy": sum(correct) / len(correct) if correct else float("nan")}
    if task == "synthetic_quiz":
        sets: dict = {}
        for records in records_by_unit.values():
            if records:
                unit_correct = [int(r["correct"]) for r in records]
                sets.setdefault(records[0].get("set"), {})[records[0].get("variant")] = {
                    "n": len(unit_correct), "correct": unit_correct,
                    "accuracy": sum(unit_correct) / len(unit_correct)}
        return {"sets": sets}
    return {"n": len(correct)}


def _first_mismatch(expected, actual, path: str = "") -> str | None:
    """The first field of ``expected`` that ``actual`` does not hold (floats to 1e-9)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path.rstrip('.') or 'result'}: {actual!r:.60} on disk, an object from the records"
        for key, value in expected.items():
            if key not in actual and not path:  # a number the result does not state cannot contradict
                continue
            if key not in actual:
                return f"{path}{key}: missing on disk"
            found = _first_mismatch(value, actual[key], f"{path}{key}.")
            if found:
                return found
        return None
    if isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        same = (math.isnan(expected) and math.isnan(actual)) or math.isclose(expected, actual, rel_tol=1e-9,
                                                                              abs_tol=1e-12)
    else:
        same = expected == actual
    return None if same else f"{path.rstrip('.')}: {actual!r:.60} on disk, {expected!r:.60} from the records"


def verified_result(path: str | Path, records_dir: Path | None = None) -> dict | None:
    """The result in ``path``, checked before it is served; None when the file is not a result.
    Raises ``ResultError`` for an unknown schema version or task, and for a result whose numbers
    are not those of its records (``records_dir``, by default the folder its ``records`` field
    names). A result that names no records, or whose records folder is gone, cannot be checked and
    is served as it is (results written by hand, a moved result)."""
    result = read_result_file(path)
    if result is None:
        return None
    check_schema(result, str(path))
    if records_dir is None and not isinstance(result.get("records"), str):
        return result
    folder = records_dir if records_dir is not None else Path(path).parent / result["records"]
    if not folder.is_dir():
        return result
    difference = records_difference(result, folder)
    if difference:
        raise ResultError(f"{path}: not its records' own result ({difference}); never served: recompute it "
                          "(run again with --overwrite)")
    return result


def configuration_of(result: dict) -> tuple:
    """What a result is of inside its folder (MMLU: the configuration name; HP: variant and language)."""
    config = result.get("config", {})
    return (result["task"], *(config.get(key) for key in CONFIGURATION_FIELDS.get(result["task"], ())))


def model_of(result: dict) -> str | None:
    model = result.get("config", {}).get("model")
    return model.get("tag") or model.get("name") if isinstance(model, dict) else model


def folder_conflicts(results: dict[Path, dict]) -> tuple[dict[Path, dict], list[str]]:
    """The results of one folder that may be tabulated together, and a note for each conflict:
    two results for one configuration, or results of different models, are reported, never merged
    (none of the conflicting results is kept)."""
    notes, refused = [], set()
    by_task: dict[str, dict[Path, dict]] = {}
    for path, result in results.items():
        by_task.setdefault(result["task"], {})[path] = result
    for task, group in by_task.items():
        models: dict = {}
        for path, result in group.items():
            models.setdefault(model_of(result), []).append(path)
        if len(models) > 1 and task not in MODELS_DIFFER_BY_DESIGN:
            listed = "; ".join(f"{model}: {', '.join(p.name for p in paths)}" for model, paths in models.items())
            notes.append(f"{next(iter(group)).parent}: {task} results of different models ({listed}): not "
                         "tabulated; keep one model's results per folder")
            refused.update(group)
            continue
        configurations: dict = {}
        for path, result in group.items():
            configurations.setdefault(configuration_of(result), []).append(path)
        for key, paths in configurations.items():
            if len(paths) > 1:
                notes.append(f"{paths[0].parent}: {', '.join(p.name for p in paths)}: {len(paths)} results for one "
                             f"configuration ({', '.join(map(str, key[1:]))}): none tabulated; remove all but one")
                refused.update(paths)
    return {path: result for path, result in results.items() if path not in refused}, notes
