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

from crossknow.evaluate import (  # noqa: E402
    Settings,
    Workers,
    expand_configs,
    load_config_data,
    make_config,
    run_config,
)
from crossknow.languages import PAPER_LANGUAGES  # noqa: E402
from crossknow.mmlu import open_source  # noqa: E402
from crossknow.prompts import LABEL_SETS  # noqa: E402
from crossknow.report import format_table, load_results  # noqa: E402

DEMO_DATA = Path(__file__).resolve().parent / "data" / "demo"
DEFAULT_MODEL = "smollm2"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", "-m", default=DEFAULT_MODEL,
                   help="hub name, local folder, .gguf file, openai/<name>, or smollm2 (embedded default)")
    p.add_argument("--arch", default=None, help="model whose tokenizer to use (fine-tuned checkpoints)")
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
    p.add_argument("--languages", nargs="+", default=PAPER_LANGUAGES, help="languages 'all' expands to")
    p.add_argument("--subjects", nargs="+", default=None, help="default: every subject in the data")
    p.add_argument("--limit", type=int, default=None, help="first N test questions per subject")
    p.add_argument("--interv_prompt_id", type=int, default=-1, choices=[-1, 0, 1, 2])
    p.add_argument("--infer_mode", default="logits", choices=["logits", "generation"])
    p.add_argument("--max_token", type=int, default=32, help="new tokens in generation mode")
    p.add_argument("--do_sample", action="store_true", help="sample in generation mode (the paper did)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--answer_token", default="paper", choices=["paper", "space"],
                   help="letter token convention that decides predictions (both are recorded)")
    p.add_argument("--labels", default="ABCD", choices=sorted(LABEL_SETS), help="option labels")
    p.add_argument("--batch_size", default="auto", help="N or auto (largest that fits, backs off on OOM)")
    p.add_argument("--backend", default="hf", choices=["hf", "vllm"],
                   help="hf (transformers) or vllm (optional dependency, GPU); openai/ models use the API")
    p.add_argument("--tensor_parallel_size", type=int, default=1, help="GPUs per model with --backend vllm")
    p.add_argument("--no_prefix_cache", action="store_true",
                   help="score whole prompts instead of reusing each subject's shared-prefix KV cache")
    p.add_argument("--dtype", default="auto", help="auto (fp16 on GPU, fp32 on CPU), fp32, fp16, bf16")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--api_base", default=None, help="base URL of an OpenAI-compatible API")
    p.add_argument("--model_tag", default=None, help="name of the results folder (default: from --model)")
    p.add_argument("--overwrite", action="store_true", help="recompute finished configurations")
    args = p.parse_args(argv)
    if args.batch_size != "auto" and not args.batch_size.isdigit():
        p.error(f"--batch_size must be a positive integer or auto, got {args.batch_size!r}")
    if args.configs and (args.config or args.test_trans_lan is not None):
        p.error("use either --configs or the single-configuration flags --config/--test_trans_lan")
    return args


def model_tag(model: str) -> str:
    if model == DEFAULT_MODEL:
        return "SmolLM2-135M-Instruct"
    path = Path(model)
    if path.exists():
        return path.name.removesuffix(".gguf")
    return model.removeprefix("openai/") if model.startswith("openai/") else model


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


def make_backend(args: argparse.Namespace, workers: Workers):
    """The backend and what the results' config block records about it."""
    if args.model.startswith("openai/"):
        from crossknow.openai_backend import OpenAIChatBackend

        max_tokens = args.max_token if args.infer_mode == "generation" else 1
        backend = OpenAIChatBackend(args.model, max_tokens=max_tokens, base_url=args.api_base)
        return backend, {"backend": "openai", **backend.settings()}
    from crossknow.hf_backend import HFBackend, default_device, letter_token_ids, load_model

    labels = LABEL_SETS[args.labels]
    if args.backend == "vllm":
        from crossknow.vllm_backend import VLLMBackend

        backend = VLLMBackend(args.model, args.arch, args.dtype, args.tensor_parallel_size, seed=args.seed)
        return backend, {
            "backend": "vllm", "tensor_parallel_size": args.tensor_parallel_size, "prefix_cache": True,
            "answer_token_ids": {c: letter_token_ids(backend.tokenizer, labels, c) for c in ("paper", "space")},
        }
    device = workers.device or args.device or default_device()
    model, tokenizer = load_model(args.model, args.arch, args.dtype, device)
    backend = HFBackend(model, tokenizer, args.batch_size, prefix_cache=not args.no_prefix_cache)
    backend.show_progress = workers.is_main
    return backend, {
        "backend": "hf", "device": device, "dtype": str(model.dtype).removeprefix("torch."),
        "batch_size": args.batch_size, "prefix_cache": not args.no_prefix_cache,
        "answer_token_ids": {c: letter_token_ids(tokenizer, labels, c) for c in ("paper", "space")},
    }


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
    backend, backend_info = make_backend(args, workers)
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
