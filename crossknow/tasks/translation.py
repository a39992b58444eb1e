"""Translation as a task (registered as ``translation``): FLoRes sentences, a translator, files.

Its dataset is the FLoRes subset (crossknow/data/flores.py) in each direction between English and
the languages asked for; its solver the translator (``crossknow.models.translation``: a causal LLM's
zero-shot prompt, a seq2seq MT model, an API); what it writes is ``{output_dir}/{system}/test-{src}-{tgt}``,
one line per source line, which Translation/evaluate.py scores (BLEU, chrF). It is not scored by the
runner, so it runs itself (``run``): Translation/translate.py and ``python -m crossknow.tasks --task
translation`` both reach it through ``get_task("translation")``. A failed line is left empty and
listed in ``settings.json`` (a rerun retries it); a folder written with another model or other
settings is refused.
A direction's lines are journaled as each batch finishes (``.partial-test-{src}-{tgt}/``, removed
once the direction is written), so a killed run resumes where it stopped, without a ``--cache``.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import sys
from pathlib import Path

from crossknow.core.cli import (
    add_batch_size_argument,
    add_languages_argument,
    add_limit_argument,
    add_model_argument,
    add_output_argument,
    add_overwrite_argument,
    existing_path,
    non_negative_float,
    positive_int,
)
from crossknow.core.errors import CrossknowError
from crossknow.core.io import atomic_write_json, atomic_write_text, check_plain_name, folder_lock, read_json, read_text
from crossknow.core.languages import PAPER_LANGUAGES, flores_file
from crossknow.core.model_spec import DEFAULT_MODEL, ModelSpec
from crossknow.core.resume import Journal, SettingsFile
from crossknow.data.flores import FLORES_DIR as FLORES
from crossknow.models.translation import (
    OPENAI_PRESETS,
    TRANSLATORS,
    JournalCache,
    RetryBudget,
    TranslationCache,
    check_languages,
    make_translator,
    translate,
)
from crossknow.tasks.base import register_task

OTHER_SYSTEM_REMEDY = "its lines are not mixed with this run's: use another --system_name or remove the folder"


def directions(direction: str, languages: list[str]) -> list[tuple[str, str]]:
    en2x = [("en", lang) for lang in languages]
    x2en = [(lang, "en") for lang in languages]
    return {"en2x": en2x, "x2en": x2en, "both": en2x + x2en}[direction]


def read_source(input_dir: Path, lang: str, num_examples: int | None) -> list[str]:
    path = flores_file(input_dir, lang)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no FLoRes file for {lang}")
    lines = read_text(path).splitlines()[:num_examples]
    if not lines or not all(line.strip() for line in lines):
        empty = next((i + 1 for i, line in enumerate(lines) if not line.strip()), 1)
        raise CrossknowError(f"{path}: line {empty} is empty: every source line must hold a sentence")
    return lines


def identity(args: argparse.Namespace) -> dict:
    """What decides the lines a system writes: a folder holds the lines of one identity only."""
    return {"model": args.model, "translator_kind": args.translator, "num_beams": args.num_beams,
            "max_new_tokens": args.max_new_tokens, "openai_preset": args.openai_preset}


def read_settings(out_dir: Path, args: argparse.Namespace) -> dict:
    """The folder's settings.json; refused when it (or its absence) says that another model or
    other settings wrote the lines already there."""
    settings_file = out_dir / "settings.json"
    written = [p.name for p in out_dir.glob("test-*-*") if p.is_file()] if out_dir.is_dir() else []
    if not settings_file.is_file():
        if written:
            raise CrossknowError(f"{out_dir}: holds {', '.join(sorted(written)[:3])} but no settings.json naming the "
                                 "model that wrote them; use another --system_name or remove the folder")
        return {"failed": {}, "lines": {}}
    settings = read_json(settings_file)
    if written:
        SettingsFile(settings_file).check(identity(args), OTHER_SYSTEM_REMEDY, "written by another system",
                                          keys=identity(args))
    settings.setdefault("failed", {})
    settings.setdefault("lines", {})
    return settings


def plan(out_dir: Path, pairs: list[tuple[str, str]], sources: dict[str, list[str]], settings: dict,
         overwrite: bool) -> dict[tuple[str, str], list[int]]:
    """The line indices (0-based) each direction still needs: all of a new direction, the failed
    lines of an existing one; an existing direction of another length is refused."""
    todo = {}
    for src, tgt in pairs:
        path, key, n = out_dir / f"test-{src}-{tgt}", f"{src}-{tgt}", len(sources[src])
        if overwrite or not path.exists():
            todo[src, tgt] = list(range(n))
            continue
        lines = read_text(path).splitlines()
        if len(lines) != n:
            raise CrossknowError(f"{path}: {len(lines)} lines, but this run translates {n} (another "
                                 "--limit?); use --overwrite to redo it")
        failed = [i - 1 for i in settings["failed"].get(key, [])]
        if failed:
            todo[src, tgt] = failed
    return todo


def translate_direction(translator, cache, budget, out_dir: Path, src: str, tgt: str, source: list[str],
                        indices: list[int], batch_size: int, system: str, translate=translate) -> list[int]:
    """Translate the lines at ``indices`` (keeping the file's other lines); the failed line numbers."""
    path = out_dir / f"test-{src}-{tgt}"
    lines = read_text(path).splitlines() if len(indices) < len(source) else [""] * len(source)
    results = translate(translator, [source[i] for i in indices], src, tgt, cache, batch_size=batch_size,
                        desc=f"{system} {src}->{tgt}", budget=budget)
    for i, r in zip(indices, results):
        lines[i] = (r.text or "").replace("\n", " ") if r.ok else ""
    atomic_write_text(path, "\n".join(lines) + "\n")
    return [i + 1 for i, r in zip(indices, results) if not r.ok]


def partial_folder(out_dir: Path, src: str, tgt: str) -> Path:
    """The resume journal of a direction being translated (hidden: no reader takes it for output)."""
    return out_dir / f".partial-test-{src}-{tgt}"


def default_system_name(model: str, openai_preset: str) -> str:
    """The model's tag (``SmolLM2-135M-Instruct``, ``nllb-200-3.3B``), the folder name every task
    uses; an OpenAI model's folder also names its request preset (``gpt-4-0613-paper``)."""
    spec = ModelSpec.parse(model)
    return f"{spec.tag}-{openai_preset}" if spec.is_api else spec.tag


def add_arguments(p: argparse.ArgumentParser, output_dir: Path = Path("results/translation")) -> None:
    """The flags of Translation/translate.py (and of ``python -m crossknow.tasks --task translation``);
    ``output_dir`` is the default folder of the systems' outputs (the task script passes its own)."""
    add_model_argument(p, DEFAULT_MODEL, "causal LM, seq2seq MT model, openai/<name>, apertium, google")
    p.add_argument("--system_name", default=None,
                   help="output folder name (default: the model's tag, as in every task's results; OpenAI models "
                        "add -{preset})")
    p.add_argument("--translator", default="auto", choices=["auto", *TRANSLATORS])
    p.add_argument("--direction", default="both", choices=["en2x", "x2en", "both"])
    add_languages_argument(p, PAPER_LANGUAGES, "language codes (crossknow/core/languages.tsv)")
    p.add_argument("--input_dir", type=existing_path, default=FLORES)
    add_output_argument(p, output_dir, "one folder per system", type=Path)
    add_limit_argument(p, "first N sentences (default: all 100)")
    add_batch_size_argument(p, 8)
    p.add_argument("--num_beams", type=positive_int, default=1)
    p.add_argument("--max_new_tokens", type=positive_int, default=256)
    p.add_argument("--openai_preset", default="greedy", choices=sorted(OPENAI_PRESETS),
                   help="OpenAI request settings: greedy, or paper (temperature 0.7, max_tokens 64, top_p 1)")
    p.add_argument("--cache", default=None, help="translation cache; by default none (every run translates)")
    p.add_argument("--retry_seconds", type=non_negative_float, default=120.0,
                   help="time that failed calls and retries may take in the whole run before the lines left "
                        "are recorded as failed")
    add_overwrite_argument(p)


def check_arguments(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if "en" in args.languages:
        p.error("--languages: en is the other side of every direction; give the languages paired with it")


def run(args: argparse.Namespace, make_translator=make_translator, translate=translate) -> dict:
    """Translate every direction still to do; the folder's settings. (``make_translator`` and
    ``translate`` are the models layer's unless a caller passes its own.)"""
    system = check_plain_name(args.system_name or default_system_name(args.model, args.openai_preset), "--system_name")
    pairs = directions(args.direction, args.languages)
    sources = {src: read_source(args.input_dir, src, args.limit) for src in {s for s, _ in pairs}}
    with folder_lock(args.output_dir / system):  # one writer per system folder
        return translate_system(args, args.output_dir / system, pairs, sources, make_translator, translate)


def translate_system(args: argparse.Namespace, out_dir: Path, pairs: list[tuple[str, str]],
                     sources: dict[str, list[str]], make_translator=make_translator, translate=translate) -> dict:
    system = out_dir.name
    settings = read_settings(out_dir, args)
    todo = plan(out_dir, pairs, sources, settings, args.overwrite)
    if todo:
        translator = make_translator(args.translator, args.model, args.max_new_tokens, args.num_beams,
                                     args.batch_size, args.openai_preset)
        for src, tgt in todo:  # every pair checked before any line is translated
            check_languages(translator, src, tgt)
        cache = TranslationCache(args.cache) if args.cache else None
        budget = RetryBudget(args.retry_seconds)
        settings.update({**identity(args), "system_name": system, "translator": f"{translator.name}:{translator.model}",
                         "num_examples": args.limit, "batch_size": args.batch_size})
        for (src, tgt), indices in todo.items():
            journal = Journal(partial_folder(out_dir, src, tgt))
            finished = journal.open({**identity(args), "direction": f"{src}-{tgt}"}, OTHER_SYSTEM_REMEDY, args.overwrite)
            failed = translate_direction(translator, JournalCache(journal, finished, cache), budget, out_dir, src,
                                         tgt, sources[src], indices, args.batch_size, system, translate)
            settings["failed"][f"{src}-{tgt}"] = failed
            settings["lines"][f"{src}-{tgt}"] = len(sources[src])
            if failed:
                print(f"warning: {len(failed)} line(s) of {src}->{tgt} failed and are left empty: {failed[:10]} "
                      "(a re-run retries them)", file=sys.stderr)
            settings["date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
            atomic_write_json(out_dir / "settings.json", settings)  # after each direction: a kill keeps the record
            shutil.rmtree(journal.folder)  # the direction is written: its journal is done
    for src, tgt in pairs:
        if (src, tgt) not in todo:
            print(f"{out_dir / f'test-{src}-{tgt}'} exists: skipped (use --overwrite to redo it)")
            shutil.rmtree(partial_folder(out_dir, src, tgt), ignore_errors=True)  # left by a kill after the write
    return settings


@register_task("translation")
class Translation:
    """Not a runner task: ``run(args)`` translates (see the module's docstring)."""

    add_arguments = staticmethod(add_arguments)
    default_system_name = staticmethod(default_system_name)
    check_arguments = staticmethod(check_arguments)
    run = staticmethod(run)
