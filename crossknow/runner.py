"""The task-agnostic runner: a task hands it units of prompts; it scores, records, resumes, writes.

A *run* is one result file: a list of units (MMLU subjects, one HP language), each a list of
questions (anything with ``choices`` and ``answer``: ``Question``) with their prompts; the tasks
(``crossknow/tasks/``) make them, and the runner imports none of them. The runner

- refuses a finished or partial run on disk that was made with other settings or inputs
  (``check_fingerprint``: the one place that decides what may be reused; ``reusable_result`` asks
  the same question before the model exists, for a task that would first have to train it);
- scores each unit through the backend contract (letter scores, or generation and parsing),
  sharding its questions across data-parallel processes and gathering them in order;
- writes each unit's per-question records atomically (``{records_dir}/{unit}.jsonl``), so that a
  killed run restarts at the first unfinished unit and ends as an uninterrupted run would;
- writes the result (``crossknow/core/results_schema.json``): the task's summary of the records, the
  configuration as structured fields, the environment.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Protocol

from tqdm.auto import tqdm

from crossknow.core.answers import LABELS, parse_answer
from crossknow.core.errors import CrossknowError
from crossknow.core.io import (
    atomic_write_jsonl,
    check_plain_name,
    folder_lock,
    read_json,
    read_jsonl,
)
from crossknow.core.model_spec import ModelSpec
from crossknow.core.prompt import Prompt
from crossknow.core.results import (
    SCHEMA_VERSION,
    ResultError,
    check_schema,
    environment,
    records_difference,
    validate_result,
    write_result,
)
from crossknow.core.resume import ResumeError, SettingsFile, check_same, first_difference, settings_sha256
from crossknow.models.model_api import GENERATION, LETTER_SCORES, LOGLIKELIHOOD, require

INFER_MODES = ("logits", "generation", "loglikelihood")


class Question(Protocol):
    """What the runner reads of a task's question (``crossknow.data.mmlu.Item`` is one): its options,
    as many as the task has, and the index of the right one. The prompt is the task's."""

    @property
    def choices(self) -> Sequence[str]: ...

    @property
    def answer(self) -> int: ...


class NonFiniteScores(CrossknowError, RuntimeError):
    """The model returned NaN or infinite scores (fp16 overflow is the common cause)."""


def check_finite(values_by_question: list[tuple[int, list[float]]], where: str, backend) -> None:
    """Stop at the first question whose scores are not all finite, naming the configuration (or
    unit), the question and the dtype: every prediction would otherwise be the first label and the
    records would hold ``NaN``, which is not JSON."""
    for index, values in values_by_question:
        bad = next((v for v in values if not math.isfinite(v)), None)
        if bad is not None:
            dtype = backend.describe().get("dtype", "unknown")
            raise NonFiniteScores(f"{where}: question {index}: the model returned non-finite scores ({bad}) in "
                                  f"dtype {dtype}; nothing of this unit was written. fp16 overflows on some models: "
                                  "run with --dtype bf16 or --dtype fp32")


class ContextError(CrossknowError, ValueError):
    """Prompts longer than the model's context."""


class OptionCountError(CrossknowError, ValueError):
    """A question whose number of options is not the number of labels it is scored with."""


def check_option_counts(run: Run, units: list[Unit], scoring: Scoring) -> None:
    """Refuse, before anything is scored, a question with more or fewer options than labels: its
    gold label would be missing, or an option could never be predicted."""
    for unit in units:
        for index, item in enumerate(unit.items):
            if len(item.choices) != len(scoring.labels):
                raise OptionCountError(f"{run.result_file.name}: {run.unit_field} {unit.name} question {index} has "
                                       f"{len(item.choices)} options for {len(scoring.labels)} labels "
                                       f"({' '.join(scoring.labels)}); nothing was scored")


def check_context(backend, run: Run, units: list[Unit], scoring: Scoring) -> None:
    """Refuse, before anything of the run is scored, prompts that do not fit the model's context:
    prompt tokens (with the option for log-likelihoods, with ``max_new_tokens`` for generation).
    Backends that cannot count tokens (API, vLLM) are not checked here."""
    if not (hasattr(backend, "context_length") and hasattr(backend, "count_tokens")):
        return
    limit = backend.context_length()
    if not limit:
        return
    too_long = []
    for unit in units:
        texts = [p.text for p in unit.prompts]
        if scoring.infer_mode == "loglikelihood":
            texts = [p.text + max(i.choices, key=len) for p, i in zip(unit.prompts, unit.items)]
        extra = scoring.max_new_tokens if scoring.infer_mode == "generation" else 0
        too_long += [(unit.name, i, n + extra) for i, n in enumerate(backend.count_tokens(texts)) if n + extra > limit]
    if too_long:
        unit, index, tokens = too_long[0]
        total = sum(len(u.items) for u in units)
        raise ContextError(f"{run.result_file.name}: {len(too_long)} of {total} prompts are longer than the model's "
                           f"context of {limit} tokens (the first: {run.unit_field} {unit} question {index}, {tokens} "
                           "tokens); nothing was scored: use fewer demonstrations (-k) or a model with a longer context")


class Workers:
    """Data-parallel evaluation under ``accelerate launch --multi_gpu`` or ``torchrun``: each process
    scores a strided shard of every unit, the main process gathers and writes. One process
    otherwise. (On CPU, ``accelerate launch --cpu`` starts a single process; use torchrun.)"""

    def __init__(self, distributed: bool = True):
        self.world_size = int(os.environ.get("WORLD_SIZE", "1")) if distributed else 1
        self.rank, self.state = 0, None
        if self.world_size > 1:
            import torch
            from accelerate import PartialState

            self.state = PartialState(cpu=not torch.cuda.is_available())
            self.rank = self.state.process_index

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def device(self) -> str | None:
        return str(self.state.device) if self.state else None

    def shard(self, n: int) -> list[int]:
        return list(range(self.rank, n, self.world_size))

    def gather(self, records: list[dict]) -> list[dict]:
        if self.world_size == 1:
            return records
        from accelerate.utils import gather_object

        return sorted(gather_object(records), key=lambda r: r["index"])

    def wait(self) -> None:
        if self.state:
            self.state.wait_for_everyone()


SINGLE_PROCESS = Workers(distributed=False)


@dataclass(frozen=True)
class Scoring:
    """How an answer is chosen; part of every run's fingerprint."""

    # logits: letter scores; generation: free text, then parsed; loglikelihood: the option whose
    # text, after the prompt, has the highest summed log-probability
    infer_mode: str = "logits"
    labels: tuple[str, ...] = LABELS
    answer_token: str = "paper"  # the letter-token convention that decides predictions
    max_new_tokens: int = 32
    do_sample: bool = False
    seed: int = 0
    stop: tuple[str, ...] | None = None  # generation ends before the first of these

    def __post_init__(self):
        if self.infer_mode not in INFER_MODES:
            raise ValueError(f"unknown infer_mode {self.infer_mode!r}; choose {' or '.join(INFER_MODES)}")

    @property
    def capability(self) -> str:
        return {"logits": LETTER_SCORES, "generation": GENERATION, "loglikelihood": LOGLIKELIHOOD}[self.infer_mode]


@dataclass
class Unit:
    """One unit of a run: its questions, their prompts, and optional per-question record fields."""

    name: str
    items: list[Question]
    prompts: list[Prompt]
    extras: list[dict] | None = None

    def __post_init__(self):
        check_plain_name(self.name, "unit")  # its records are {records_dir}/{name}.jsonl
        if len(self.items) != len(self.prompts):
            raise ValueError(f"unit {self.name}: {len(self.items)} items but {len(self.prompts)} prompts")


@dataclass
class Run:
    """What one result file is: task, model, task configuration, data, where it is written."""

    task: str
    spec: ModelSpec
    config: dict  # the task's structured settings (variants, shots, language, ...)
    data_source: str
    result_file: Path
    records_dir: Path
    unit_field: str = "unit"  # the records' name for the unit ("subject" in MMLU)

    @property
    def fingerprint_file(self) -> Path:
        return self.records_dir / "settings.json"


def inputs_sha256(units: list[Unit], scoring: Scoring) -> str:
    """The identity of what is scored: every unit's prompts and gold answers (and, where the
    options are scored as text, the options)."""
    digest = hashlib.sha256()
    for unit in units:
        digest.update(json.dumps([unit.name, [_question_identity(p, i, scoring)
                                              for p, i in zip(unit.prompts, unit.items)]]).encode())
    return digest.hexdigest()


def _question_identity(prompt: Prompt, item: Question, scoring: Scoring) -> list:
    identity = [prompt.text, scoring.labels[item.answer]]
    return identity + [list(item.choices)] if scoring.infer_mode == "loglikelihood" else identity


def fingerprint(backend, run: Run, scoring: Scoring, units: list[Unit]) -> dict:
    """Everything that decides a run's records; a resumed or reused run must match it exactly.
    (Batch size, device and the prefix-reuse path do not: the tests hold the scores equal across them.)"""
    described = backend.describe()
    numerics = {k: described[k] for k in ("backend", "dtype") if k in described}
    return {"task": run.task, "model": run.spec.describe(), "backend": numerics, "config": _jsonable(run.config),
            "scoring": _jsonable(asdict(scoring)), "units": [u.name for u in units],
            "data_source": run.data_source, "inputs_sha256": inputs_sha256(units, scoring)}


def fingerprint_sha256(current: dict) -> str:
    """The fingerprint as one hash, recorded in the result: a result is served only under its own."""
    return settings_sha256(current)


def check_fingerprint(run: Run, current: dict, overwrite: bool, workers: Workers = SINGLE_PROCESS) -> dict | None:
    """Resume and reuse, decided in one place. Returns a finished result to serve, or None to
    compute (after clearing the records with ``overwrite``). Raises ``ResumeError`` when what is
    on disk was made with other settings or inputs. Every process decides alike; only the main
    one writes."""
    workers.wait()
    if overwrite:
        if workers.is_main:
            if run.records_dir.exists():
                shutil.rmtree(run.records_dir)
            SettingsFile(run.fingerprint_file).write(current)
        workers.wait()
        return None
    what = "a finished result" if run.result_file.exists() else "partial results"
    previous = SettingsFile(run.fingerprint_file).read()
    if previous is not None:
        check_same(run.records_dir, previous, current, "use --overwrite or another --output_dir",
                   f"holds {what} made with other settings")
    if run.result_file.exists():
        if previous is None:
            raise ResumeError(f"{run.result_file} exists without {run.fingerprint_file}, so how it was made "
                              "is unknown; use --overwrite or another --output_dir")
        finished = read_json(run.result_file)
        own = finished.get("config", {}).get("fingerprint_sha256") == fingerprint_sha256(current)
        if own and _verified(run, finished, workers):
            if workers.is_main:
                print(f"{run.result_file} exists: skipping (use --overwrite to recompute)")
            return finished
        # A result that is not the fingerprint's own (an --overwrite killed while swapping, or a
        # result from before results carried the hash), or whose numbers are not its records', is
        # never served: it is recomputed from the records that are complete.
    workers.wait()
    if workers.is_main:
        SettingsFile(run.fingerprint_file).write(current)
    workers.wait()
    return None


def _verified(run: Run, finished: dict, workers: Workers = SINGLE_PROCESS) -> bool:
    """Whether a finished result may be served: a schema this crossknow knows, and its numbers those
    recomputed from its records (crossknow.core.results.records_difference); a note says why not."""
    try:
        check_schema(finished, str(run.result_file))
        difference = records_difference(finished, run.records_dir)
    except ResultError as error:
        difference = str(error).removeprefix(f"{run.result_file}: ")
    if difference and workers.is_main:
        print(f"note: {run.result_file}: not served ({difference}): recomputed from its records")
    return not difference


# For a task whose configuration decides the model, and which must know before it makes the model
# whether it needs to (Synthetic trains its checkpoints first): the fingerprint without the model
# and backend. ``run_units`` then checks the whole fingerprint.

def planned_fingerprint(run: Run, scoring: Scoring, units: list[Unit]) -> dict:
    """The fingerprint's fields that are known before the model exists."""
    return {"task": run.task, "config": _jsonable(run.config), "scoring": _jsonable(asdict(scoring)),
            "units": [u.name for u in units], "data_source": run.data_source,
            "inputs_sha256": inputs_sha256(units, scoring)}


def planned_difference(run: Run, scoring: Scoring, units: list[Unit]) -> str | None:
    """The first difference between the run's fingerprint on disk and ``planned_fingerprint``
    (``config.arm: 'a' on disk, 'b' now``); None when there is none on disk or they agree."""
    if not run.fingerprint_file.exists():
        return None
    planned = planned_fingerprint(run, scoring, units)
    previous = read_json(run.fingerprint_file)
    return first_difference({key: previous.get(key) for key in planned}, planned) or None


def reusable_result(run: Run, scoring: Scoring, units: list[Unit]) -> dict | None:
    """The finished result of ``run`` on disk if it was made from exactly this task configuration,
    scoring and these questions, whichever model folder and backend scored them; None otherwise."""
    if not (run.result_file.exists() and run.fingerprint_file.exists()):
        return None
    try:
        previous, finished = read_json(run.fingerprint_file), read_json(run.result_file)
    except (CrossknowError, OSError):
        return None
    if finished.get("config", {}).get("fingerprint_sha256") != fingerprint_sha256(previous):
        return None  # not the fingerprint's own result: never served
    if not _verified(run, finished):
        return None
    planned = planned_fingerprint(run, scoring, units)
    return finished if all(previous.get(key) == value for key, value in planned.items()) else None


def score_unit(backend, unit: Unit, scoring: Scoring, indices: list[int], unit_field: str = "unit",
               desc: str | None = None, where: str | None = None) -> list[dict]:
    """Records for the questions of ``unit`` at ``indices``: letter scores or parsed generations.
    Non-finite scores stop the run (``check_finite``; ``where`` names the configuration)."""
    prompts = [unit.prompts[i] for i in indices]
    labels = scoring.labels
    where = where or f"unit {unit.name}"
    records = []
    if scoring.infer_mode == "logits":
        scores = backend.score_letters(prompts, labels, desc=desc or unit.name)
        check_finite([(i, [p for probs in s.probs.values() for p in probs]) for i, s in zip(indices, scores)],
                     where, backend)
        for index, score in zip(indices, scores):
            probs = score.probs[scoring.answer_token]
            prediction = labels[max(range(len(labels)), key=probs.__getitem__)]
            record = _record(unit, unit_field, index, labels, prediction)
            record["probs"] = dict(zip(labels, probs))
            record["probs_by_answer_token"] = score.probs
            record["reused_prefix_tokens"] = score.reused_prefix_tokens
            records.append(record)
        return records
    if scoring.infer_mode == "loglikelihood":
        return _loglikelihood_records(backend, unit, scoring, indices, unit_field, desc, where)
    outputs = backend.generate(prompts, max_new_tokens=scoring.max_new_tokens, do_sample=scoring.do_sample,
                               seed=scoring.seed, stop=list(scoring.stop) if scoring.stop else None,
                               desc=desc or unit.name)
    for index, text in zip(indices, outputs):
        prediction = parse_answer(text, labels)
        record = _record(unit, unit_field, index, labels, prediction)
        record["generated"] = text
        record["parsed"] = prediction is not None
        records.append(record)
    return records


def _loglikelihood_records(backend, unit: Unit, scoring: Scoring, indices: list[int], unit_field: str,
                           desc: str | None, where: str) -> list[dict]:
    labels = scoring.labels
    for i in indices:
        if len(unit.items[i].choices) != len(labels):
            raise ValueError(f"unit {unit.name}: question {i} has {len(unit.items[i].choices)} options "
                             f"for {len(labels)} labels")
    texts = [unit.prompts[i].text + choice for i in indices for choice in unit.items[i].choices]
    values = backend.loglikelihood(texts, desc=desc or unit.name)
    n = len(labels)
    check_finite([(index, values[j * n:(j + 1) * n]) for j, index in enumerate(indices)], where, backend)
    records = []
    for j, index in enumerate(indices):
        own = values[j * len(labels):(j + 1) * len(labels)]
        prediction = labels[max(range(len(labels)), key=own.__getitem__)]
        record = _record(unit, unit_field, index, labels, prediction)
        record["choices"] = list(unit.items[index].choices)
        record["loglikelihoods"] = dict(zip(labels, own))
        records.append(record)
    return records


def _record(unit: Unit, unit_field: str, index: int, labels: tuple[str, ...], prediction: str | None) -> dict:
    label = labels[unit.items[index].answer]
    record = {unit_field: unit.name, "index": index, "prompt": unit.prompts[index].text, "label": label,
              "prediction": prediction, "correct": prediction == label}
    if unit.extras is not None:
        record.update(unit.extras[index])
    return record


class SweepProgress:
    """One bar over every question of a sweep: setting k of N, questions done, time left."""

    def __init__(self, settings: int, questions: int, enabled: bool = True):
        self.settings, self.k = settings, 0
        self.done, self.total = 0, questions
        self.bar = tqdm(total=questions, unit="q", disable=not enabled, dynamic_ncols=True)

    def start(self, name: str) -> None:
        self.k += 1
        self.bar.set_description(f"setting {self.k}/{self.settings} {name}")

    def skip(self, questions: int) -> None:
        """Questions served from disk leave the total: they take no time, so they must not
        shorten the estimate of the time left."""
        self.total -= questions
        self.bar.total = self.total
        self.bar.refresh()

    def advance(self, questions: int) -> None:
        self.done += questions
        self.bar.update(questions)

    def close(self) -> None:
        self.bar.close()


def run_units(backend, run: Run, units: list[Unit], scoring: Scoring,
              summarize: Callable[[dict[str, list[dict]]], dict], overwrite: bool = False,
              workers: Workers = SINGLE_PROCESS, progress: SweepProgress | None = None) -> dict:
    """Score every unit of a run (resuming from finished units) and write its result.

    One process writes a results folder at a time (``crossknow.core.io.folder_lock``). ``overwrite``
    computes aside, in ``{records_dir}.overwrite``, and swaps the new records and result in only
    when they are complete: a killed ``--overwrite`` leaves the old result as it was.
    """
    require(backend, scoring.capability)
    check_option_counts(run, units, scoring)
    check_context(backend, run, units, scoring)  # before anything is written: a shorter rerun is not blocked
    current = fingerprint(backend, run, scoring, units)
    if progress:
        progress.start(run.result_file.stem.removeprefix("result_"))
    lock = folder_lock(run.result_file.parent) if workers.is_main else contextlib.nullcontext()
    with lock:
        if overwrite:
            staged = staging_run(run)
            if check_fingerprint(staged, current, overwrite=_stale(staged, current), workers=workers) is None:
                _score_and_write(backend, staged, units, scoring, summarize, current, workers, progress,
                                 records_field=_records_field(run))
            if workers.is_main:
                swap_in(staged, run)
            workers.wait()
            return read_json(run.result_file)
        finished = check_fingerprint(run, current, overwrite, workers)
        if finished is not None:
            if progress:
                progress.skip(sum(len(u.items) for u in units))
            return finished
        return _score_and_write(backend, run, units, scoring, summarize, current, workers, progress)


def staging_run(run: Run) -> Run:
    """Where ``--overwrite`` computes: beside the records, with the result inside (not ``*.json``,
    so no reader takes it for a result)."""
    staging = run.records_dir.with_name(run.records_dir.name + ".overwrite")
    return replace(run, records_dir=staging, result_file=staging / "result.staged")


def _stale(staged: Run, current: dict) -> bool:
    """A staging folder left by a killed ``--overwrite`` is resumed only under the same settings."""
    file = staged.fingerprint_file
    return file.exists() and read_json(file) != current


def swap_in(staged: Run, run: Run) -> None:
    """Replace the old records and result by the staged ones. At every step a kill leaves either
    the old result with its records, or the new records with a result that is not theirs (never
    served: its fingerprint hash differs), or no records (refused until ``--overwrite``)."""
    old = run.records_dir.with_name(run.records_dir.name + ".replaced")
    if old.exists():
        shutil.rmtree(old)
    if run.records_dir.exists():
        os.replace(run.records_dir, old)
    result = staged.result_file
    os.replace(staged.records_dir, run.records_dir)
    os.replace(run.records_dir / result.name, run.result_file)
    if old.exists():
        shutil.rmtree(old)


def complete_records(path: Path, unit: Unit, scoring: Scoring, unit_field: str) -> list[dict] | None:
    """The unit's records on disk if they are exactly its questions (every index once, in order,
    with the unit's prompts and gold labels); None when they are missing, damaged or partial."""
    try:
        records = read_jsonl(path)
    except (CrossknowError, OSError):
        return None
    expected = [(unit.name, i, *_question_identity(p, item, scoring))
                for i, (p, item) in enumerate(zip(unit.prompts, unit.items))]
    options = ("choices",) if scoring.infer_mode == "loglikelihood" else ()
    found = [(r.get(unit_field), r.get("index"), r.get("prompt"), r.get("label"), *(r.get(k) for k in options))
             for r in records]
    return records if found == expected and all("correct" in r for r in records) else None


def _records_field(run: Run) -> str:
    return os.path.relpath(run.records_dir, run.result_file.parent)


def _score_and_write(backend, run: Run, units: list[Unit], scoring: Scoring, summarize, current: dict,
                     workers: Workers, progress: SweepProgress | None, records_field: str | None = None) -> dict:
    records_by_unit = {}
    for unit in units:
        path = run.records_dir / f"{unit.name}.jsonl"
        records = complete_records(path, unit, scoring, run.unit_field) if path.exists() else None
        if records is not None:
            records_by_unit[unit.name] = records
            if progress:
                progress.skip(len(unit.items))
            continue
        if path.exists() and workers.is_main:
            print(f"{path}: incomplete or not this unit's questions: scored again")
        shard = workers.shard(len(unit.items))
        where = f"{run.result_file.name} ({run.unit_field} {unit.name})"
        records = workers.gather(score_unit(backend, unit, scoring, shard, run.unit_field, where=where))
        if workers.is_main:
            atomic_write_jsonl(path, records)
        records_by_unit[unit.name] = records
        if progress:
            progress.advance(len(unit.items))

    result = {"schema_version": SCHEMA_VERSION, "task": run.task,
              "config": {**result_config(backend, run, scoring, units, current["inputs_sha256"], workers),
                         "fingerprint_sha256": fingerprint_sha256(current)},
              "environment": environment(),
              "records": records_field or _records_field(run)}
    result.update(summarize(records_by_unit))
    if scoring.infer_mode == "generation":
        result["unparsed"] = sum(not r["parsed"] for recs in records_by_unit.values() for r in recs)
        # Replies read as a label although they are not exactly one (" A", "(A", "Answer: D"): a
        # comparison of the raw reply with the label, as the paper's GPT code made, scores them wrong.
        result["not_bare_label"] = sum(r["parsed"] and r["generated"] not in scoring.labels
                                       for recs in records_by_unit.values() for r in recs)
    if workers.is_main:
        write_result(run.result_file, result)  # validates, then writes
    else:
        validate_result(result, str(run.result_file))  # so a refusal stops every process, none left waiting
    workers.wait()
    return result


def result_config(backend, run: Run, scoring: Scoring, units: list[Unit], sha: str, workers: Workers) -> dict:
    """The config block: the task's fields, then model, backend, scoring, units, data, processes."""
    config = {**_jsonable(run.config), "model": run.spec.describe(), "backend": backend.describe(),
              **_jsonable(asdict(scoring)), "units": [u.name for u in units],
              "data": {"source": run.data_source, "inputs_sha256": sha}, "processes": workers.world_size}
    if scoring.infer_mode == "logits":
        config["answer_token_ids"] = backend.answer_token_ids(scoring.labels)
    return config


def _jsonable(obj):
    return json.loads(json.dumps(obj))
