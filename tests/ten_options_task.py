"""A ten-option task (MMLU-ProX style, options A to J) defined outside the package: a plugin.

    python -m crossknow.tasks --task tests.ten_options_task:TenOptions --model MODEL

Its questions are written here; their option counts come from the items (``option_labels``), never
assumed four. ``--labels N`` scores with N labels instead (a test's mismatch, which the runner refuses).
"""

from __future__ import annotations

import argparse

from crossknow.core.answers import option_labels
from crossknow.core.cli import positive_int
from crossknow.core.prompt import Prompt
from crossknow.data.mmlu import Item
from crossknow.runner import Scoring, Unit
from crossknow.tasks import Configuration, register_task

NAME = "ten_options"
QUESTIONS = [
    ("Which number is prime?", ["4", "6", "8", "9", "10", "12", "14", "15", "16", "17"], 9),
    ("Which is a colour?", ["red", "dog", "tree", "car", "house", "river", "stone", "bread", "chair", "cloud"], 0),
    ("Which animal barks?", ["cat", "cow", "dog", "fish", "bird", "horse", "sheep", "goat", "duck", "mouse"], 2),
    ("Which is a planet?", ["Moon", "Sun", "Comet", "Star", "Mars", "Nebula", "Galaxy", "Meteor", "Quasar", "Pulsar"], 4),
]


def prompt(item: Item) -> Prompt:
    """The question, its options labelled A, B, ... (as many as it has), then ``Answer:``."""
    labels = option_labels(len(item.choices))
    options = "".join(f"\n{label}. {choice}" for label, choice in zip(labels, item.choices))
    return Prompt("The following is a multiple choice question.\n\n", f"{item.question}{options}\nAnswer:")


def items() -> list[Item]:
    return [Item(question, tuple(choices), answer) for question, choices, answer in QUESTIONS]


@register_task(NAME)
class TenOptions:
    unit_field = "unit"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--labels", type=positive_int, default=10, help="labels scored (a mismatch is refused)")

    def configurations(self, args: argparse.Namespace) -> list[Configuration]:
        questions = items()[: args.limit]
        unit = Unit("quiz", questions, [prompt(item) for item in questions])
        return [Configuration("ten", {"limit": args.limit}, "tests/ten_options_task.py",
                              [unit], self.unit_field)]

    def scoring(self, args: argparse.Namespace) -> Scoring:
        return Scoring(labels=option_labels(args.labels), seed=args.seed)

    def summarize(self, records_by_unit: dict[str, list[dict]]) -> dict:
        correct = [r["correct"] for records in records_by_unit.values() for r in records]
        return {"n": len(correct), "accuracy": sum(correct) / len(correct)}
