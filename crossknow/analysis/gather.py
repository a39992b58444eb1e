"""The results under a folder, read and verified: what the report, the figures and re-scoring
share (so that none of them imports another).

A file is served only as ``crossknow.core.results.verified_result`` serves it (a known schema version,
numbers that are its records' own); results of one folder that conflict are named, never merged.
"""

from __future__ import annotations

import sys
from pathlib import Path

from crossknow.core.results import ResultError, folder_conflicts, verified_result

TABULATED = ("mmlu", "hp", "translation", "synthetic", "synthetic_quiz", "global_mmlu")


def read_result(path: Path) -> dict | None:
    """A result in the schema, verified (``crossknow.core.results.verified_result``: a known schema
    version, numbers that are its records' own; ``ResultError`` otherwise), or None for any other
    JSON file (fingerprints, manifests, ...)."""
    return verified_result(path)


def load_results(prefix: Path) -> dict[str, dict]:
    """The MMLU results of one folder, by configuration name; a result that cannot be served, or
    one of two for a configuration or of different models, is left out with a note on stderr."""
    found = {}
    for path in sorted(Path(prefix).glob("result_*.json")):
        try:
            result = read_result(path)
        except ResultError as error:
            print(f"Note: {error}", file=sys.stderr)
            continue
        if result is not None and result["task"] == "mmlu":
            found[path] = {**result, "_path": str(path)}
    kept, notes = folder_conflicts(found)
    for note in notes:
        print(f"Note: {note}", file=sys.stderr)
    return {result["config"]["name"]: result for result in kept.values()}


def question_set(result: dict) -> tuple:
    """What a result was scored on, to compare like with like: MMLU, the questions per subject;
    HP, the quiz and the number of its (aligned) rows."""
    if result["task"] == "mmlu":
        return ("mmlu", tuple(sorted(result.get("subject_n", {}).items())))
    return (result["task"], result["config"].get("data", {}).get("source"), result["n"])


def same_questions(a: dict | None, b: dict | None) -> bool:
    return a is not None and b is not None and question_set(a) == question_set(b)


def group_notes(config: dict) -> tuple[str, ...]:
    """What sets a result apart from the plain sweep, from its config fields."""
    notes = []
    if config["test_variant"] and config["dev_variant"] == "" and config["shots"] > 0:
        notes.append("English demos")
    elif config["dev_variant"] not in ("", config["test_variant"]) and config["shots"] > 0:
        notes.append(f"{config['dev_variant']} demos")
    if config["infer_mode"] == "generation":
        notes.append("generation")
    return tuple(notes)


def collect(roots: list[Path]) -> tuple[dict[Path, dict[str, list[dict]]], list[str]]:
    """Results under each root grouped by folder and task (each keeps its file as ``_path``), and
    notes on what was skipped: a result that cannot be served (``ResultError``), or results of one
    folder that conflict (two for one configuration, different models), are named, never merged."""
    found: dict[Path, dict[Path, dict]] = {}
    notes, seen = [], set()
    for root in roots:
        for path in sorted(root.rglob("*.json")) if root.is_dir() else [root]:
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            try:
                result = read_result(path)
            except ResultError as error:
                notes.append(str(error))
                continue
            if result is None:
                if path.name.startswith("result_"):
                    notes.append(f"{path}: not a crossknow result (no schema_version or task; written by an older version?): skipped")
                continue
            if result["task"] not in TABULATED:
                notes.append(f"{path}: a {result['task']} result, not tabulated here")
                continue
            result["_path"] = str(path)
            found.setdefault(path.parent, {})[path] = result
    folders: dict[Path, dict[str, list[dict]]] = {}
    for folder, results in found.items():
        kept, conflicts = folder_conflicts(results)
        notes += conflicts
        for result in kept.values():
            folders.setdefault(folder, {}).setdefault(result["task"], []).append(result)
    return folders, notes
