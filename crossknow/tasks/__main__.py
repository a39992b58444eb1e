"""Run any registered task through the runner: ``python -m crossknow.tasks --task NAME [options]``.

    python -m crossknow.tasks --task hp --data_dir HP/data/demo-quiz --limit 5
    python -m crossknow.tasks --task global_mmlu --data_dir GLOBAL_MMLU_COPY --language fr
    python -m crossknow.tasks --task tests.ten_options_task:TenOptions --model tiny-model

``--task`` is a registered name (``crossknow.tasks.base.known_tasks``) or ``module:attribute``. The
task adds its own flags (``--task NAME --help`` lists them). Each configuration of the task is one
result, ``{output_dir}/{model tag}/result_{name}.json``, with its records in ``{output_dir}/{model tag}/{name}/``
(the default ``output_dir`` is ``results/{task}``); a rerun resumes and serves what is finished.
A task that is not scored by the runner (translation) runs its own ``run(args)``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crossknow.core.cli import add_limit_argument, add_output_argument, add_overwrite_argument, run
from crossknow.models.backends import add_model_arguments, backend_options, check_model_arguments, make_backend
from crossknow.runner import Run, SweepProgress, Workers, check_option_counts, run_units
from crossknow.tasks.base import Configuration, get_task, known_tasks


def task_name(argv: list[str]) -> str:
    """The ``--task`` value, read before the task's own flags can be known."""
    first = argparse.ArgumentParser(prog="python -m crossknow.tasks", add_help=False)
    first.add_argument("--task", default=None)
    known, _ = first.parse_known_args(argv)
    if known.task is None:
        if any(flag in argv for flag in ("-h", "--help")):
            print(f"{__doc__}\nknown tasks: {', '.join(known_tasks())}")
            raise SystemExit(0)
        first.error(f"--task is required; known: {', '.join(known_tasks())} (or module:attribute)")
    return known.task


def parse_args(task, argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m crossknow.tasks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", required=True, help="registered task name or module:attribute")
    if hasattr(task, "configurations"):
        add_model_arguments(p)
        add_output_argument(p, f"results/{task.name}")
        add_limit_argument(p, "first N questions per unit")
        add_overwrite_argument(p, "recompute finished results")
    task.add_arguments(p)
    args = p.parse_args(argv)
    if hasattr(task, "configurations"):
        args.spec = check_model_arguments(p, args)
    if hasattr(task, "check_arguments"):
        task.check_arguments(p, args)
    return args


def planned_run(task, args: argparse.Namespace, configuration: Configuration) -> Run:
    """The configuration's result file and records folder, under the model's tag."""
    folder = Path(args.output_dir) / args.spec.tag
    return Run(task=task.name, spec=args.spec, config=configuration.config, data_source=configuration.data_source,
               result_file=folder / f"result_{configuration.name}.json", records_dir=folder / configuration.name,
               unit_field=configuration.unit_field)


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    task = get_task(task_name(argv))
    args = parse_args(task, argv)
    if not hasattr(task, "configurations"):
        return task.run(args)
    configurations = task.configurations(args)  # the data is read and checked before the model loads
    scoring = task.scoring(args)
    runs = [(planned_run(task, args, c), c.units) for c in configurations]
    for planned, units in runs:
        check_option_counts(planned, units, scoring)
    workers = Workers()
    backend = make_backend(args.spec, **backend_options(args, workers))
    questions = sum(len(unit.items) for c in configurations for unit in c.units)
    progress = SweepProgress(len(configurations), questions, enabled=workers.is_main)
    try:
        results = {c.name: run_units(backend, planned, units, scoring, task.summarize, args.overwrite, workers, progress)
                   for c, (planned, units) in zip(configurations, runs)}
    finally:
        progress.close()
    if workers.is_main:
        for name, result in results.items():
            print(f"{task.name} {name}: {headline(result)}")
    return results


def headline(result: dict) -> str:
    """The result's accuracy (``accuracy`` or MMLU's ``weighted_accuracy``) and n, when it has them."""
    accuracy = result.get("accuracy", result.get("weighted_accuracy"))
    return f"accuracy {100 * accuracy:.1f}% (n={result['n']})" if accuracy is not None and "n" in result else "done"


if __name__ == "__main__":
    run(main)
