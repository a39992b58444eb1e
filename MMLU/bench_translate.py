"""Translation throughput: the batched Hugging Face backend against one string at a time.

Same model, same strings, greedy decoding; checks that both give the same translations and prints
strings per second and the ratio.

    python MMLU/bench_translate.py                       # SmolLM2 as a causal-LM translator, en->fr
    python MMLU/bench_translate.py --translator hf --model facebook/nllb-200-distilled-600M
"""

from __future__ import annotations

import argparse
import time

from crossknow.core.cli import add_batch_size_argument, add_model_argument, language_code, positive_int, run
from crossknow.data.flores import load_flores
from crossknow.models.translation import make_translator


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--translator", default="llm", choices=["llm", "hf"])
    add_model_argument(p, None)
    p.add_argument("--src", default="en", type=language_code)
    p.add_argument("--tgt", default="fr", type=language_code)
    p.add_argument("--limit", "--num_examples", "-n", dest="limit", type=positive_int, default=32,
                   help="number of FLoRes sentences")
    add_batch_size_argument(p, 16)
    p.add_argument("--max_new_tokens", type=positive_int, default=96)
    args = p.parse_args(argv)

    texts = load_flores(args.src, limit=args.limit)
    translator = make_translator(args.translator, args.model, args.max_new_tokens)
    translator.translate_batch(texts[:2], args.src, args.tgt)  # warm-up
    timings, outputs = {}, {}
    for name, size in (("one at a time", 1), (f"batched ({args.batch_size})", args.batch_size)):
        start = time.perf_counter()
        outputs[name] = [o for i in range(0, len(texts), size)
                         for o in translator.translate_batch(texts[i:i + size], args.src, args.tgt)]
        timings[name] = time.perf_counter() - start
    single, batched = outputs.values()
    same = sum(a == b for a, b in zip(single, batched))
    print(f"\n{translator.name}:{translator.model} {args.src}->{args.tgt}, {len(texts)} FLoRes sentences, "
          f"greedy, max_new_tokens={args.max_new_tokens}; identical outputs: {same}/{len(texts)}")
    base = len(texts) / timings["one at a time"]
    for name, seconds in timings.items():
        print(f"{name:<16}{len(texts) / seconds:8.2f} strings/s {len(texts) / seconds / base:6.2f}x")


if __name__ == "__main__":
    run(main)
