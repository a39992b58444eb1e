"""The results JSON: one versioned schema for every task (``crossknow/results_schema.json``), the
MMLU summary of per-question records, and the environment block (library versions, commit).

Every result file is an object with ``schema_version``, ``task`` (mmlu, hp, translation,
synthetic, synthetic_quiz), ``config`` (the settings as structured fields), ``environment``, and the task's
numbers; the runner's results (MMLU, HP, Synthetic quizzes) also name the folder of their
per-question records (``records``).
"""

from __future__ import annotations

import datetime
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np

from crossknow.mmlu import CATEGORIES

TRACKED_PACKAGES = ("torch", "transformers", "accelerate", "datasets", "tokenizers", "crossknow")
SCHEMA_VERSION = 1
SCHEMA_FILE = Path(__file__).with_name("results_schema.json")
TASKS = ("mmlu", "hp", "translation", "synthetic", "synthetic_quiz")


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
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
    return {"schema_version": SCHEMA_VERSION, "task": task, "config": config, "environment": environment(),
            **numbers}


def validate_result(result: dict, where: str = "result") -> None:
    """Raise ``ValueError`` naming the first field that breaks the schema (needs jsonschema)."""
    import jsonschema

    schema = json.loads(SCHEMA_FILE.read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(result), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        field = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        raise ValueError(f"{where}: {field}: {first.message}")
