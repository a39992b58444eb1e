"""Harry Potter quiz: the domain-specific knowledge barrier, in English, French, German, Spanish
and Italian, and in mixed-language variants built from the parallel splits.

    python HP/evaluate.py                                   # embedded SmolLM2, bundled demo quiz
    python HP/evaluate.py --model_name meta-llama/Llama-2-7b-hf --data cross-ling-know/HarryPotter-Quiz \\
        --langs all --save_dir results/hp
    python HP/evaluate.py --variant mixup                   # question and options in 5 languages

The bundled demo quiz (HP/data/demo-quiz) was written by this project; it is not the paper's quiz.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crossknow.analysis.gather import read_result, same_questions
from crossknow.core.cli import (
    add_data_argument,
    add_languages_argument,
    add_limit_argument,
    add_output_argument,
    add_overwrite_argument,
    check_limit,
    model_name,
    run,
)
from crossknow.core.io import read_json
from crossknow.core.results import ResultError, write_result
from crossknow.data.hp import VARIANTS, load_quiz
from crossknow.models.backends import add_model_arguments, backend_options, check_model_arguments, make_backend
from crossknow.models.chat import ChatFormat, add_chat_argument, chat_format, check_chat_argument
from crossknow.runner import Run, SweepProgress, Workers, run_units
from crossknow.tasks import get_task

HP = get_task("hp")  # the quiz's units, scoring and summary (crossknow/tasks/hp.py)
DEMO_QUIZ = Path(__file__).resolve().parent / "data" / "demo-quiz"
RESULTS = "results/hp"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(p, gpu_dtype="bf16")  # the paper ran the quiz in bf16
    p.add_argument("--model_name", dest="model", type=model_name, help="the paper's name for --model")
    add_languages_argument(p, None, "languages, or 'all' (default: all)", words=("all",))
    add_data_argument(p, str(DEMO_QUIZ), "hub dataset name or local folder")
    add_output_argument(p, RESULTS, "results go to {output_dir}/{model tag}/{variant}")
    p.add_argument("--variant", default="none", choices=VARIANTS,
                   help="none (all in one language), question/options/gt (that part in the language, "
                        "the rest English), mixup (question and options in five languages)")
    p.add_argument("--answer_token", default="paper", choices=["paper", "space"])
    add_chat_argument(p)
    add_limit_argument(p, "first N questions")
    add_overwrite_argument(p)
    args = p.parse_args(argv)
    args.spec = check_model_arguments(p, args)
    check_limit(p, args.limit)
    if args.spec.is_api:
        p.error(f"--model {args.model}: the quiz is scored from letter logits, which an API model does not give")
    check_chat_argument(p, args)
    args.languages = HP.quiz_languages(args.languages, args.variant)
    return args


def optional_fields(args: argparse.Namespace, chat: ChatFormat | None) -> dict:
    """Config fields present only when their option is used, so that results made without it (and
    their fingerprints) stay as they were: no ``apply_chat_template`` means it was off."""
    fields = chat.describe() if chat else {}
    return {**fields, "model_args": args.model_args} if args.model_args else fields


def format_summary(results: dict[str, dict], english: dict | None, pairs: dict | None = None) -> str:
    """Accuracy per language; the gap to English only where both were scored on the same questions
    (``other n`` where not). With ``pairs`` (by language, crossknow/analysis/paired_report.py), the gap is the
    one paired by quiz row, with its 95% interval, and a language on other rows says ``not paired``."""
    pairs = pairs or {}
    lines = [f"{'language':<10}{'accuracy':>10}{'gap to en':>14}{'paired 95% interval':>22}{'n':>6}"]
    for lang, r in results.items():
        gap, interval = "", ""
        pair = pairs.get(lang)
        if pair is not None and pair.metrics is None:
            gap = "not paired"
        elif pair is not None:
            lo, hi = pair.metrics["gap_ci95"]
            gap, interval = f"{0.0 - 100 * pair.metrics['gap']:+.1f}", f"[{0.0 - 100 * hi:+.1f}, {0.0 - 100 * lo:+.1f}]"
        elif english is not None and lang != "en":
            same = same_questions(r, english)
            gap = f"{100 * (r['accuracy'] - english['accuracy']):+.1f}" if same else f"other n ({english['n']})"
        lines.append(f"{lang:<10}{100 * r['accuracy']:>10.1f}{gap:>14}{interval:>22}{r['n']:>6}")
    notes = [f"not paired: {p.refused}" for p in pairs.values() if p.refused]
    return "\n".join(lines + notes)


def paired_with_english(out_dir: Path, results: dict[str, dict]) -> dict:
    """Each language of this run paired with English by quiz row (English of this run, or of the
    ``none`` folder beside it), by language."""
    from crossknow.analysis.paired_report import SideCache, hp_pairs

    located = [{**r, "_path": str(out_dir / f"result_{lang}.json")} for lang, r in results.items()]
    none_dir = out_dir.parent / "none"
    english = read_result(none_dir / "result_en.json")
    by_folder = {none_dir: [{**english, "_path": str(none_dir / "result_en.json")}]} if english else {}
    pairs = hp_pairs(out_dir, located, by_folder, SideCache(), allow_partial=False, n_resamples=2000, seed=0)
    return {pair.language: pair for pair in pairs}


PAIRED_FIELDS = ("n", "accuracy_en", "gap", "gap_ci95", "mcnemar_p", "dropped", "dropped_en", "paired_by")


def summary_entry(result: dict, pair=None) -> dict:
    """A language's summary: accuracy and n; for a language other than English, its gap to English
    paired by quiz row (``paired``, from crossknow/analysis/paired.py), or null and why (``not_paired``)."""
    entry = {"accuracy": result["accuracy"], "n": result["n"]}
    if result["config"].get("language") == "en":
        return entry
    if pair is None:
        return {**entry, "paired": None, "not_paired": "no English result with records to pair with"}
    if pair.metrics is None:
        return {**entry, "paired": None, "not_paired": pair.refused}
    row = pair.row()
    return {**entry, "paired": {key: row[key] for key in PAIRED_FIELDS}}


def merge_summary(path: Path, results: dict[str, dict], pairs: dict | None = None) -> dict:
    """summary.json keeps the languages of earlier runs; the languages given replace theirs. When
    English is given, an earlier language not given keeps its accuracy and n only: its pairing was
    with another English run."""
    summary = read_json(path) if path.is_file() else {}
    summary = {lang: old if isinstance(old, dict) else {"accuracy": old} for lang, old in summary.items()}
    if "en" in results:
        summary = {lang: {k: v for k, v in old.items() if k in ("accuracy", "n")} for lang, old in summary.items()}
    summary.update({lang: summary_entry(r, (pairs or {}).get(lang)) for lang, r in results.items()})
    write_result(path, summary, "hp_summary")
    return summary


def folder_results(out_dir: Path, results: dict[str, dict]) -> dict[str, dict]:
    """This run's results and those of earlier runs in the same folder, by language."""
    found = {}
    for path in sorted(out_dir.glob("result_*.json")):
        try:
            result = read_result(path)
        except ResultError as error:  # left out of the summary, as the report leaves it out
            print(f"Note: {error}", file=sys.stderr)
            continue
        if result is not None and result.get("task") == "hp":
            found[result["config"]["language"]] = result
    return {**found, **results}


def main(argv: list[str] | None = None) -> dict[str, dict]:
    args = parse_args(argv)
    quiz = load_quiz(args.data_dir, HP.needed_languages(args.languages, args.variant))  # before the model loads
    chat = chat_format(args)  # the tokenizer alone: a model without a template stops before loading
    units = {lang: HP.language_unit(quiz, lang, args.variant, args.seed, args.limit, chat) for lang in args.languages}
    scoring = HP.scoring(args)
    out_dir = Path(args.output_dir) / args.spec.tag / args.variant
    workers = Workers()
    backend = make_backend(args.spec, **backend_options(args, workers))
    progress = SweepProgress(len(units), sum(len(u.items) for u in units.values()), enabled=workers.is_main)
    results = {}
    try:
        for lang, unit in units.items():
            config = HP.language_config(lang, args.variant, args.limit, optional_fields(args, chat))
            run = Run(task=HP.name, spec=args.spec, config=config,
                      data_source=str(args.data_dir), result_file=out_dir / f"result_{lang}.json",
                      records_dir=out_dir / lang, unit_field="language")
            results[lang] = run_units(backend, run, [unit], scoring, HP.summarize, args.overwrite, workers, progress)
    finally:
        progress.close()
    if workers.is_main:
        baseline = read_result(out_dir.parent / "none" / "result_en.json")  # a variant's gap is to plain English
        english = results["en"] if "en" in results else baseline
        pairs = paired_with_english(out_dir, results)
        if args.variant == "none":
            every = folder_results(out_dir, results)
            merge_summary(out_dir / "summary.json", every, paired_with_english(out_dir, every))
        print(f"{out_dir} (accuracy %)\n{format_summary(results, english, pairs)}")
        if args.data_dir == str(DEMO_QUIZ):
            print("Note: the demo quiz is 30 questions written by this project, not the paper's quiz.")
    return results


if __name__ == "__main__":
    run(main)
