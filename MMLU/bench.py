"""Benchmark letter scoring: the paper's method against the engine, same model and questions.

Methods (each in its own process, so peak memory is its own):
- ``paper``: one question at a time, full-sequence logits (``model(ids).logits[0, -1]``);
- ``engine_full``: the batched engine (length-sorted, left-padded, last-position logits only)
  scoring whole prompts;
- ``engine``: the same with shared-prefix reuse (each subject's header and demonstrations run once;
  the questions run packed in one row, attending to the single stored prefix);
- ``engine_cache`` (not run unless named): prefix reuse through the fallback path, the prefix's
  key/value cache copied once per question of a batch.

Checks that every method predicts the same letters (and probabilities to 1e-4 in fp32), then
prints questions per second, the ratio to the paper's method, the tokens each method runs per
question, tokens per second, model TFLOP/s and MFU (``crossknow/models/throughput.py`` has the formula and
the table of peaks), warm-up time (apart from the timed run) and peak memory.

    python MMLU/bench.py                       # SmolLM2-135M, 0-shot, demo slice
    python MMLU/bench.py --model meta-llama/Meta-Llama-3-8B --dtype fp16 --batch_size 32
    python MMLU/bench.py --full_set --data_dir DIR -k 5 --dtype fp16   # the engine over every subject
    python MMLU/bench.py --dtype fp32 bf16 --methods engine            # CPU bf16 beside fp32, agreement
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time
from pathlib import Path

from crossknow.core.answers import LABELS
from crossknow.core.cli import (
    add_batch_size_argument,
    add_device_argument,
    add_limit_argument,
    add_model_argument,
    data_location,
    non_negative_int,
    positive_float,
    positive_int,
    run,
)
from crossknow.core.model_spec import DEFAULT_MODEL

DEMO_DATA = Path(__file__).resolve().parent / "data" / "demo"


def build_prompts(args):
    from crossknow.data.mmlu import open_source
    from crossknow.tasks.mmlu import Settings, load_config_data, make_config, subject_prompts

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


def random_model(args, dtype: str):
    """A randomly initialised model of a real architecture with ``--model``'s tokenizer.

    For throughput only: the predictions mean nothing. The vocabulary is the architecture's (the
    tokenizer uses a subset of it), so the lm-head costs what the real model's does.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from crossknow.core.model_spec import ModelSpec
    from crossknow.models.hf_backend import default_device, load_tokenizer, resolve_dtype

    device = args.device or default_device()
    tokenizer = load_tokenizer(ModelSpec.parse(args.model))
    config = LlamaConfig(**ARCHITECTURES[args.random_init], max_position_embeddings=8192,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(config).to(resolve_dtype(dtype, device)).eval()
    return model, tokenizer


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_method(method: str, dtype: str, args, queue) -> None:
    import torch
    from tqdm import tqdm

    from crossknow.core.model_spec import ModelSpec
    from crossknow.models.hf_backend import HFBackend, load_model
    from crossknow.models.model_api import letter_token_ids
    from crossknow.models.throughput import Forward, dtype_name, forward_flops, model_shape

    torch.set_num_threads(args.threads or torch.get_num_threads())
    if args.random_init:
        model, tokenizer = random_model(args, dtype)
    else:
        model, tokenizer = load_model(ModelSpec.parse(args.model), dtype=dtype, device=args.device)
    groups = build_prompts(args)
    prompts = [p for g in groups for p in g]
    cuda = next(model.parameters()).is_cuda
    ids = letter_token_ids(tokenizer, LABELS, "paper")
    lengths = [len(tokenizer(p.text).input_ids) for p in prompts]
    tokens = sum(lengths)
    forwards: list = []  # what the timed run computes, for the FLOP count

    def paper(groups):
        out = []
        for p in (p for g in groups for p in g):
            input_ids = tokenizer(p.text, return_tensors="pt").input_ids.to(model.device)
            with torch.no_grad():
                logits = model(input_ids=input_ids).logits[0, -1]
            out.append(torch.softmax(logits[ids].float(), dim=0).tolist())
        forwards[:] = [Forward(n, 0, logit_positions=n) for n in lengths]  # full logits at every position
        return out

    def engine(groups):
        batch_size = args.batch_size if args.batch_size == "auto" else int(args.batch_size)
        attention = "packed" if method == "engine" else "batched_cache"
        backend = HFBackend(model, tokenizer, batch_size, prefix_cache=method != "engine_full", attention=attention,
                            show_progress=not args.full_set, max_batch_tokens=args.max_batch_tokens)
        overall = tqdm(groups, desc=f"{method} (subjects x configs)", disable=not args.full_set or len(groups) < 3)
        scores = [backend.score_letters(g, LABELS, desc=method) for g in overall]
        # Each group's shared prefix runs once, then every question's own tokens after it.
        reused = [s.reused_prefix_tokens for g in scores for s in g]
        prefixes = [Forward(max(s.reused_prefix_tokens for s in g), 0) for g in scores]
        forwards[:] = [f for f in prefixes if f.tokens] + [Forward(n - r, r) for n, r in zip(lengths, reused)]
        return [s.probs["paper"] for g in scores for s in g]

    step = paper if method == "paper" else engine
    warmup_start = time.perf_counter()
    step([prompts[: args.warmup_questions]])  # warm-up: kernels, allocator, the batch-size search
    if cuda:
        torch.cuda.synchronize()
    warmup_seconds = time.perf_counter() - warmup_start
    load_rss = rss_mb()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    profiler = profile_context(args, cuda)
    with profiler:
        start = time.perf_counter()
        probs = step(groups)
        if cuda:
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
    shape = model_shape(model)
    tokens_run = sum(f.tokens for f in forwards)
    queue.put({"method": method, "dtype": dtype_name(next(model.parameters()).dtype), "probs": probs,
               "seconds": elapsed, "warmup_seconds": warmup_seconds, "questions": len(prompts),
               "tokens_per_question": tokens / len(prompts), "tokens_run_per_question": tokens_run / len(prompts),
               "tokens_run": tokens_run, "flops": forward_flops(shape, forwards),
               "non_embedding_params": shape.non_embedding_params,
               "device_name": torch.cuda.get_device_name() if cuda else "cpu",
               "profile": profile_report(profiler, elapsed, cuda, args, method, dtype),
               "peak_rss_mb": rss_mb(),
               "rss_before_timing_mb": load_rss,
               "cuda_peak_mb": torch.cuda.max_memory_allocated() / 2**20 if cuda else None})


def profile_context(args, cuda: bool):
    """A ``torch.profiler`` around the timed run with ``--profile``, else a context that does nothing."""
    import contextlib

    if not args.profile:
        return contextlib.nullcontext()
    from torch.profiler import ProfilerActivity, profile

    return profile(activities=[ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else []))


def profile_report(profiler, wall_seconds: float, cuda: bool, args, method: str, dtype: str) -> dict | None:
    """The profile's summary by kind of work; its top operators go to ``--profile``/profile_{method}_{dtype}.txt."""
    if not args.profile:
        return None
    from crossknow.core.io import atomic_write_text
    from crossknow.models.throughput import profile_summary

    events = profiler.key_averages()
    sort_by = "self_device_time_total" if cuda else "self_cpu_time_total"
    Path(args.profile).mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(args.profile) / f"profile_{method}_{dtype}.txt", events.table(sort_by=sort_by, row_limit=30))
    return profile_summary(events, wall_seconds, cuda)


def measure(method: str, dtype: str, args) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=run_method, args=(method, dtype, args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def statistics_row(runs: list[dict]) -> dict:
    """One method's row over repeated rounds: the run of median time, every time kept."""
    median = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    return {**median, "all_seconds": [r["seconds"] for r in runs]}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_argument(p, DEFAULT_MODEL)
    p.add_argument("--data_dir", default=str(DEMO_DATA), type=data_location)
    p.add_argument("--variants", "--configs", dest="configs", nargs="+", default=["en", "full_fr", "mixup"])
    p.add_argument("--subjects", nargs="+", default=None)
    p.add_argument("-k", type=non_negative_int, default=0)
    add_limit_argument(p, "first N test questions per subject")
    p.add_argument("--full_set", action="store_true",
                   help="every subject of --data_dir, every question (no --limit), the engine only unless "
                        "--methods says otherwise, one overall progress bar")
    p.add_argument("--methods", nargs="+", default=None, choices=list(METHODS),
                   help="default: paper engine_full engine (engine with --full_set)")
    add_batch_size_argument(p, "auto")
    p.add_argument("--dtype", nargs="+", default=["auto"], type=dtype_argument,
                   help="one or more of auto fp32 fp16 bf16: each method runs in each, compared with the first")
    p.add_argument("--max_batch_tokens", type=positive_int, default=None,
                   help="also cap each engine batch at this many tokens (rows x longest prompt of the batch)")
    add_device_argument(p)
    p.add_argument("--threads", type=positive_int, default=None)
    p.add_argument("--repeats", type=positive_int, default=1,
                   help="rounds of all methods in turn; each method's median time is reported")
    p.add_argument("--warmup_questions", type=positive_int, default=2,
                   help="questions scored before the timed run (timed apart, never counted)")
    p.add_argument("--random_init", choices=sorted(ARCHITECTURES), default=None,
                   help="time a randomly initialised model of this architecture (tokenizer from --model)")
    p.add_argument("--peak_tflops", type=positive_float, default=None,
                   help="the device's dense peak for MFU (default: the table in crossknow/models/throughput.py on a "
                        "GPU, a timed matrix product on a CPU)")
    p.add_argument("--profile", default=None, metavar="DIR",
                   help="profile the timed run with torch.profiler: a summary by kind of work is printed, "
                        "the top operators written to DIR")
    p.add_argument("--output_json", default=None, metavar="FILE", help="write the rows (without probabilities)")
    args = p.parse_args(argv)
    if args.full_set:
        if args.limit is not None or args.subjects:
            p.error("--full_set scores every question of every subject: drop --limit and --subjects")
        args.methods = args.methods or ["engine"]
    args.methods = args.methods or ["paper", "engine_full", "engine"]
    return args


METHODS = ("paper", "engine_full", "engine_cache", "engine")


def dtype_argument(value: str) -> str:
    from crossknow.models.hf_backend import DTYPES

    if value != "auto" and value not in DTYPES:
        raise argparse.ArgumentTypeError(f"unknown dtype {value!r}; choose auto or one of {', '.join(DTYPES)}")
    return value


def peak_for(row: dict, args) -> tuple[str, float] | None:
    """(where the peak comes from, TFLOP/s) for a row's device and dtype, or None where unknown."""
    from crossknow.models.throughput import measured_matmul_tflops, table_peak_tflops

    if args.peak_tflops:
        return "--peak_tflops", args.peak_tflops
    if row["device_name"] != "cpu":
        found = table_peak_tflops(row["device_name"], row["dtype"])
        return (f"table: {found[0]} {row['dtype']} dense", found[1]) if found else None
    if row["dtype"] not in _MEASURED_PEAKS:
        from crossknow.models.hf_backend import DTYPES

        _MEASURED_PEAKS[row["dtype"]] = measured_matmul_tflops(DTYPES[row["dtype"]], "cpu")
    return f"measured: 2048x2048 {row['dtype']} matmul on this CPU", _MEASURED_PEAKS[row["dtype"]]


_MEASURED_PEAKS: dict[str, float] = {}


def check_agreement(rows: list[dict]) -> None:
    """Print each row's agreement with the first; in fp32 on both sides, any difference is fatal."""
    base = rows[0]
    for row in rows[1:]:
        diff = max(abs(a - b) for pa, pb in zip(base["probs"], row["probs"]) for a, b in zip(pa, pb))
        agree = sum(max(range(4), key=pa.__getitem__) == max(range(4), key=pb.__getitem__)
                    for pa, pb in zip(base["probs"], row["probs"]))
        print(f"{row['label']} vs {base['label']}: same prediction on {agree}/{len(base['probs'])} "
              f"questions; max prob diff {diff:.2e}")
        row["agreement_with_first"] = agree / len(base["probs"])
        if base["dtype"] == row["dtype"] == "fp32" and (agree < len(base["probs"]) or diff > 1e-4):
            raise SystemExit("methods disagree in fp32: the benchmark is invalid")


def print_table(rows: list[dict], args) -> None:
    print(f"\nmodel={args.random_init or args.model}{' (random init)' if args.random_init else ''} k={args.k} "
          f"questions={rows[0]['questions']} tokens/question={rows[0]['tokens_per_question']:.0f} "
          f"batch_size={args.batch_size}")
    print(f"{'method':<20}{'q/s':>9}{'vs first':>10}{'vs engine_full':>16}{'tokens run/q':>14}{'tokens/s':>10}"
          f"{'TFLOP/s':>10}{'MFU':>8}{'warm-up s':>11}{'peak RSS MB':>13}{'CUDA peak MB':>14}")
    speed = {row["label"]: row["questions"] / row["seconds"] for row in rows}
    full = {row["dtype"]: speed[row["label"]] for row in rows if row["method"] == "engine_full"}
    for row in rows:
        qps = speed[row["label"]]
        vs_full = f"{qps / full[row['dtype']]:.2f}x" if row["dtype"] in full else "-"
        cuda = f"{row['cuda_peak_mb']:.0f}" if row["cuda_peak_mb"] is not None else "-"
        mfu = f"{100 * row['mfu']:.1f}%" if row["mfu"] is not None else "-"
        print(f"{row['label']:<20}{qps:>9.2f}{qps / speed[rows[0]['label']]:>9.2f}x{vs_full:>16}"
              f"{row['tokens_run_per_question']:>14.0f}{row['tokens_per_second']:>10.0f}{row['tflops']:>10.3f}"
              f"{mfu:>8}{row['warmup_seconds']:>11.1f}{row['peak_rss_mb']:>13.0f}{cuda:>14}")
    from crossknow.models.throughput import FLOP_FORMULA

    print(f"FLOPs: {FLOP_FORMULA}; non-embedding params {rows[0]['non_embedding_params']:,}")
    for source in sorted({row["peak_source"] for row in rows if row["peak_source"]}):
        peaks = sorted({f"{r['dtype']} {r['peak_tflops']:.2f}" for r in rows if r["peak_source"] == source})
        print(f"peak TFLOP/s ({source}): {', '.join(peaks)}")
    if args.repeats > 1:
        print(f"median of {args.repeats} rounds; q/s in each round:")
        for row in rows:
            print(f"  {row['label']:<20}" + " ".join(f"{row['questions'] / t:.2f}" for t in row["all_seconds"]))
    for row in rows:
        if row["profile"]:
            shares = ", ".join(f"{k} {100 * v:.0f}%" for k, v in sorted(row["profile"]["share_by_kind"].items()))
            idle = row["profile"]["idle_share"]
            print(f"profile {row['label']} ({row['profile']['time_measured']}): {shares}"
                  + (f"; device idle {100 * idle:.0f}% of the wall clock" if idle is not None else ""))


def add_rates(row: dict, args) -> dict:
    peak = peak_for(row, args)
    row["tokens_per_second"] = row["tokens_run"] / row["seconds"]
    row["tflops"] = row["flops"] / row["seconds"] / 1e12
    row["peak_source"], row["peak_tflops"] = peak if peak else (None, None)
    row["mfu"] = row["tflops"] / row["peak_tflops"] if peak else None
    return row


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    runs = [(m, d) for d in args.dtype for m in args.methods]
    # Rounds of all methods in turn, so a slow spell of a shared machine hits every method alike.
    rounds = [[measure(m, d, args) for m, d in runs] for _ in range(args.repeats)]
    rows = [statistics_row([r[i] for r in rounds]) for i in range(len(runs))]
    for row in rows:
        row["label"] = row["method"] if len(args.dtype) == 1 else f"{row['method']}/{row['dtype']}"
        add_rates(row, args)
    check_agreement(rows)
    print_table(rows, args)
    if args.output_json:
        from crossknow.core.io import atomic_write_json

        atomic_write_json(args.output_json, {"settings": {k: v for k, v in vars(args).items()},
                                             "rows": [{k: v for k, v in r.items() if k != "probs"} for r in rows]})
    return rows


if __name__ == "__main__":
    run(main)
