"""Benchmark letter scoring: the paper's method against the engine, same model and questions.

Methods (each in its own process, so peak memory is its own):
- ``paper``: one question at a time, full-sequence logits (``model(ids).logits[0, -1]``);
- ``engine_full``: the batched engine (length-sorted, left-padded, last-position logits only)
  scoring whole prompts;
- ``engine``: the same with shared-prefix reuse (each subject's header and demonstrations run once;
  the questions run packed in one row, attending to the single stored prefix);
- ``engine_cache`` (not run unless named): prefix reuse through the fallback path, the prefix's
  key/value cache copied once per question of a batch.

Checks that every method predicts the same letters (and probabilities to 1e-4), then prints
questions per second, the ratio to the paper's method, the tokens each method runs per question
and peak memory.

    python MMLU/bench.py                       # SmolLM2-135M, 0-shot, demo slice
    python MMLU/bench.py --model meta-llama/Meta-Llama-3-8B --dtype fp16 --batch_size 32
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crossknow.cli import (  # noqa: E402
    add_limit_argument,
    batch_size,
    data_location,
    model_name,
    non_negative_int,
    positive_int,
    run,
)
from crossknow.model_spec import DEFAULT_MODEL  # noqa: E402

DEMO_DATA = Path(__file__).resolve().parent / "data" / "demo"
LABELS = ("A", "B", "C", "D")


def build_prompts(args):
    from crossknow.evaluate import Settings, load_config_data, make_config, subject_prompts
    from crossknow.mmlu import open_source

    source = open_source(args.data_dir)
    subjects = args.subjects or source.subjects("test")
    settings = Settings(k=args.k, subjects=subjects, limit=args.limit)
    groups = []  # one per configuration and subject, as MMLU/eval.py scores them
    for variant in args.configs:
        data = load_config_data(source, make_config(variant), settings)
        groups += [subject_prompts(s, d, settings) for s, d in data.items()]
    return groups


# Shapes of real models, for timing an architecture without its weights (--random_init).
ARCHITECTURES = {
    "llama3-8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                      num_key_value_heads=8, vocab_size=128256, rope_theta=500000.0),
    "llama2-7b": dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                      num_key_value_heads=32, vocab_size=32000),
    "llama3.2-1b": dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
                        num_key_value_heads=8, vocab_size=128256, rope_theta=500000.0),
}


def random_model(args):
    """A randomly initialised model of a real architecture with ``--model``'s tokenizer.

    For throughput only: the predictions mean nothing. The vocabulary is the architecture's (the
    tokenizer uses a subset of it), so the lm-head costs what the real model's does.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from crossknow.hf_backend import default_device, load_tokenizer, resolve_dtype

    device = args.device or default_device()
    tokenizer = load_tokenizer(args.model)
    config = LlamaConfig(**ARCHITECTURES[args.random_init], max_position_embeddings=8192,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    dtype = resolve_dtype(args.dtype, device)
    with torch.device(device):
        model = LlamaForCausalLM(config).to(dtype).eval()
    return model, tokenizer


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_method(method: str, args, queue) -> None:
    import torch

    from crossknow.hf_backend import HFBackend, load_model
    from crossknow.model_api import letter_token_ids

    torch.set_num_threads(args.threads or torch.get_num_threads())
    if args.random_init:
        model, tokenizer = random_model(args)
    else:
        model, tokenizer = load_model(args.model, dtype=args.dtype, device=args.device)
    groups = build_prompts(args)
    prompts = [p for g in groups for p in g]
    cuda = next(model.parameters()).is_cuda
    ids = letter_token_ids(tokenizer, LABELS, "paper")
    tokens = sum(len(tokenizer(p.text).input_ids) for p in prompts)

    def paper(groups):
        out = []
        for p in (p for g in groups for p in g):
            input_ids = tokenizer(p.text, return_tensors="pt").input_ids.to(model.device)
            with torch.no_grad():
                logits = model(input_ids=input_ids).logits[0, -1]
            out.append(torch.softmax(logits[ids].float(), dim=0).tolist())
        return out

    tokens_run = [tokens]

    def engine(groups):
        batch_size = args.batch_size if args.batch_size == "auto" else int(args.batch_size)
        attention = "packed" if method == "engine" else "batched_cache"
        backend = HFBackend(model, tokenizer, batch_size, prefix_cache=method != "engine_full", attention=attention)
        scores = [backend.score_letters(g, LABELS, desc=method) for g in groups]
        # Each group's shared prefix runs once, then every question's own tokens.
        tokens_run[0] = tokens - sum(s.reused_prefix_tokens for g in scores for s in g) + sum(
            max(s.reused_prefix_tokens for s in g) for g in scores)
        return [s.probs["paper"] for g in scores for s in g]

    step = paper if method == "paper" else engine
    step([prompts[:2]])  # warm-up
    load_rss = rss_mb()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    probs = step(groups)
    if cuda:
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    queue.put({"method": method, "probs": probs, "seconds": elapsed, "questions": len(prompts),
               "tokens_per_question": tokens / len(prompts), "tokens_run_per_question": tokens_run[0] / len(prompts),
               "peak_rss_mb": rss_mb(),
               "rss_before_timing_mb": load_rss,
               "cuda_peak_mb": torch.cuda.max_memory_allocated() / 2**20 if cuda else None})


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def measure(method: str, args) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=run_method, args=(method, args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def statistics_row(runs: list[dict]) -> dict:
    """One method's row over repeated rounds: the run of median time, every time kept."""
    median = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    return {**median, "all_seconds": [r["seconds"] for r in runs]}


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=DEFAULT_MODEL, type=model_name)
    p.add_argument("--data_dir", default=str(DEMO_DATA), type=data_location)
    p.add_argument("--variants", "--configs", dest="configs", nargs="+", default=["en", "full_fr", "mixup"])
    p.add_argument("--subjects", nargs="+", default=None)
    p.add_argument("-k", type=non_negative_int, default=0)
    add_limit_argument(p, "first N test questions per subject")
    p.add_argument("--methods", nargs="+", default=["paper", "engine_full", "engine"],
                   choices=["paper", "engine_full", "engine_cache", "engine"])
    p.add_argument("--batch_size", default="auto", type=batch_size)
    p.add_argument("--dtype", default="auto")
    p.add_argument("--device", default=None)
    p.add_argument("--threads", type=positive_int, default=None)
    p.add_argument("--repeats", type=positive_int, default=1,
                   help="rounds of all methods in turn; each method's median time is reported")
    p.add_argument("--random_init", choices=sorted(ARCHITECTURES), default=None,
                   help="time a randomly initialised model of this architecture (tokenizer from --model)")
    args = p.parse_args(argv)

    # Rounds of all methods in turn, so a slow spell of a shared machine hits every method alike.
    rounds = [[measure(m, args) for m in args.methods] for _ in range(args.repeats)]
    rows = [statistics_row([r[i] for r in rounds]) for i in range(len(args.methods))]
    base = rows[0]
    exact = args.dtype in ("fp32", "float32") or (args.dtype == "auto" and args.device in (None, "cpu")
                                                  and not _cuda_available())
    for row in rows[1:]:
        diff = max(abs(a - b) for pa, pb in zip(base["probs"], row["probs"]) for a, b in zip(pa, pb))
        agree = sum(max(range(4), key=pa.__getitem__) == max(range(4), key=pb.__getitem__)
                    for pa, pb in zip(base["probs"], row["probs"]))
        print(f"{row['method']} vs {base['method']}: same prediction on {agree}/{len(base['probs'])} "
              f"questions; max prob diff {diff:.2e}")
        if exact and (agree < len(base["probs"]) or diff > 1e-4):
            raise SystemExit("methods disagree in fp32: the benchmark is invalid")
    print(f"\nmodel={args.random_init or args.model}{' (random init)' if args.random_init else ''} k={args.k} questions={base['questions']} "
          f"tokens/question={base['tokens_per_question']:.0f} batch_size={args.batch_size}")
    print(f"{'method':<14}{'q/s':>9}{'vs paper':>10}{'vs engine_full':>16}{'tokens run/q':>14}"
          f"{'peak RSS MB':>13}{'CUDA peak MB':>14}")
    speed = {row["method"]: row["questions"] / row["seconds"] for row in rows}
    for row in rows:
        qps = speed[row["method"]]
        vs_full = f"{qps / speed['engine_full']:.2f}x" if "engine_full" in speed else "-"
        cuda = f"{row['cuda_peak_mb']:.0f}" if row["cuda_peak_mb"] is not None else "-"
        print(f"{row['method']:<14}{qps:>9.2f}{qps / speed[base['method']]:>9.2f}x{vs_full:>16}"
              f"{row['tokens_run_per_question']:>14.0f}{row['peak_rss_mb']:>13.0f}{cuda:>14}")
    if args.repeats > 1:
        print(f"median of {args.repeats} rounds; q/s in each round:")
        for row in rows:
            print(f"  {row['method']:<14}" + " ".join(f"{row['questions'] / t:.2f}" for t in row["all_seconds"]))
    return rows


if __name__ == "__main__":
    run(main)
