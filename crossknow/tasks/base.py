"""What a task is, and the registry that finds one by name.

A task (after Inspect AI's ``Task(dataset, solver, scorer)`` and lm-evaluation-harness's registry)
hands the runner (``crossknow/runner.py``) everything task-specific:

- **dataset and prompts**: ``configurations(args)`` reads and validates the data (before any model
  loads) and returns one ``Configuration`` per result file, its questions grouped in units with
  their prompts (the solver: how a question is put to the model);
- **scoring**: ``scoring(args)``, the runner's ``Scoring`` (letter scores, generation or option
  log-likelihoods, and the labels: as many as the questions have options, never assumed four);
- **scorer**: ``summarize(records_by_unit)``, the result's numbers from the per-question records.

Tasks register under a name (``@register_task("mmlu")``); ``get_task`` finds a registered one, or
loads one defined anywhere from a ``module:attribute`` spec (``tests.ten_options_task:TenOptions``).
The name a task registers is the ``task`` its results carry (``crossknow.core.results`` accepts it).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from crossknow.core.errors import CrossknowError
from crossknow.core.results import register_result_task
from crossknow.runner import Scoring, Unit

# Built-in tasks: imported on first use, so that importing the registry loads no task's data code.
BUILT_IN = {"mmlu": "crossknow.tasks.mmlu", "hp": "crossknow.tasks.hp",
            "synthetic_quiz": "crossknow.tasks.synthetic_quiz", "translation": "crossknow.tasks.translation",
            "global_mmlu": "crossknow.tasks.global_mmlu"}


class UnknownTask(CrossknowError, ValueError):
    """A task name that is neither registered nor a loadable ``module:attribute``."""


@dataclass
class Configuration:
    """One result file of a task: its name, its settings (the result's ``config`` fields), where its
    questions come from, and its units of questions with their prompts."""

    name: str
    config: dict
    data_source: str
    units: list[Unit]
    unit_field: str = "unit"  # the records' name for a unit ("subject" in MMLU)


@runtime_checkable
class Task(Protocol):
    """A task the runner scores (multiple choice: the options and labels come from its items)."""

    name: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """The task's own flags for ``python -m crossknow.tasks``."""

    def configurations(self, args: argparse.Namespace) -> list[Configuration]:
        """The data read, validated and put into prompts: one configuration per result file."""

    def scoring(self, args: argparse.Namespace) -> Scoring:
        """How an answer is chosen, with the task's labels."""

    def summarize(self, records_by_unit: dict[str, list[dict]]) -> dict:
        """The result's numbers from its per-question records."""


_REGISTRY: dict[str, object] = {}


def register_task(name: str) -> Callable:
    """Class or factory decorator: ``get_task(name)`` returns an instance of it, and results of the
    task ``name`` are valid results."""
    def register(factory):
        if getattr(factory, "name", name) != name:
            raise ValueError(f"task {factory!r} is named {factory.name!r} but registered as {name!r}")
        factory.name = name
        _REGISTRY[name] = factory
        register_result_task(name)
        return factory
    return register


def known_tasks() -> list[str]:
    """Every task name ``get_task`` accepts without a ``module:`` spec."""
    return sorted({*BUILT_IN, *_REGISTRY})


def get_task(name: str):
    """The task registered as ``name`` (a built-in one is imported on first use), or the one a
    ``module:attribute`` spec names (its module is imported, which registers it)."""
    if ":" in name:
        return _load_spec(name)
    if name not in _REGISTRY and name in BUILT_IN:
        importlib.import_module(BUILT_IN[name])
    if name not in _REGISTRY:
        raise UnknownTask(f"unknown task {name!r}; known: {', '.join(known_tasks())} "
                          "(or module:attribute for a task defined elsewhere)")
    return _instance(_REGISTRY[name])


def _load_spec(spec: str):
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UnknownTask(f"task {spec!r}: module {module_name!r} cannot be imported ({error})") from None
    if not hasattr(module, attribute):
        raise UnknownTask(f"task {spec!r}: module {module_name!r} has no {attribute!r}")
    task = _instance(getattr(module, attribute))
    if getattr(task, "name", None) not in _REGISTRY:
        raise UnknownTask(f"task {spec!r} is not registered: decorate it with @register_task(name)")
    return task


def _instance(factory):
    return factory() if isinstance(factory, type) else factory
