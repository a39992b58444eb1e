"""The crosslingual knowledge barrier, and its mitigation, on knowledge we put in ourselves.

Teach a small model invented facts (people, their birth year, hometown, instrument and pet) by
fine-tuning on sentences (a) in English only and (b) each in a random language of en/fr/de/es/it,
with the same token budget; then quiz every arm, and the untouched base model, in each language,
in mixup, and on held-out people never trained on (a chance control). Writes results.json, a
table and a plot.

The quiz is each fact's 4-option question, scored the way small models can be: the model picks
the option whose statement it finds most likely (summed log-probability), the statement written
with a template held out of training, so that no arm has seen it verbatim. A 135M model does not
follow the letter-answer format of multiple-choice prompts after fine-tuning on plain sentences
(its letter choice stays a fixed bias), so letters would measure nothing here. In mixup, the
statement's template and its value are in two different languages.

    python Synthetic/experiment.py                          # SmolLM2-135M, ~15 minutes on 2 CPU cores
    python Synthetic/experiment.py --model gemma3-270m
    python Synthetic/experiment.py --quick --model PATH     # plumbing check (CI): tiny sizes
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import facts as F  # noqa: E402

from crossknow.cli import model_name, non_negative_int, positive_float, positive_int, run  # noqa: E402
from crossknow.io import atomic_write_json, atomic_write_text  # noqa: E402
from crossknow.results import bootstrap_interval, result_document  # noqa: E402

VARIANTS = [*F.LANGUAGES, "mixup"]
CHANCE = 0.25


def corpus(facts: list[F.Fact], arm: str, templates: int, seed: int) -> list[str]:
    """One line per (fact, template): English, or a language drawn per line (seeded per line)."""
    lines = []
    for fact in facts:
        for t in range(templates):
            lang = "en" if arm == "english" else random.Random(f"{seed}:{fact}:{t}").choice(F.LANGUAGES)
            lines.append(F.render_sentence(fact, lang, t))
    random.Random(f"shuffle:{seed}").shuffle(lines)
    return lines


def option_statements(question: F.Question, variant: str, template: int, seed: int, row: int) -> list[str]:
    """The question's four options as statements (held-out template) in one language, or in two
    languages (template, value) for mixup."""
    if variant == "mixup":
        template_lang, value_lang = random.Random(f"mixup:{seed}:{row}").sample(F.LANGUAGES, 2)
    else:
        template_lang = value_lang = variant
    fact = question.fact
    return [F.render_sentence(F.Fact(fact.person, fact.relation, value), template_lang, template, value_lang)
            for value in question.options]


def score(model_path: str, question_sets: dict, template: int, seed: int, batch_size: int) -> dict:
    from crossknow.hf_backend import HFBackend, load_model

    backend = HFBackend(*load_model(model_path, dtype="fp32", device="cpu"), batch_size=batch_size)
    out = {}
    for set_name, questions in question_sets.items():
        for variant in VARIANTS:
            statements = [s for row, q in enumerate(questions)
                          for s in option_statements(q, variant, template, seed, row)]
            logliks = backend.loglikelihood(statements, desc=f"{set_name} {variant}")
            correct = [max(range(4), key=lambda j, i=i: logliks[4 * i + j]) == q.answer
                       for i, q in enumerate(questions)]
            out.setdefault(set_name, {})[variant] = {"accuracy": sum(correct) / len(correct), "n": len(correct),
                                                     "ci95": bootstrap_interval(correct)}
    return out


def train_arm(args, arm: str, lines: list[str], max_steps: int) -> Path:
    from crossknow import finetuning

    arm_dir = Path(args.output_dir) / arm
    atomic_write_text(arm_dir / "train.txt", "\n".join(lines) + "\n")
    finetuning.main(["--model", args.model, "--train_file", str(arm_dir / "train.txt"), "--output_dir",
                   str(arm_dir / "model"), "--restart", "--block_size", str(args.block_size), "--batch_size",
                   str(args.batch_size), "--gradient_accumulation_steps", "1", "--lr", str(args.lr),
                   "--max_steps", str(max_steps), "--warmup_ratio", "0.05", "--logging_steps", "10",
                   "--save_steps", "100000", "--seed", str(args.seed), "--precision", "fp32"])
    return arm_dir / "model"


def token_budget(args, lines: list[str]) -> int:
    """Optimizer steps for ``epochs`` passes over the English arm; every arm gets the same steps
    of packed ``block_size`` blocks, so the same number of training tokens."""
    from crossknow.hf_backend import load_tokenizer

    tokenizer = load_tokenizer(args.model)
    tokens = sum(len(ids) + 1 for ids in tokenizer(lines, add_special_tokens=False)["input_ids"])
    return max(1, math.ceil(args.epochs * (tokens // args.block_size) / args.batch_size))


def format_table(results: dict) -> str:
    lines = []
    for set_name in ("trained", "held_out"):
        lines.append(f"[{set_name} facts: accuracy %, chance 25]")
        lines.append(f"{'arm':<10}" + "".join(f"{v:>8}" for v in VARIANTS))
        for arm, by_set in results["arms"].items():
            lines.append(f"{arm:<10}" + "".join(f"{100 * by_set[set_name][v]['accuracy']:>8.1f}" for v in VARIANTS))
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    arms = list(results["arms"])
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2), sharey=True)
    for ax, set_name in zip(axes, ("trained", "held_out")):
        width = 0.8 / len(arms)
        for i, arm in enumerate(arms):
            cells = [results["arms"][arm][set_name][v] for v in VARIANTS]
            acc = np.array([c["accuracy"] for c in cells])
            err = np.array([[a - c["ci95"][0], c["ci95"][1] - a] for a, c in zip(acc, cells)]).T
            ax.bar(np.arange(len(VARIANTS)) + (i - (len(arms) - 1) / 2) * width, 100 * acc, width,
                   yerr=100 * err, capsize=2, label=arm)
        ax.axhline(100 * CHANCE, color="grey", linestyle=":", label="chance")
        n = cells[0]["n"]
        ax.set(xticks=range(len(VARIANTS)), xticklabels=VARIANTS, ylim=(0, 100), ylabel="accuracy %",
               title=f"{set_name.replace('_', '-')} facts (n={n} questions, 95% bootstrap CI)")
        ax.legend(fontsize=8)
    fig.suptitle(f"Invented facts taught in English vs mixed languages ({results['config']['model']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="smollm2", type=model_name)
    p.add_argument("--num_people", type=positive_int, default=40, help="people whose facts are taught")
    p.add_argument("--heldout_people", type=positive_int, default=25, help="people never trained on (chance control)")
    p.add_argument("--templates", type=positive_int, default=2,
                   help="training sentences per fact (templates 0..N-1); template N is held out for the quiz")
    p.add_argument("--epochs", type=positive_float, default=12, help="passes over the English arm; sets the token budget")
    p.add_argument("--lr", type=positive_float, default=4e-4)
    p.add_argument("--batch_size", type=positive_int, default=8)
    p.add_argument("--block_size", type=positive_int, default=128)
    p.add_argument("--arms", nargs="+", default=["english", "mixed"], choices=["english", "mixed"])
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--output_dir", type=Path, default=Path("results/synthetic"))
    p.add_argument("--quick", action="store_true", help="tiny sizes: checks the plumbing, not the effect")
    args = p.parse_args(argv)
    if args.quick:
        args.num_people, args.heldout_people, args.epochs, args.block_size, args.batch_size = 4, 4, 1, 32, 4

    start = time.time()
    people = F.make_people(args.num_people + args.heldout_people, args.seed)
    trained, held_out = people[: args.num_people], people[args.num_people:]
    train_facts = F.make_facts(trained, args.seed)
    question_sets = {"trained": [F.make_question(f, args.seed) for f in train_facts],
                     "held_out": [F.make_question(f, args.seed) for f in F.make_facts(held_out, args.seed)]}
    english_lines = corpus(train_facts, "english", args.templates, args.seed)
    max_steps = token_budget(args, english_lines)
    results = result_document("synthetic", {**{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                                            "max_steps": max_steps, "facts": len(train_facts),
                                            "tokens_per_arm": max_steps * args.batch_size * args.block_size},
                              arms={"base": score(args.model, question_sets, args.templates, args.seed, args.batch_size)})
    for arm in args.arms:
        lines = english_lines if arm == "english" else corpus(train_facts, arm, args.templates, args.seed)
        model_dir = train_arm(args, arm, lines, max_steps)
        results["arms"][arm] = score(str(model_dir), question_sets, args.templates, args.seed, args.batch_size)
    results["minutes"] = round((time.time() - start) / 60, 1)
    atomic_write_json(args.output_dir / "results.json", results)
    plot(results, args.output_dir / "accuracy_by_language.png")
    print(format_table(results))
    verdict(results)
    return results


def verdict(results: dict) -> None:
    english = results["arms"].get("english", {}).get("trained", {}).get("en")
    if english is None or english["ci95"][0] <= CHANCE:
        print("The English-trained arm is not clearly above chance in English (95% interval reaches 25%): "
              "the facts were not learned, so no conclusion about the barrier can be drawn.")
        return
    worst = min(F.LANGUAGES[1:], key=lambda v: results["arms"]["english"]["trained"][v]["accuracy"])
    print(f"English-trained arm: {100 * english['accuracy']:.1f}% in English; lowest other language {worst}: "
          f"{100 * results['arms']['english']['trained'][worst]['accuracy']:.1f}%.")


if __name__ == "__main__":
    run(main)
