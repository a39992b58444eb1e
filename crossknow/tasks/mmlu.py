"""The MMLU task for the runner: configurations, their data, prompts and summary (registered as ``mmlu``).

A configuration is one test variant (``en``, ``full_fr``, ``mixup``, ...) with one demonstration
variant. Its results go to ``{prefix}/result_{name}.json`` and its per-question records to
``{prefix}/{name}/{subject}.jsonl`` (the runner, ``crossknow/runner.py``, writes both and resumes).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from crossknow.core.answers import LABELS
from crossknow.core.cli import data_location, non_negative_int
from crossknow.core.io import check_plain_name
from crossknow.core.languages import PAPER_LANGUAGES
from crossknow.core.model_spec import ModelSpec
from crossknow.core.results import summarize
from crossknow.data.mmlu import DataError, Item, folder_name, open_source
from crossknow.data.prompts import TRANSLATE_THEN_ANSWER_ID, Prompt, build_prompt
from crossknow.data.question_ids import mmlu_question_id
from crossknow.data.source_ids import GLOBAL_MMLU, global_mmlu_mismatch
from crossknow.data.variant_folders import english_rows
from crossknow.data.variants import MODES, sweep_mixup, variant_parts
from crossknow.models.chat import ChatFormat
from crossknow.runner import SINGLE_PROCESS, Run, Scoring, SweepProgress, Unit, Workers, run_units
from crossknow.tasks.base import Configuration, register_task

GENERATION_SUFFIX = "_token"  # the paper's name for a generation-mode result


@dataclass(frozen=True)
class EvalConfig:
    name: str  # the result file's name, nothing is read back from it
    test_variant: str  # "" is English
    dev_variant: str  # "" is English

    def __post_init__(self):  # the name becomes result_{name}.json and the records folder {name}/
        check_plain_name(self.name, "configuration")


@dataclass
class Settings:
    """The MMLU side of a run: shots, intervention prompt, labels, the slice of the data."""

    k: int = 0
    interv_prompt_id: int = -1
    labels: tuple[str, ...] = LABELS
    limit: int | None = None
    subjects: list[str] = field(default_factory=list)
    truncate_demos: bool = False  # drop demonstrations until a prompt fits the model's context
    chat: ChatFormat | None = None  # --apply_chat_template
    model_args: dict | None = None  # --model_args, recorded as given


def english(variant: str) -> str:
    return "" if variant in ("", "en") else variant


def make_config(test: str, demos: str = "same", name: str | None = None, generation: bool = False) -> EvalConfig:
    """``demos`` is ``same`` (demos from the test variant), ``en`` or an explicit variant;
    ``generation`` marks the name as the paper did (``_token``)."""
    test = english(test)
    dev = test if demos == "same" else english(demos)
    if name is None:
        name = test or "en"
        if dev != test:
            name += "_en_demo" if dev == "" else f"_{dev}_demo"
    if generation:
        name += GENERATION_SUFFIX
    return EvalConfig(name, test, dev)


def expand_configs(tokens: list[str], languages: list[str], demos: list[str],
                   generation: bool = False) -> list[EvalConfig]:
    """``all`` is English, every mode in every language and mixup (crossknow.data.variants.sweep_mixup): the
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
            config = make_config(test, demo, generation=generation)
            if config.name not in seen:
                seen.add(config.name)
                configs.append(config)
    return configs


@dataclass
class SubjectData:
    test: list[Item]
    demos: list[Item]
    english_demos: list[Item] | None
    ids: list[str] | None = None  # the question ids (crossknow/data/question_ids.py), from the English rows


def load_config_data(source, config: EvalConfig, settings: Settings) -> dict[str, SubjectData]:
    """Read and validate every file the configuration needs, before any model work."""
    for split, variant in (("test", config.test_variant), ("dev", config.dev_variant)):
        if (split == "test" or settings.k > 0) and not source.has(split, variant):
            raise DataError(f"{source.describe(split, variant)}: folder not found (config {config.name})")
    for subject in settings.subjects:  # every name before any file is read
        check_plain_name(subject, "subject")
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
        check_source_ids(subject, test, source.describe("test", config.test_variant))
        data[subject] = SubjectData(test, demos, english_demos, english_ids(source, subject, config, test, settings))
    return data


def english_ids(source, subject: str, config: EvalConfig, test: list[Item], settings: Settings) -> list[str] | None:
    """Each test row's id, from the English row it translates: the row map of the variant folder's
    manifest where rows were dropped (``crossknow.data.variant_folders.english_rows``), else the same
    position, which needs as many rows as English (a variant with another count and no map is
    refused: its rows cannot be told apart). None where no English file is there (records then pair
    by subject and row, and the report says so)."""
    if config.test_variant == "":
        return [mmlu_question_id(subject, "test", row, item) for row, item in enumerate(test)]
    if not source.has("test", ""):
        return None
    english = source.load(subject, "test", "")
    rows = row_map(source, subject, config.test_variant, len(english))
    if rows is None:
        variant_count = len(source.load(subject, "test", config.test_variant))
        if variant_count != len(english):
            raise DataError(f"{source.describe('test', config.test_variant)}: {subject} has {variant_count} test "
                            f"rows but English has {len(english)}, and its manifest.json records no row map "
                            "(english_rows or skipped): which English question each row is cannot be told")
        rows = list(range(len(english)))
    return [mmlu_question_id(subject, "test", row, english[row]) for row in rows[: len(test)]]


def row_map(source, subject: str, variant: str, english_count: int) -> list[int] | None:
    """The English row of each row of a local variant folder, where its manifest records one."""
    folder = getattr(source, "data_dir", None)
    if folder is None:
        return None
    return english_rows(Path(folder) / folder_name("test", variant), subject, english_count)


def subject_prompts(subject: str, data: SubjectData, settings: Settings) -> list[Prompt]:
    prompts = [
        build_prompt(subject, item, data.demos, settings.labels, settings.interv_prompt_id, data.english_demos)
        for item in data.test
    ]
    return [settings.chat.apply(p) for p in prompts] if settings.chat else prompts


def fitted_prompt(subject: str, item: Item, data: SubjectData, settings: Settings,
                  fits: Callable[[Prompt], bool]) -> tuple[Prompt, int]:
    """The original MMLU scorer's rule: drop the last demonstration until the prompt fits. Returns
    the prompt and how many demonstrations were dropped."""
    k = len(data.demos)
    while True:
        english = data.english_demos[:k] if data.english_demos is not None else None
        prompt = build_prompt(subject, item, data.demos[:k], settings.labels, settings.interv_prompt_id, english)
        if settings.chat:  # the fit is measured on what the model reads
            prompt = settings.chat.apply(prompt)
        if k == 0 or fits(prompt):
            return prompt, len(data.demos) - k
        k -= 1


def context_fit(backend) -> Callable[[Prompt], bool] | None:
    """Whether a prompt fits the backend's context, or None when the backend cannot tell."""
    if not (hasattr(backend, "context_length") and hasattr(backend, "count_tokens")) or not backend.context_length():
        return None
    limit = backend.context_length()
    return lambda prompt: backend.count_tokens([prompt.text])[0] <= limit


def config_fields(config: EvalConfig, settings: Settings) -> dict:
    """The MMLU fields of a result's config block (``truncate_demos`` only when asked for, so that
    results made without it keep their fingerprint)."""
    mode, language = variant_parts(config.test_variant)
    return {"name": config.name, "test_variant": config.test_variant, "dev_variant": config.dev_variant,
            "test_mode": mode, "test_language": language, "shots": settings.k,
            "intervention": None if settings.interv_prompt_id == -1 else settings.interv_prompt_id,
            "limit": settings.limit, **optional_fields(settings)}


def optional_fields(settings: Settings) -> dict:
    """Fields present only when their option is used, so that the results of runs without it (and
    their fingerprints) stay as they were: no ``apply_chat_template`` means it was off."""
    fields = settings.chat.describe() if settings.chat else {}
    fields = {**fields, "model_args": settings.model_args} if settings.model_args else fields
    return {**fields, "truncate_demos": True} if settings.truncate_demos else fields


def summarize_mmlu(records_by_subject: dict[str, list[dict]]) -> dict:
    """Accuracy per subject, micro, macro, per category; and how many questions reused a prefix."""
    summary = summarize(records_by_subject)
    dropped = [r["dropped_demos"] for recs in records_by_subject.values() for r in recs if "dropped_demos" in r]
    if dropped:
        summary["dropped_demos"] = {"questions": sum(d > 0 for d in dropped), "demonstrations": sum(dropped)}
    scored = [r for recs in records_by_subject.values() for r in recs if "reused_prefix_tokens" in r]
    if scored:
        summary["prefix_reuse"] = {"questions_with_reuse": sum(r["reused_prefix_tokens"] > 0 for r in scored),
                                   "questions_without": sum(r["reused_prefix_tokens"] == 0 for r in scored)}
    return summary


def config_units(config: EvalConfig, data: dict[str, SubjectData], settings: Settings, backend=None) -> list[Unit]:
    """One unit per subject; with ``truncate_demos``, demonstrations dropped until each prompt fits
    the backend's context, and the number dropped in each record (``dropped_demos``)."""
    fits = context_fit(backend) if settings.truncate_demos and settings.k > 0 else None
    if fits is None:
        return [Unit(subject, d.test, subject_prompts(subject, d, settings), record_extras(d))
                for subject, d in data.items()]
    units = []
    for subject, d in data.items():
        fitted = [fitted_prompt(subject, item, d, settings, fits) for item in d.test]
        extras = [{**extra, "dropped_demos": dropped}
                  for extra, (_, dropped) in zip(record_extras(d) or [{}] * len(d.test), fitted)]
        units.append(Unit(subject, d.test, [prompt for prompt, _ in fitted], extras))
    return units


def record_extras(data: SubjectData) -> list[dict] | None:
    """The id, on imported data the imported row's own id (``source_id``), and on Global-MMLU data
    the culture tag of each record."""
    culture = culture_extras(data.test) or [{}] * len(data.test)
    ids = [{"id": qid} for qid in data.ids] if data.ids is not None else [{}] * len(data.test)
    sources = [{"source_id": item.source_id} if item.source_id else {} for item in data.test]
    extras = [{**i, **s, **c} for i, s, c in zip(ids, sources, culture)]
    return extras if any(extras) else None


def check_source_ids(subject: str, items: list[Item], where: str) -> None:
    """An imported Global-MMLU row must still sit at the English row its ``sample_id`` names (a file
    edited or re-sorted after the import is refused, naming the row and both ids)."""
    for row, item in enumerate(items):
        if item.source_id and item.source_id.startswith(GLOBAL_MMLU):
            sample_id = item.source_id[len(GLOBAL_MMLU):]
            if global_mmlu_mismatch(sample_id, subject, "test", row):
                raise DataError(f"{where}: {subject} row {row + 1}: source id {item.source_id!r} does not name "
                                f"the English MMLU row mmlu/{subject}/test/{row}")


def culture_extras(items: list[Item]) -> list[dict] | None:
    """Global-MMLU's culture tag (crossknow/data/culture.py) in each record, where the data has tags."""
    return [{"culture": item.culture} for item in items] if any(item.culture for item in items) else None


def run_config(backend, source, config: EvalConfig, data: dict[str, SubjectData], settings: Settings,
               scoring: Scoring, spec: ModelSpec, prefix: Path, overwrite: bool = False,
               workers: Workers = SINGLE_PROCESS, progress: SweepProgress | None = None) -> dict:
    """Evaluate one configuration through the runner (resuming from finished subjects)."""
    run = Run(task="mmlu", spec=spec, config=config_fields(config, settings),
              data_source=source.describe("test", config.test_variant),
              result_file=prefix / f"result_{config.name}.json", records_dir=prefix / config.name,
              unit_field="subject")
    return run_units(backend, run, config_units(config, data, settings, backend), scoring, summarize_mmlu,
                     overwrite=overwrite, workers=workers, progress=progress)


@register_task("mmlu")
class MMLU:
    """MMLU for ``python -m crossknow.tasks --task mmlu``: one configuration per test variant (demos
    from the same variant), one unit per subject. MMLU/eval.py drives the same functions (sweeps,
    interventions, generation), through ``get_task("mmlu")``."""

    unit_field = "subject"
    Settings = Settings
    make_config = staticmethod(make_config)
    expand_configs = staticmethod(expand_configs)
    load_config_data = staticmethod(load_config_data)
    run_config = staticmethod(run_config)
    summarize = staticmethod(summarize_mmlu)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--data_dir", "--data", dest="data_dir", required=True, type=data_location,
                            help="folder in the paper's layout (MMLU/data/demo is the bundled demo) or a hub dataset")
        parser.add_argument("--variants", nargs="+", default=["en"], help="test variants; 'all' is the paper's sweep")
        parser.add_argument("--ntrain", "-k", type=non_negative_int, default=0, help="demonstrations from dev")
        parser.add_argument("--subjects", nargs="+", default=None, help="default: every subject in the data")

    def configurations(self, args: argparse.Namespace) -> list[Configuration]:
        source = open_source(args.data_dir)
        settings = Settings(k=args.ntrain, limit=args.limit,
                            subjects=args.subjects or source.subjects("test", ""), model_args=args.model_args)
        return [Configuration(config.name, config_fields(config, settings),
                              source.describe("test", config.test_variant),
                              config_units(config, load_config_data(source, config, settings), settings),
                              self.unit_field)
                for config in expand_configs(args.variants, list(PAPER_LANGUAGES), ["same"])]

    def scoring(self, args: argparse.Namespace) -> Scoring:
        return Scoring(labels=LABELS, seed=args.seed)
