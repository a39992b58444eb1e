"""Crosslingual MMLU evaluation: English and every translated variant with one model load.

With no arguments: the embedded SmolLM2-135M-Instruct on the bundled demo slice, in English and
every crosslingual variant, then the table. (A pipeline check: a 135M model is near chance on
MMLU, so those numbers say nothing about knowledge.)

Paper-style single configuration:
    python MMLU/eval.py --model meta-llama/Meta-Llama-3-8B --ntrain 0 --config full_fr \\
        --test_trans_lan full_fr --data_dir MMLU/data/full
A whole sweep with one model load:
    python MMLU/eval.py --model meta-llama/Meta-Llama-3-8B --ntrain 5 --variants all --demos same en
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crossknow.analysis.report import format_run_table
from crossknow.core.answers import BLOCK_STOPS
from crossknow.core.cli import (
    add_data_argument,
    add_languages_argument,
    add_limit_argument,
    add_output_argument,
    add_overwrite_argument,
    check_limit,
    non_negative_int,
    positive_int,
    run,
)
from crossknow.core.languages import PAPER_LANGUAGES
from crossknow.core.results import SCHEMA_VERSION, write_result
from crossknow.data.mmlu import open_source
from crossknow.data.prompts import LABEL_SETS
from crossknow.models.backends import (
    add_model_arguments,
    backend_class,
    backend_options,
    check_model_arguments,
    make_backend,
)
from crossknow.models.chat import add_chat_argument, chat_format, check_chat_argument
from crossknow.models.model_api import UnsupportedOperation, require
from crossknow.runner import Scoring, SweepProgress, Workers
from crossknow.tasks import get_task

MMLU = get_task("mmlu")  # the task's data, prompts and summary (crossknow/tasks/mmlu.py)

# The bundled demo slice (data/demo, see README.md): this task owns it and passes it to the engine.
DEMO_DATA = Path(__file__).resolve().parent / "data" / "demo"
RESULTS = "results/mmlu"
# Generation presets: whether translate-then-answer samples. The paper's HF model class calls
# generate(do_sample=True) with the model's own temperature/top_p/top_k; greedy is the default
# because it gives one answer per question, so a rerun reproduces the numbers (MMLU/README.md).
GENERATION_PRESETS = {"greedy": False, "paper": True}
# --quick: the same sweep and table on the first QUICK_LIMIT questions per subject, in its own folder
# (a result is served only under its own settings, so a quick run never mixes with a full one).
QUICK_LIMIT = 1
QUICK_RESULTS = "results/mmlu-quick"
RUN_SUMMARY = "run_summary.json"  # in the run's folder, rewritten by each run


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(p)
    p.add_argument("--ntrain", "-k", type=non_negative_int, default=0, help="number of demonstrations from dev")
    add_data_argument(p, str(DEMO_DATA), "folder in the paper's layout (dev, test, test_full_fr, ...) or a hub dataset")
    add_output_argument(p, RESULTS, "results go to {output_dir}/{model tag}_{k}shot[_interv{id}]")
    p.add_argument("--config", "-c", default=None, help="result name of a single configuration (the paper's flag)")
    p.add_argument("--test_trans_lan", default=None,
                   help="test variant of a single configuration: '' (English), full_fr, mixup, ...")
    p.add_argument("--dev_trans_lan", default=None, help="demo variant of a single configuration")
    p.add_argument("--variants", "--configs", dest="variants", nargs="+", default=None,
                   help="test variants to run with one model load; 'all' is the paper's sweep")
    p.add_argument("--demos", nargs="+", default=["same"], choices=["same", "en"],
                   help="with --variants and k>0: demos from the same variant and/or English")
    add_languages_argument(p, PAPER_LANGUAGES, "languages 'all' expands to")
    p.add_argument("--subjects", nargs="+", default=None, help="default: every subject in the data")
    add_limit_argument(p, "first N test questions per subject")
    p.add_argument("--quick", action="store_true",
                   help=f"a first table fast: --limit {QUICK_LIMIT}, results in {QUICK_RESULTS} unless --output_dir")
    p.add_argument("--interv_prompt_id", type=int, default=-1, choices=[-1, 0, 1, 2])
    p.add_argument("--infer_mode", default="logits", choices=["logits", "generation"],
                   help="logits: letter scores (open models); generation: parse the answer from free text")
    p.add_argument("--max_token", "--max_new_tokens", dest="max_token", type=positive_int, default=32,
                   help="new tokens in generation mode")
    p.add_argument("--do_sample", action="store_true", help="sample in generation mode (the paper did)")
    p.add_argument("--generation_preset", default="greedy", choices=sorted(GENERATION_PRESETS),
                   help="generation mode: greedy (default) or paper (sampled with the model's own generation "
                        "settings, seeded by --seed, as the paper's HF model class)")
    p.add_argument("--answer_token", default="paper", choices=["paper", "space"],
                   help="letter token convention that decides predictions (both are recorded)")
    p.add_argument("--labels", default="ABCD", choices=sorted(LABEL_SETS), help="option labels")
    add_chat_argument(p)
    add_overwrite_argument(p, "recompute finished configurations")
    p.add_argument("--truncate_demos", action="store_true",
                   help="a prompt longer than the model's context drops demonstrations until it fits (the original "
                        "MMLU scorer's rule; recorded per question and in the result); by default such a run is refused")
    args = p.parse_args(argv)
    args.spec = check_model_arguments(p, args)
    check_limit(p, args.limit)
    if args.quick:
        apply_quick(p, args)
    if args.variants and (args.config or args.test_trans_lan is not None):
        p.error("use either --variants (--configs) or the single-configuration flags --config/--test_trans_lan")
    check_chat_argument(p, args)
    capability = Scoring(infer_mode=args.infer_mode).capability
    try:
        require(backend_class(args.spec, args.backend), capability)
    except UnsupportedOperation as error:
        hint = " (the paper ran GPT models with --infer_mode generation --max_token 1)" if args.spec.is_api else ""
        p.error(f"--model {args.model} --infer_mode {args.infer_mode}: {error}{hint}")
    return args


def write_run_summary(path: Path, results: dict[str, dict], argv: list[str] | None) -> dict:
    """One JSON per run: every configuration it ran (computed or served from disk) and its result."""
    command = ["MMLU/eval.py", *(sys.argv[1:] if argv is None else argv)]
    summary = {"schema_version": SCHEMA_VERSION, "command": command, "configs": [
        {"name": name, "result": f"result_{name}.json", "n": r["n"], "weighted_accuracy": r["weighted_accuracy"],
         "ci95": r["ci95"], "fingerprint_sha256": r["config"]["fingerprint_sha256"]}
        for name, r in results.items()]}
    write_result(path, summary, "mmlu_run_summary")
    return summary


def apply_quick(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.limit is not None:
        p.error(f"--quick sets --limit {QUICK_LIMIT}: give one or the other")
    args.limit = QUICK_LIMIT
    if args.output_dir == RESULTS:
        args.output_dir = QUICK_RESULTS


def build_configs(args: argparse.Namespace):
    generation = args.infer_mode == "generation" and not args.spec.is_api
    if args.variants is None and (args.config or args.test_trans_lan is not None):
        # As in the paper, the demos are English unless --dev_trans_lan names a variant.
        return [MMLU.make_config(args.test_trans_lan or "", args.dev_trans_lan or "en", name=args.config,
                            generation=generation)]
    demos = args.demos if args.ntrain > 0 else ["same"]
    return MMLU.expand_configs(args.variants or ["all"], args.languages, demos, generation=generation)


def samples(args: argparse.Namespace) -> bool:
    """Whether generation samples: --do_sample, or the paper preset in generation mode (in letter
    mode it changes nothing, so a launcher may pass it to every configuration)."""
    return args.do_sample or (GENERATION_PRESETS[args.generation_preset] and args.infer_mode == "generation")


def main(argv: list[str] | None = None) -> dict[str, dict]:
    args = parse_args(argv)
    source = open_source(args.data_dir)
    subjects = args.subjects or source.subjects("test", "")
    if not subjects:
        raise SystemExit(f"{args.data_dir}: no test subjects found")
    settings = MMLU.Settings(k=args.ntrain, interv_prompt_id=args.interv_prompt_id, labels=LABEL_SETS[args.labels],
                        limit=args.limit, subjects=subjects, truncate_demos=args.truncate_demos,
                        model_args=args.model_args)
    # Generation stops where the model starts inventing the next block of the prompt: parse_answer
    # ignores everything from there on, so the stop saves time and changes no prediction.
    scoring = Scoring(infer_mode=args.infer_mode, labels=settings.labels, answer_token=args.answer_token,
                      max_new_tokens=args.max_token, do_sample=samples(args), seed=args.seed,
                      stop=BLOCK_STOPS if args.infer_mode == "generation" else None)
    configs = build_configs(args)
    # Read and validate every input file before loading the model.
    data = {c.name: MMLU.load_config_data(source, c, settings) for c in configs}
    settings.chat = chat_format(args)  # the tokenizer alone: a model without a template stops before loading

    prefix = Path(args.output_dir) / f"{args.spec.tag}_{args.ntrain}shot"
    if args.interv_prompt_id != -1:
        prefix = prefix.with_name(prefix.name + f"_interv{args.interv_prompt_id}")
    workers = Workers()
    backend = make_backend(args.spec, **backend_options(args, workers))
    questions = sum(len(d.test) for config_data in data.values() for d in config_data.values())
    progress = SweepProgress(len(configs), questions, enabled=workers.is_main)
    results = {}
    try:
        for config in configs:
            results[config.name] = MMLU.run_config(backend, source, config, data[config.name], settings, scoring,
                                              args.spec, prefix, args.overwrite, workers, progress)
    finally:
        progress.close()
    if not workers.is_main:
        return results
    write_run_summary(prefix / RUN_SUMMARY, results, argv)
    print(format_run_table(prefix, title=f"{prefix} (weighted accuracy %, difference to English, the language minus English "
                                                 "[paired 95% interval])"))
    if args.spec.is_default:
        print("Note: SmolLM2-135M is near chance on MMLU; these numbers check the pipeline, "
              "they do not measure knowledge.")
    return results


if __name__ == "__main__":
    run(main)
