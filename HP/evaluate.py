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
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crossknow.backends import add_model_arguments, check_model_arguments, make_backend, model_tag  # noqa: E402
from crossknow.evaluate import Settings, Workers, finished_result, score_prompts  # noqa: E402
from crossknow.hf_backend import default_device  # noqa: E402
from crossknow.hp import QUIZ_LANGUAGES, VARIANTS, load_quiz, variant_prompts  # noqa: E402
from crossknow.io import atomic_write_json, atomic_write_jsonl  # noqa: E402
from crossknow.languages import add_languages_argument, language_code  # noqa: E402
from crossknow.results import bootstrap_interval, environment  # noqa: E402

DEMO_QUIZ = Path(__file__).resolve().parent / "data" / "demo-quiz"
LABELS = ("A", "B", "C", "D")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(p, default_dtype="paper")
    p.add_argument("--model_name", dest="model", help="the paper's name for --model")
    p.add_argument("--lang", default=None, type=language_code, help="one language (the paper's flag)")
    add_languages_argument(p, "--langs", default=None, words=("all",), dest="langs",
                           help="languages, or 'all' (default: all)")
    p.add_argument("--data", default=str(DEMO_QUIZ), help="hub dataset name or local folder")
    p.add_argument("--save_dir", default="results/hp")
    p.add_argument("--variant", default="none", choices=VARIANTS,
                   help="none (all in one language), question/options/gt (that part in the language, "
                        "the rest English), mixup (question and options in five languages)")
    p.add_argument("--answer_token", default="paper", choices=["paper", "space"])
    p.add_argument("--limit", type=int, default=None, help="first N questions")
    p.add_argument("--model_tag", default=None)
    p.add_argument("--overwrite", action="store_true")
    args = p.parse_args(argv)
    check_model_arguments(p, args)
    if args.dtype == "paper":  # the paper ran the quiz in bf16; bf16 is slow and lossy on CPU
        args.dtype = "bf16" if (args.device or default_device()).startswith("cuda") else "fp32"
    langs = args.langs or ([args.lang] if args.lang else ["all"])
    args.langs = QUIZ_LANGUAGES if langs == ["all"] else langs
    if args.variant == "mixup":
        args.langs = ["mixup"]
    elif args.variant != "none":
        args.langs = [lang for lang in args.langs if lang != "en"]
    return args


def summarize(records: list[dict]) -> dict:
    correct = [r["correct"] for r in records]
    by_category: dict[str, list[bool]] = {}
    for r in records:
        if r.get("category"):
            by_category.setdefault(r["category"], []).append(r["correct"])
    return {"n": len(correct), "accuracy": sum(correct) / len(correct), "ci95": bootstrap_interval(correct),
            "category": {c: sum(v) / len(v) for c, v in sorted(by_category.items())},
            "category_n": {c: len(v) for c, v in sorted(by_category.items())}}


def evaluate_language(backend, quiz, lang: str, args, out_dir: Path, run_info: dict, workers: Workers) -> dict:
    result_file, records_file = out_dir / f"result_{lang}.json", out_dir / f"{lang}.jsonl"
    finished = finished_result(result_file, args.overwrite, workers)
    if finished is not None:
        return finished
    items, prompts = variant_prompts(quiz, args.variant, "en" if lang == "mixup" else lang, args.seed)
    items, prompts = items[: args.limit], prompts[: args.limit]
    categories = [q.category for q in quiz["en"]]
    settings = Settings(answer_token=args.answer_token, labels=LABELS, seed=args.seed, limit=args.limit)
    shard = workers.shard(len(items))
    records = score_prompts(backend, f"{args.variant}:{lang}", [items[i] for i in shard],
                            [prompts[i] for i in shard], settings, shard)
    records = workers.gather(records)
    for r in records:
        r["category"] = categories[r["index"]]
    result = {"config": {**run_info, "language": lang, "variant": args.variant, "data": args.data,
                         "answer_token": args.answer_token, "limit": args.limit, "seed": args.seed,
                         "processes": workers.world_size, **environment()},
              **summarize(records)}
    if workers.is_main:
        atomic_write_jsonl(records_file, records)
        atomic_write_json(result_file, result)
    workers.wait()
    return result


def format_summary(results: dict[str, dict], english: float | None) -> str:
    lines = [f"{'language':<10}{'accuracy':>10}{'gap to en':>11}{'n':>6}"]
    for lang, r in results.items():
        gap = f"{100 * (r['accuracy'] - english):+.1f}" if english is not None and lang != "en" else ""
        lines.append(f"{lang:<10}{100 * r['accuracy']:>10.1f}{gap:>11}{r['n']:>6}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, dict]:
    args = parse_args(argv)
    # English always: the variants build on it, the categories and the alignment check use it.
    needed = QUIZ_LANGUAGES if args.variant == "mixup" else ["en", *sorted(set(args.langs) - {"en"})]
    quiz = load_quiz(args.data, needed)  # validated before the model loads
    workers = Workers()
    backend, backend_info = make_backend(args, LABELS, workers)
    run_info = {"model": args.model, "arch": args.arch, **backend_info}
    out_dir = Path(args.save_dir) / (args.model_tag or model_tag(args.model)) / args.variant
    results = {lang: evaluate_language(backend, quiz, lang, args, out_dir, run_info, workers) for lang in args.langs}
    if workers.is_main:
        baseline = out_dir.parent / "none" / "result_en.json"  # the gap of a variant is to plain English
        english = results["en"]["accuracy"] if "en" in results else (
            json.loads(baseline.read_text())["accuracy"] if baseline.exists() else None)
        summary = format_summary(results, english)
        if args.variant == "none":
            atomic_write_json(out_dir / "summary.json", {lang: r["accuracy"] for lang, r in results.items()})
        print(f"{out_dir} (accuracy %)\n{summary}")
        if args.data == str(DEMO_QUIZ):
            print("Note: the demo quiz is 30 questions written by this project, not the paper's quiz.")
    return results


if __name__ == "__main__":
    main()
