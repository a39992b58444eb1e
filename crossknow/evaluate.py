"""The MMLU task for the runner: configurations, their data, prompts and summary.

A configuration is one test variant (``en``, ``full_fr``, ``mixup``, ...) with one demonstration
variant. Its results go to ``{prefix}/result_{name}.json`` and its per-question records to
``{prefix}/{name}/{subject}.jsonl`` (the runner, ``crossknow/runner.py``, writes both and resumes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from crossknow.chat import ChatFormat
from crossknow.mmlu import DataError, Item
from crossknow.model_spec import ModelSpec
from crossknow.prompts import TRANSLATE_THEN_ANSWER_ID, Prompt, build_prompt
from crossknow.results import summarize
from crossknow.runner import SINGLE_PROCESS, Run, Scoring, SweepProgress, Unit, Workers, run_units
from crossknow.variants import MODES, sweep_mixup

GENERATION_SUFFIX = "_token"  # the paper's name for a generation-mode result


@dataclass(frozen=True)
class EvalConfig:
    name: str  # the result file's name, nothing is read back from it
    test_variant: str  # "" is English
    dev_variant: str  # "" is English


@dataclass
class Settings:
    """The MMLU side of a run: shots, intervention prompt, labels, the slice of the data."""

    k: int = 0
    interv_prompt_id: int = -1
    labels: tuple[str, ...] = ("A", "B", "C", "D")
    limit: int | None = None
    subjects: list[str] = field(default_factory=list)
    chat: ChatFormat | None = None  # --apply_chat_template
    model_args: dict | None = None  # --model_args, recorded as given


def english(variant: str) -> str:
    return "" if variant in ("", "en") else variant


def variant_parts(variant: str) -> tuple[str | None, str | None]:
    """(mode, language) of a test variant: ``full_fr`` -> (full, fr), ``mixup`` -> (mixup, None),
    English -> (None, None)."""
    if not variant:
        return None, None
    if variant.startswith("mixup_") and "-" in variant:  # mixup over another language set: mixup_ar-hi-ru-zh
        return "mixup", None
    mode, _, lang = variant.rpartition("_")
    return (mode, lang) if mode in MODES else (variant, None)


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
    prompts = [
        build_prompt(subject, item, data.demos, settings.labels, settings.interv_prompt_id, data.english_demos)
        for item in data.test
    ]
    return [settings.chat.apply(p) for p in prompts] if settings.chat else prompts


def config_fields(config: EvalConfig, settings: Settings) -> dict:
    """The MMLU fields of a result's config block."""
    mode, language = variant_parts(config.test_variant)
    return {"name": config.name, "test_variant": config.test_variant, "dev_variant": config.dev_variant,
            "test_mode": mode, "test_language": language, "shots": settings.k,
            "intervention": None if settings.interv_prompt_id == -1 else settings.interv_prompt_id,
            "limit": settings.limit, **optional_fields(settings)}


def optional_fields(settings: Settings) -> dict:
    """Fields present only when their option is used, so that the results of runs without it (and
    their fingerprints) stay as they were: no ``apply_chat_template`` means it was off."""
    fields = settings.chat.describe() if settings.chat else {}
    return {**fields, "model_args": settings.model_args} if settings.model_args else fields


def summarize_mmlu(records_by_subject: dict[str, list[dict]]) -> dict:
    """Accuracy per subject, micro, macro, per category; and how many questions reused a prefix."""
    summary = summarize(records_by_subject)
    scored = [r for recs in records_by_subject.values() for r in recs if "reused_prefix_tokens" in r]
    if scored:
        summary["prefix_reuse"] = {"questions_with_reuse": sum(r["reused_prefix_tokens"] > 0 for r in scored),
                                   "questions_without": sum(r["reused_prefix_tokens"] == 0 for r in scored)}
    return summary


def config_units(config: EvalConfig, data: dict[str, SubjectData], settings: Settings) -> list[Unit]:
    return [Unit(subject, d.test, subject_prompts(subject, d, settings), culture_extras(d.test))
            for subject, d in data.items()]


def culture_extras(items: list[Item]) -> list[dict] | None:
    """Global-MMLU's culture tag (crossknow/culture.py) in each record, where the data has tags."""
    return [{"culture": item.culture} for item in items] if any(item.culture for item in items) else None


def run_config(backend, source, config: EvalConfig, data: dict[str, SubjectData], settings: Settings,
               scoring: Scoring, spec: ModelSpec, prefix: Path, overwrite: bool = False,
               workers: Workers = SINGLE_PROCESS, progress: SweepProgress | None = None) -> dict:
    """Evaluate one configuration through the runner (resuming from finished subjects)."""
    run = Run(task="mmlu", spec=spec, config=config_fields(config, settings),
              data_source=source.describe("test", config.test_variant),
              result_file=prefix / f"result_{config.name}.json", records_dir=prefix / config.name,
              unit_field="subject")
    return run_units(backend, run, config_units(config, data, settings), scoring, summarize_mmlu,
                     overwrite=overwrite, workers=workers, progress=progress)
