"""Crosslingual MMLU evaluation: English and every translated variant with one model load.

With no arguments: the embedded SmolLM2-135M-Instruct on the bundled demo slice, in English and
every crosslingual variant, then the table. (A pipeline check: a 135M model is near chance on
MMLU, so those numbers say nothing about knowledge.)

Paper-style single configuration:
    python MMLU/eval.py --model meta-llama/Meta-Llama-3-8B --ntrain 0 --config full_fr \\
        --test_trans_lan full_fr --data_dir MMLU/data/full
A whole sweep with one model load:
    python MMLU/eval.py --model meta-llama/Meta-Llama-3-8B --ntrain 5 --configs all --demos same en
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crossknow.backends import (  # noqa: E402
    DEFAULT_MODEL,
    add_model_arguments,
    check_model_arguments,
    make_backend,
    model_tag,
)
from crossknow.evaluate import (  # noqa: E402
    Settings,
    Workers,
    expand_configs,
    load_config_data,
    make_config,
    run_config,
)
from crossknow.languages import add_languages_argument  # noqa: E402
from crossknow.mmlu import open_source  # noqa: E402
from crossknow.prompts import LABEL_SETS  # noqa: E402
from crossknow.report import format_table, load_results  # noqa: E402

DEMO_DATA = Path(__file__).resolve().parent / "data" / "demo"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(p)
    p.add_argument("--ntrain", "-k", type=int, default=0, help="number of demonstrations from dev")
    p.add_argument("--data_dir", "-d", default=str(DEMO_DATA),
                   help="folder in the paper's layout (dev, test, test_full_fr, ...) or a hub dataset")
    p.add_argument("--save_dir", "-s", default="results")
    p.add_argument("--config", "-c", default=None, help="result name of a single configuration")
    p.add_argument("--test_trans_lan", default=None,
                   help="test variant of a single configuration: '' (English), full_fr, mixup, ...")
    p.add_argument("--dev_trans_lan", default=None, help="demo variant of a single configuration")
    p.add_argument("--configs", nargs="+", default=None,
                   help="test variants to run with one model load; 'all' is the paper's sweep")
    p.add_argument("--demos", nargs="+", default=["same"], choices=["same", "en"],
                   help="with --configs and k>0: demos from the same variant and/or English")
    add_languages_argument(p, help="languages 'all' expands to")
    p.add_argument("--subjects", nargs="+", default=None, help="default: every subject in the data")
    p.add_argument("--limit", type=int, default=None, help="first N test questions per subject")
    p.add_argument("--interv_prompt_id", type=int, default=-1, choices=[-1, 0, 1, 2])
    p.add_argument("--infer_mode", default="logits", choices=["logits", "generation"])
    p.add_argument("--max_token", type=int, default=32, help="new tokens in generation mode")
    p.add_argument("--do_sample", action="store_true", help="sample in generation mode (the paper did)")
    p.add_argument("--answer_token", default="paper", choices=["paper", "space"],
                   help="letter token convention that decides predictions (both are recorded)")
    p.add_argument("--labels", default="ABCD", choices=sorted(LABEL_SETS), help="option labels")
    p.add_argument("--model_tag", default=None, help="name of the results folder (default: from --model)")
    p.add_argument("--overwrite", action="store_true", help="recompute finished configurations")
    args = p.parse_args(argv)
    check_model_arguments(p, args)
    if args.configs and (args.config or args.test_trans_lan is not None):
        p.error("use either --configs or the single-configuration flags --config/--test_trans_lan")
    return args


def build_configs(args: argparse.Namespace):
    if args.configs is None and (args.config or args.test_trans_lan is not None):
        # As in the paper, the demos are English unless --dev_trans_lan names a variant.
        config = make_config(args.test_trans_lan or "", args.dev_trans_lan or "en", name=args.config)
        configs = [config]
    else:
        demos = args.demos if args.ntrain > 0 else ["same"]
        configs = expand_configs(args.configs or ["all"], args.languages, demos)
    if args.infer_mode == "generation" and not args.model.startswith("openai/"):
        configs = [type(c)(c.name + "_token", c.test_variant, c.dev_variant) for c in configs]
    return configs


def main(argv: list[str] | None = None) -> dict[str, dict]:
    args = parse_args(argv)
    source = open_source(args.data_dir)
    subjects = args.subjects or source.subjects("test", "")
    if not subjects:
        raise SystemExit(f"{args.data_dir}: no test subjects found")
    settings = Settings(k=args.ntrain, interv_prompt_id=args.interv_prompt_id, infer_mode=args.infer_mode,
                        answer_token=args.answer_token, labels=LABEL_SETS[args.labels],
                        max_token=args.max_token, do_sample=args.do_sample, seed=args.seed,
                        limit=args.limit, subjects=subjects)
    configs = build_configs(args)
    # Read and validate every input file before loading the model.
    data = {c.name: load_config_data(source, c, settings) for c in configs}

    prefix = Path(args.save_dir) / f"{args.model_tag or model_tag(args.model)}_{args.ntrain}shot"
    if args.interv_prompt_id != -1:
        prefix = prefix.with_name(prefix.name + f"_interv{args.interv_prompt_id}")
    workers = Workers()
    backend, backend_info = make_backend(args, LABEL_SETS[args.labels], workers)
    run_info = {"model": args.model, "arch": args.arch, "dtype": args.dtype, **backend_info}
    results = {}
    for config in configs:
        results[config.name] = run_config(backend, source, config, settings, prefix, run_info,
                                          overwrite=args.overwrite, data=data[config.name], workers=workers)
    if not workers.is_main:
        return results
    print(format_table(load_results(prefix), title=f"{prefix} (weighted accuracy %, gap to English)"))
    if args.model == DEFAULT_MODEL:
        print("Note: SmolLM2-135M is near chance on MMLU; these numbers check the pipeline, "
              "they do not measure knowledge.")
    return results


if __name__ == "__main__":
    main()
