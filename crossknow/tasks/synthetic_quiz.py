"""The Synthetic experiment's quiz as a task (registered as ``synthetic_quiz``).

Each question is a fact (a person and a relation) with its options written as whole statements; the
model picks the statement it finds most likely (summed log-probability, no prompt before it). A unit
is one fact set in one variant (``trained_en``, ``heldout_mixup``, ...). Synthetic/experiment.py
makes the facts and their statements (Synthetic/facts.py) and quizzes each arm through
``get_task("synthetic_quiz")``. ``python -m crossknow.tasks --task synthetic_quiz --quiz_records DIR``
quizzes another model on the questions of an earlier quiz (its records folder).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from crossknow.core.answers import option_labels
from crossknow.core.io import read_json, read_jsonl
from crossknow.core.prompt import Prompt
from crossknow.core.results import bootstrap_interval
from crossknow.data.mmlu import DataError, Item, checked_item
from crossknow.runner import Scoring, Unit
from crossknow.tasks.base import Configuration, register_task

# The option whose statement (after no prompt at all) has the highest summed log-probability.
SCORING = Scoring(infer_mode="loglikelihood")
COLUMNS = ("question", "option A", "option B", "option C", "option D")


def quiz_units(question_sets: dict, variants: list[str], statements: Callable[[object, str, int], list[str]],
               source: str) -> list[Unit]:
    """One unit per fact set and variant; ``statements(question, variant, row)`` writes a question's
    options as statements (a question has ``fact.person``, ``fact.relation`` and ``answer``); ``source``
    names the generator of the questions (the task script's; messages and the result's data source)."""
    units = []
    for set_name, questions in question_sets.items():
        for variant in variants:
            items = [checked_item(dict(zip(COLUMNS, [f"{q.fact.person}: {q.fact.relation}",
                                                    *statements(q, variant, row)])),
                                  q.answer, f"{source} ({set_name}_{variant})", row + 1)
                     for row, q in enumerate(questions)]
            extras = [{"set": set_name, "variant": variant, "person": q.fact.person, "relation": q.fact.relation}
                      for q in questions]
            units.append(Unit(f"{set_name}_{variant}", items, [Prompt("", "")] * len(items), extras))
    return units


def summarize(records_by_unit: dict[str, list[dict]]) -> dict:
    """Accuracy per fact set and variant, with the per-question correctness the analysis pairs."""
    sets = {}
    for records in records_by_unit.values():
        correct = [int(r["correct"]) for r in records]
        sets.setdefault(records[0]["set"], {})[records[0]["variant"]] = {
            "accuracy": sum(correct) / len(correct), "n": len(correct), "ci95": bootstrap_interval(correct),
            "correct": correct, "prediction": [r["prediction"] for r in records]}
    return {"sets": sets}


def units_from_records(folder: Path, limit: int | None = None) -> list[Unit]:
    """The questions of an earlier quiz, from its records (options, gold label, set and variant), in
    the order its ``settings.json`` lists its units."""
    names = read_json(folder / "settings.json")["units"]
    units = []
    for name in names:
        records = read_jsonl(folder / f"{name}.jsonl")[:limit]
        items = []
        for r in records:
            labels = option_labels(len(r["choices"]))
            if r["label"] not in labels:
                raise DataError(f"{folder / name}.jsonl: question {r['index']}: label {r['label']!r} is not an option")
            items.append(Item(f"{r['person']}: {r['relation']}", tuple(r["choices"]), labels.index(r["label"])))
        extras = [{key: r[key] for key in ("set", "variant", "person", "relation")} for r in records]
        units.append(Unit(name, items, [Prompt("", "")] * len(items), extras))
    return units


@register_task("synthetic_quiz")
class SyntheticQuiz:
    unit_field = "unit"
    scoring_rule = SCORING
    quiz_units = staticmethod(quiz_units)
    summarize = staticmethod(summarize)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--quiz_records", type=Path, required=True,
                            help="records folder of an earlier quiz (quiz/seed{S}/{arm}) whose questions to ask")

    def configurations(self, args: argparse.Namespace) -> list[Configuration]:
        units = units_from_records(args.quiz_records, args.limit)
        config = {"quiz_records": str(args.quiz_records), "limit": args.limit}
        source = read_json(args.quiz_records / "settings.json")["data_source"]  # the earlier quiz's generator
        return [Configuration(args.quiz_records.name, config, source, units, self.unit_field)]

    def scoring(self, args: argparse.Namespace) -> Scoring:
        return SCORING
