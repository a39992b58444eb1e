"""Compare two MMLU result folders question by question: same predictions, same probabilities.

    python -m crossknow.compare results/mmlu/SmolLM2-135M-Instruct_0shot /tmp/before/SmolLM2-135M-Instruct_0shot

Each configuration's per-subject JSONL files (``{folder}/{config}/{subject}.jsonl``) are matched by
path and each question by its index; the prompts, gold labels and predictions must be equal and the
letter probabilities (under both answer-token conventions) within ``--tolerance``. Exit status 1 on
any difference or on a file present on one side only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from crossknow.core.io import read_jsonl

COMPARED = ("prompt", "label", "prediction", "correct")


def record_files(folder: Path) -> dict[str, Path]:
    return {str(p.relative_to(folder)): p for p in sorted(folder.glob("*/*.jsonl"))}


def max_probability_difference(a: dict, b: dict) -> float:
    diffs = [abs(x - y) for convention in a.get("probs_by_answer_token", {})
             for x, y in zip(a["probs_by_answer_token"][convention], b["probs_by_answer_token"][convention])]
    return max(diffs, default=0.0)


def compare(before: Path, after: Path, tolerance: float = 0.0) -> tuple[list[str], dict]:
    """(differences, counts) between two result folders."""
    files_a, files_b = record_files(before), record_files(after)
    problems = [f"{name}: only in {before}" for name in sorted(set(files_a) - set(files_b))]
    problems += [f"{name}: only in {after}" for name in sorted(set(files_b) - set(files_a))]
    questions, worst = 0, 0.0
    for name in sorted(set(files_a) & set(files_b)):
        old = {r["index"]: r for r in read_jsonl(files_a[name])}
        new = {r["index"]: r for r in read_jsonl(files_b[name])}
        if old.keys() != new.keys():
            problems.append(f"{name}: questions {sorted(old)} before, {sorted(new)} after")
            continue
        for index in sorted(old):
            a, b = old[index], new[index]
            for key in COMPARED:
                if a.get(key) != b.get(key):
                    problems.append(f"{name}: question {index}: {key} {a.get(key)!r} before, {b.get(key)!r} after")
            if a.get("probs_by_answer_token", {}).keys() != b.get("probs_by_answer_token", {}).keys():
                problems.append(f"{name}: question {index}: answer-token conventions differ")
                continue
            diff = max_probability_difference(a, b)
            worst = max(worst, diff)
            if diff > tolerance:
                problems.append(f"{name}: question {index}: probabilities differ by {diff:.2e}")
            questions += 1
    configs = {name.split("/")[0] for name in set(files_a) & set(files_b)}
    return problems, {"configs": len(configs), "files": len(set(files_a) & set(files_b)), "questions": questions,
                      "max_probability_difference": worst}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    p.add_argument("--tolerance", type=float, default=0.0, help="largest allowed probability difference")
    args = p.parse_args(argv)
    for folder in (args.before, args.after):
        if not record_files(folder):
            raise SystemExit(f"{folder}: no per-question records ({{config}}/{{subject}}.jsonl) found")
    problems, counts = compare(args.before, args.after, args.tolerance)
    for problem in problems[:50]:
        print(problem)
    print(f"{counts['configs']} configurations, {counts['files']} subject files, {counts['questions']} questions "
          f"compared; largest probability difference {counts['max_probability_difference']:.2e}; "
          f"{len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
