"""Run MMLU-style configurations with one loaded model: validate, score, resume, write results.

A configuration is one test variant (``en``, ``full_fr``, ``mixup``, ...) with one demonstration
variant. Its results go to ``{prefix}/result_{name}.json`` and its per-question records to
``{prefix}/{name}/{subject}.jsonl``, written atomically subject by subject, so that a killed run
restarts at the first unfinished subject and ends as an uninterrupted run would.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from crossknow.answers import parse_answer
from crossknow.io import atomic_write_json, atomic_write_jsonl, read_jsonl
from crossknow.mmlu import DataError, Item
from crossknow.prompts import TRANSLATE_THEN_ANSWER_ID, Prompt, build_prompt
from crossknow.results import environment, summarize
from crossknow.variants import MODES, sweep_mixup


class Workers:
    """Data-parallel evaluation under ``accelerate launch --multi_gpu`` or ``torchrun``: each process
    scores a strided shard of every subject, the main process gathers and writes. One process
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


class ResumeError(RuntimeError):
    """Partial results on disk were made with other settings."""


@dataclass(frozen=True)
class EvalConfig:
    name: str
    test_variant: str  # "" is English
    dev_variant: str  # "" is English


@dataclass
class Settings:
    """What decides the predictions; a resumed run must match it exactly."""

    k: int = 0
    interv_prompt_id: int = -1
    infer_mode: str = "logits"
    answer_token: str = "paper"
    labels: tuple[str, ...] = ("A", "B", "C", "D")
    max_token: int = 32
    do_sample: bool = False
    seed: int = 0
    limit: int | None = None
    subjects: list[str] = field(default_factory=list)


def english(variant: str) -> str:
    return "" if variant in ("", "en") else variant


def make_config(test: str, demos: str = "same", name: str | None = None) -> EvalConfig:
    """``demos`` is ``same`` (demos from the test variant), ``en`` or an explicit variant."""
    test = english(test)
    dev = test if demos == "same" else english(demos)
    if name is None:
        name = test or "en"
        if dev != test:
            name += "_en_demo" if dev == "" else f"_{dev}_demo"
    return EvalConfig(name, test, dev)


def expand_configs(tokens: list[str], languages: list[str], demos: list[str]) -> list[EvalConfig]:
    """``all`` is English, every mode in every language and mixup (crossknow.variants.sweep_mixup): the
    paper's sweep."""
    tests: list[str] = []
    for token in tokens:
        if token == "all":
            tests += ["en", *(f"{m}_{lang}" for m in MODES for lang in languages), *filter(None, [sweep_mixup(languages)])]
        else:
            tests.append(token)
    configs, seen = [], set()
    for test in tests:
        for demo in demos:
            config = make_config(test, demo)
            if config.name not in seen:
                seen.add(config.name)
                configs.append(config)
    return configs


@dataclass
class SubjectData:
    test: list[Item]
    demos: list[Item]
    english_demos: list[Item] | None


def load_config_data(source, config: EvalConfig, settings: Settings) -> dict[str, SubjectData]:
    """Read and validate every file the configuration needs, before any model work."""
    for split, variant in (("test", config.test_variant), ("dev", config.dev_variant)):
        if (split == "test" or settings.k > 0) and not source.has(split, variant):
            raise DataError(f"{source.describe(split, variant)}: folder not found (config {config.name})")
    data = {}
    for subject in settings.subjects:
        test = source.load(subject, "test", config.test_variant)[: settings.limit]
        demos, english_demos = [], None
        if settings.k > 0:
            demos = source.load(subject, "dev", config.dev_variant)
            if len(demos) < settings.k:
                raise DataError(
                    f"{source.describe('dev', config.dev_variant)}: {subject} has {len(demos)} "
                    f"dev questions, fewer than k={settings.k}")
            demos = demos[: settings.k]
            if settings.interv_prompt_id == TRANSLATE_THEN_ANSWER_ID:
                english_demos = source.load(subject, "dev", "")[: settings.k]
        data[subject] = SubjectData(test, demos, english_demos)
    return data


def subject_prompts(subject: str, data: SubjectData, settings: Settings) -> list[Prompt]:
    return [
        build_prompt(subject, item, data.demos, settings.labels, settings.interv_prompt_id, data.english_demos)
        for item in data.test
    ]


def score_subject(backend, subject: str, data: SubjectData, settings: Settings,
                  indices: list[int] | None = None) -> list[dict]:
    """Records for the test questions at ``indices`` (default: all) of one subject."""
    indices = list(range(len(data.test))) if indices is None else indices
    items = [data.test[i] for i in indices]
    prompts = subject_prompts(subject, SubjectData(items, data.demos, data.english_demos), settings)
    return score_prompts(backend, subject, items, prompts, settings, indices)


def score_prompts(backend, name: str, items: list[Item], prompts: list[Prompt], settings: Settings,
                  indices: list[int]) -> list[dict]:
    """Score (or generate and parse) each prompt; one record per question, ``index`` its row."""
    labels = settings.labels
    records = []
    if settings.infer_mode == "logits" and hasattr(backend, "score"):
        scores = backend.score(prompts, labels, desc=name)
        for index, item, prompt, score in zip(indices, items, prompts, scores):
            probs = score.probs[settings.answer_token]
            prediction = labels[max(range(len(labels)), key=probs.__getitem__)]
            record = _record(name, index, prompt, item, labels, prediction)
            record["probs"] = dict(zip(labels, probs))
            record["probs_by_answer_token"] = score.probs
            record["reused_prefix_tokens"] = score.reused_prefix_tokens
            records.append(record)
        return records
    outputs = backend.generate(prompts, max_new_tokens=settings.max_token,
                               do_sample=settings.do_sample, seed=settings.seed, desc=name)
    for index, item, prompt, text in zip(indices, items, prompts, outputs):
        prediction = parse_answer(text, labels)
        record = _record(name, index, prompt, item, labels, prediction)
        record["generated"] = text
        record["parsed"] = prediction is not None
        records.append(record)
    return records


def _record(subject: str, index: int, prompt: Prompt, item: Item, labels, prediction) -> dict:
    label = labels[item.answer]
    return {"subject": subject, "index": index, "prompt": prompt.text, "label": label,
            "prediction": prediction, "correct": prediction == label,
            **({"culture": item.culture} if item.culture else {})}


def finished_result(result_file: Path, overwrite: bool, workers: Workers = SINGLE_PROCESS) -> dict | None:
    """A finished result that is kept (never overwritten silently), or None to compute it."""
    workers.wait()
    if not result_file.exists() or overwrite:
        return None
    if workers.is_main:
        print(f"{result_file} exists: skipping (use --overwrite to recompute)")
    return json.loads(result_file.read_text())


def run_config(backend, source, config: EvalConfig, settings: Settings, prefix: Path, run_info: dict,
               overwrite: bool = False, data: dict | None = None, workers: Workers = SINGLE_PROCESS) -> dict:
    """Evaluate one configuration, resuming from finished subjects; returns the results dict."""
    result_file = prefix / f"result_{config.name}.json"
    finished = finished_result(result_file, overwrite, workers)
    if finished is not None:
        return finished
    sample_dir = prefix / config.name
    fingerprint = {"run": {k: v for k, v in run_info.items() if k in ("model", "arch", "dtype")},
                   "config": asdict(config), "settings": _jsonable(asdict(settings))}
    if workers.is_main:
        _check_resume(sample_dir, fingerprint, overwrite)
        atomic_write_json(sample_dir / "settings.json", fingerprint)
    workers.wait()
    data = data if data is not None else load_config_data(source, config, settings)

    records_by_subject = {}
    for subject in tqdm(settings.subjects, desc=config.name, disable=not workers.is_main):
        path = sample_dir / f"{subject}.jsonl"
        if path.exists():
            records_by_subject[subject] = read_jsonl(path)
            continue
        shard = workers.shard(len(data[subject].test))
        records = workers.gather(score_subject(backend, subject, data[subject], settings, shard))
        if workers.is_main:
            atomic_write_jsonl(path, records)
        records_by_subject[subject] = records

    result = {"config": {**run_info, **asdict(config), **_jsonable(asdict(settings)),
                         "data": source.describe("test", config.test_variant), **environment()}}
    result.update(summarize(records_by_subject))
    scored = [r for recs in records_by_subject.values() for r in recs if "reused_prefix_tokens" in r]
    if scored:
        result["prefix_reuse"] = {"questions_with_reuse": sum(r["reused_prefix_tokens"] > 0 for r in scored),
                                  "questions_without": sum(r["reused_prefix_tokens"] == 0 for r in scored)}
        if hasattr(backend, "packed_attention"):  # which of the two reuse paths the model took
            result["prefix_reuse"]["attention"] = "packed" if backend.packed_attention else "batched_cache"
    if settings.infer_mode == "generation" or not hasattr(backend, "score"):
        result["unparsed"] = sum(not r["parsed"] for recs in records_by_subject.values() for r in recs)
    result["config"]["processes"] = workers.world_size
    if workers.is_main:
        atomic_write_json(result_file, result)
    workers.wait()
    return result


def _check_resume(sample_dir: Path, fingerprint: dict, overwrite: bool) -> None:
    settings_file = sample_dir / "settings.json"
    if overwrite and sample_dir.exists():
        shutil.rmtree(sample_dir)
        return
    if settings_file.exists():
        previous = json.loads(settings_file.read_text())
        if previous != fingerprint:
            raise ResumeError(
                f"{sample_dir} holds partial results made with other settings "
                f"({_first_difference(previous, fingerprint)}); use --overwrite or another --save_dir")


def _first_difference(old: dict, new: dict, path: str = "") -> str:
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found = _first_difference(a, b, f"{path}{key}.")
            if found:
                return found
        elif a != b:
            return f"{path}{key}: {a!r} on disk, {b!r} now"
    return ""


def _jsonable(obj):
    return json.loads(json.dumps(obj))
