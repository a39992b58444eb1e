"""Re-score MMLU and HP results from their per-question records, without the model.

    python -m crossknow.rescore results/mmlu/MODEL_0shot --answer_token space --tie wrong

What the records allow (see the README, "Re-scoring"):

- **answer-token convention**: letter-score records keep the letter probabilities under both
  conventions (``probs_by_answer_token``: ``paper``, the letter as the paper's code tokenizes it, and
  ``space``, `` A``), so accuracy under the other convention is recomputed exactly;
- **tie rule**: the run takes the first of tied letters (``first``, as ``max`` in crossknow/runner.py);
  ``last`` takes the last, ``wrong`` counts every tie as wrong (the strict rule);
- **per category**: MMLU's four categories (crossknow/data/mmlu.py ``CATEGORIES``), HP's quiz categories.

What they do not allow: generation records keep the generated text and the parsed letter only, and
API runs (``openai/...``) only the chosen letter, so neither can be re-scored under another
convention or tie rule (they are refused, named). Options scored as text (``loglikelihoods``) have no
answer-token convention; their tie rule can be changed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from crossknow.core.cli import existing_path, run
from crossknow.core.errors import CrossknowError
from crossknow.core.io import read_jsonl
from crossknow.data.mmlu import CATEGORIES
from crossknow.models.model_api import ANSWER_TOKEN_CONVENTIONS

TIE_RULES = ("first", "last", "wrong")


def option_scores(record: dict, convention: str | None) -> tuple[list[str], list[float]]:
    """The labels and the scores the prediction is the argmax of, under ``convention`` (None: as run)."""
    if "probs" in record:
        labels = list(record["probs"])
        if convention is None:
            return labels, [float(record["probs"][label]) for label in labels]
        by_convention = record.get("probs_by_answer_token") or {}
        if convention not in by_convention:
            raise CrossknowError(f"record {record.get('index')}: no letter probabilities under the {convention!r} "
                                 f"answer-token convention (it keeps {', '.join(by_convention) or 'none'})")
        return labels, [float(v) for v in by_convention[convention]]
    if "loglikelihoods" in record:
        if convention is not None:
            raise CrossknowError(f"record {record.get('index')}: options scored as text have no answer-token "
                                 "convention")
        labels = list(record["loglikelihoods"])
        return labels, [float(record["loglikelihoods"][label]) for label in labels]
    raise CrossknowError(f"record {record.get('index')}: keeps no option scores (a generation or API run keeps "
                         "only the chosen letter): it cannot be re-scored")


def rescored_correct(record: dict, convention: str | None = None, tie: str = "first") -> bool:
    """Whether the record's answer is right under ``convention`` and the tie rule ``tie``."""
    labels, scores = option_scores(record, convention)
    best = max(scores)
    winners = [label for label, score in zip(labels, scores) if score == best]
    if len(winners) > 1 and tie == "wrong":
        return False
    return (winners[-1] if tie == "last" else winners[0]) == record["label"]


def rescore_folder(records_dir: Path, convention: str | None = None, tie: str = "first",
                   category_of: dict[str, str] | None = None) -> dict:
    """Accuracy of one result's records under the new rule, overall and per category; n and ties."""
    category_of = CATEGORIES if category_of is None else category_of
    correct: list[bool] = []
    by_category: dict[str, list[bool]] = {}
    ties = 0
    for path in sorted(Path(records_dir).glob("*.jsonl")):
        for record in read_jsonl(path):
            try:
                right = rescored_correct(record, convention, tie)
                scores = option_scores(record, convention)[1]
            except CrossknowError as error:
                raise CrossknowError(f"{path}: {error}") from None
            ties += scores.count(max(scores)) > 1
            correct.append(right)
            category = record.get("category") or category_of.get(record.get("subject", path.stem), "other")
            by_category.setdefault(category, []).append(right)
    if not correct:
        raise CrossknowError(f"{records_dir}: no records")
    return {"n": len(correct), "accuracy": sum(correct) / len(correct), "ties": ties,
            "category": {c: sum(v) / len(v) for c, v in sorted(by_category.items())},
            "category_n": {c: len(v) for c, v in sorted(by_category.items())}}


def main(argv: list[str] | None = None) -> list[dict]:
    from crossknow.analysis.gather import collect
    from crossknow.analysis.paired_report import records_folder

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results_dirs", type=existing_path, nargs="+", metavar="results_dir")
    p.add_argument("--answer_token", choices=ANSWER_TOKEN_CONVENTIONS, default=None,
                   help="the answer-token convention to re-score under (default: as the run scored)")
    p.add_argument("--tie", choices=TIE_RULES, default="first", help="which of tied options is the answer "
                   "(first: as the run; wrong: a tie is wrong)")
    args = p.parse_args(argv)
    folders, _ = collect(args.results_dirs)
    rows = []
    for by_task in folders.values():
        for result in by_task.get("mmlu", []) + by_task.get("hp", []):
            records = records_folder(result)
            if records is None:
                continue
            scored = rescore_folder(records, args.answer_token, args.tie)
            recorded = result.get("weighted_accuracy", result.get("accuracy"))
            name = result["config"].get("name") or result["config"].get("language")
            rows.append({"result": result["_path"], "config": name, "recorded": recorded, **scored})
            categories = ", ".join(f"{c} {100 * a:.1f} (n={scored['category_n'][c]})"
                                   for c, a in scored["category"].items())
            print(f"{result['_path']}: {100 * recorded:.1f} as run -> {100 * scored['accuracy']:.1f} "
                  f"(n={scored['n']}, {scored['ties']} ties; {categories})")
    if not rows:
        raise CrossknowError(f"{', '.join(map(str, args.results_dirs))}: no MMLU or HP result with records")
    return rows


if __name__ == "__main__":
    run(main)
