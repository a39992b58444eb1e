"""The crosslingual knowledge barrier, and the paper's mitigation, on knowledge we put in ourselves.

Teach a small model invented facts (people, their birth year, hometown, instrument and pet), after a
first fine-tuning stage on general text, in three arms with the same token budget:

- (a) ``english``: general English text, then the facts in English;
- (b) ``mixed``: general English text, then the facts with each sentence in a random language of
  en/fr/de/es/it (a translation augmentation of the facts themselves);
- (c) ``mixed_general``: general text of the same size with each line in a random language, then
  the facts in English (the paper's mitigation: out-of-domain mixed-language fine-tuning).

The general text is the parallel text that ships with the repository (``general_text.py``). Every
arm, and the untouched base model, is quizzed in each language, in mixup, and on held-out people
never trained on (a chance control), for several seeds; the script reports each arm's crosslingual
gap (English minus the mean of the other languages) and a paired test of (c), and of (b), against
(a) on it, with the smallest difference the design could detect.

The quiz is each fact's 4-option question, scored the way small models can be: the model picks
the option whose statement it finds most likely (summed log-probability), the statement written
with a template held out of training. Small models do not follow the letter-answer format after
fine-tuning on plain sentences (their letter choice stays a fixed bias). In mixup, the statement's
template and its value are in two different languages. Each arm's quiz goes through the shared
runner (``crossknow/runner.py``): per-question records, and a rerun of a killed experiment serves
the arms already quizzed under the same settings without training them again.

    python Synthetic/experiment.py --model gemma3-270m      # see README.md for the measured run
    python Synthetic/experiment.py --quick --model PATH     # plumbing check (CI): tiny sizes
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import shutil
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import analysis as A  # noqa: E402
import facts as F  # noqa: E402
import general_text as G  # noqa: E402

from crossknow.cli import model_name, non_negative_int, positive_float, positive_int, run  # noqa: E402
from crossknow.io import atomic_write_json, atomic_write_text, read_json  # noqa: E402
from crossknow.mmlu import checked_item  # noqa: E402
from crossknow.model_spec import ModelSpec  # noqa: E402
from crossknow.prompts import Prompt  # noqa: E402
from crossknow.results import bootstrap_interval, result_document  # noqa: E402
from crossknow.runner import (  # noqa: E402
    Run,
    Scoring,
    Unit,
    planned_difference,
    reusable_result,
    run_units,
    staging_run,
)

VARIANTS = [*F.LANGUAGES, "mixup"]
OTHER_LANGUAGES = F.LANGUAGES[1:]
CHANCE = 0.25
# arm -> (general text stage, language of the facts)
ARMS = {"english": ("general_en", "english"), "mixed": ("general_en", "mixed"),
        "mixed_general": ("general_mixed", "english")}
ARM_LABELS = {"base": "base model", "english": "(a) English general, English facts",
              "mixed": "(b) English general, mixed facts", "mixed_general": "(c) mixed general, English facts"}
# The option whose statement (after no prompt at all) has the highest summed log-probability.
QUIZ_SCORING = Scoring(infer_mode="loglikelihood")
QUIZ_SOURCE = "Synthetic/facts.py"  # the questions are generated; data.inputs_sha256 is their identity
# Fine-tuning settings every stage shares (the others come from the command line).
FIXED_TRAINING = ["--gradient_accumulation_steps", "1", "--warmup_ratio", "0.05", "--logging_steps", "10",
                  "--save_steps", "100000", "--precision", "fp32"]
STAGES = [*ARMS, "general_en", "general_mixed"]  # the folders under a work folder that hold checkpoints


# --- engine calls: fine-tuning and model loading go through these three functions only ---

def finetune(argv: list[str]) -> dict:
    """Run the project's fine-tuning core with command-line style arguments."""
    from crossknow import finetuning

    return finetuning.main(argv)


def load_backend(model_path: str, batch_size: int):
    from crossknow.hf_backend import HFBackend, load_model

    return HFBackend(*load_model(model_path, dtype="fp32", device="cpu"), batch_size=batch_size)


def load_tokenizer(model: str):
    from crossknow.hf_backend import load_tokenizer as load

    return load(model)


# --- data ---

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


def steps_for(tokenizer, lines: list[str], epochs: float, block_size: int, batch_size: int) -> int:
    """Optimizer steps for ``epochs`` passes over ``lines`` packed into ``block_size`` blocks."""
    tokens = sum(len(ids) + 1 for ids in tokenizer(lines, add_special_tokens=False)["input_ids"])
    steps_per_pass = math.ceil(max(1, tokens // block_size) / batch_size)  # the last batch of a pass may be short
    return max(1, math.ceil(epochs * steps_per_pass))


# --- the stages ---

QUIZ_COLUMNS = ("question", "option A", "option B", "option C", "option D")


def quiz_units(question_sets: dict, variants: list[str], template: int, seed: int) -> list[Unit]:
    """One runner unit per fact set and variant: each question's four options as whole statements,
    scored with no prompt before them."""
    units = []
    for set_name, questions in question_sets.items():
        for variant in variants:
            items = [checked_item(dict(zip(QUIZ_COLUMNS, [f"{q.fact.person}: {q.fact.relation}",
                                                         *option_statements(q, variant, template, seed, row)])),
                                  q.answer, f"{QUIZ_SOURCE} ({set_name}_{variant})", row + 1)
                     for row, q in enumerate(questions)]
            extras = [{"set": set_name, "variant": variant, "person": q.fact.person, "relation": q.fact.relation}
                      for q in questions]
            units.append(Unit(f"{set_name}_{variant}", items, [Prompt("", "")] * len(items), extras))
    return units


def quiz_run(args: argparse.Namespace, seed: int, arm: str, model: str, training: str | None) -> Run:
    """One arm of one seed is one runner result: ``quiz/seed{S}/{arm}.json`` and its records. Its
    configuration names what decides the arm's model: the settings and ``training_sha256``."""
    folder = args.output_dir / "quiz" / f"seed{seed}"
    config = {"arm": arm, "experiment_seed": seed, "settings": number_settings(config_of(args)),
              "training_sha256": training}
    return Run(task="synthetic_quiz", spec=ModelSpec.parse(model), config=config, data_source=QUIZ_SOURCE,
               result_file=folder / f"{arm}.json", records_dir=folder / arm)


def quiz_summary(records_by_unit: dict[str, list[dict]]) -> dict:
    """Accuracy per fact set and variant, with the per-question correctness the analysis pairs."""
    sets = {}
    for records in records_by_unit.values():
        correct = [int(r["correct"]) for r in records]
        sets.setdefault(records[0]["set"], {})[records[0]["variant"]] = {
            "accuracy": sum(correct) / len(correct), "n": len(correct), "ci95": bootstrap_interval(correct),
            "correct": correct}
    return {"sets": sets}


def refuse_a_quiz_made_otherwise(run: Run, units: list[Unit]) -> None:
    """Before any training: a quiz on disk made under other settings, from other training text or
    on other questions is never resumed (the runner would refuse it too, but only after training)."""
    difference = planned_difference(run, QUIZ_SCORING, units)
    if difference:
        raise SystemExit(f"{run.fingerprint_file}: a quiz made under other settings, training text or questions "
                         f"({difference}); use --overwrite, another --output_dir, or remove it")


def training_sha256(general_text: list[str], general_steps: int, fact_text: list[str], fact_steps: int) -> str:
    """The identity of what a fine-tuned arm learns from: both stages' text and steps, and the
    fine-tuning settings the command line does not set."""
    return hashlib.sha256(json.dumps([general_text, general_steps, fact_text, fact_steps, FIXED_TRAINING])
                          .encode()).hexdigest()


def quiz(args: argparse.Namespace, seed: int, arm: str, question_sets: dict, training: str | None,
         make_model: Callable[[], tuple], timings: dict) -> dict:
    """The arm's quiz result. One finished under these settings (and ``training``, the identity of
    the arm's training) is served from disk, and the arm is not trained again; otherwise
    ``make_model`` returns (model folder, training log, whether the folder is a checkpoint to
    delete once scored) and the runner scores it. A checkpoint trained now is quizzed from the
    start: records an earlier, killed run scored came from an earlier training, which need not
    be equal bit for bit on a GPU."""
    units = quiz_units(question_sets, args.variants, args.templates, seed)
    planned = quiz_run(args, seed, arm, args.model, training)
    if not args.overwrite:
        if (finished := reusable_result(planned, QUIZ_SCORING, units)) is not None:
            print(f"{planned.result_file}: quizzed under these settings: reused (--overwrite recomputes)", flush=True)
            return finished
        refuse_a_quiz_made_otherwise(planned, units)
    model_dir, training_log, checkpoint = make_model()
    run = quiz_run(args, seed, arm, str(model_dir), training)
    if checkpoint and staging_run(run).records_dir.exists():  # records of a killed quiz of an earlier training
        shutil.rmtree(staging_run(run).records_dir)
    backend = load_backend(str(model_dir), args.score_batch_size)

    def summarize(records_by_unit: dict[str, list[dict]]) -> dict:
        return {**quiz_summary(records_by_unit), **training_log}

    result = timed(timings, f"seed{seed}/score {arm}", run_units, backend, run, units, QUIZ_SCORING, summarize,
                   args.overwrite or checkpoint)
    if checkpoint and not args.keep_checkpoints:
        shutil.rmtree(model_dir)
    return result


def train(args, start_model: str, lines: list[str], out_dir: Path, steps: int, lr: float, seed: int,
          log: dict) -> Path:
    atomic_write_text(out_dir / "train.txt", "\n".join(lines) + "\n")
    log[out_dir.name] = finetune(["--model", start_model, "--train_file", str(out_dir / "train.txt"), "--output_dir",
              str(out_dir / "model"), "--restart", "--block_size", str(args.block_size), "--batch_size",
              str(args.batch_size), "--lr", str(lr), "--max_steps", str(steps), "--seed", str(seed),
              *FIXED_TRAINING])
    log[out_dir.name] = {k: v for k, v in log[out_dir.name].items()  # train_tokens_seen: the engine's older name
                         if k in ("train_loss", "global_step", "train_tokens", "train_tokens_seen", "seconds")}
    return out_dir / "model"


def timed(timings: dict, label: str, fn, *fn_args):
    start = time.time()
    value = fn(*fn_args)
    timings[label] = round(time.time() - start, 1)
    print(f"[{label}] {timings[label]:.0f} s", flush=True)
    return value


class GeneralStages:
    """The general-text stage models, each trained on first use (a rerun whose arms were all
    quizzed trains none). Both stages take the same number of steps (passes over the English
    text), so the same tokens."""

    def __init__(self, args: argparse.Namespace, seed: int, tokenizer, units: list[dict], work: Path, timings: dict):
        self.args, self.seed, self.work, self.timings = args, seed, work, timings
        self.corpora = {"general_en": G.general_corpus(units, mixed=False, seed=seed),
                        "general_mixed": G.general_corpus(units, mixed=True, seed=seed)}
        self.steps = steps_for(tokenizer, self.corpora["general_en"], args.general_epochs, args.block_size,
                               args.batch_size)
        self.models, self.log = {}, {}

    def model(self, stage: str) -> Path:
        """The stage's fine-tuned model folder, trained now if this run has not trained it yet."""
        if stage not in self.models:
            self.models[stage] = timed(self.timings, f"{self.work.name}/train {stage}", train, self.args,
                                       self.args.model, self.corpora[stage], self.work / stage, self.steps,
                                       self.args.general_lr, self.seed, self.log)
        return self.models[stage]

    def log_of(self, stage: str) -> dict:
        """The stage's training log (loss, steps, tokens), as an arm's quiz result keeps it."""
        return {stage: self.log[stage], "general_steps": self.steps}


def remove_checkpoints(work: Path) -> None:
    """Delete every stage's checkpoint under ``work``, those a killed earlier run left too."""
    for stage in STAGES:
        if (work / stage / "model").exists():
            shutil.rmtree(work / stage / "model")


def base_model(args: argparse.Namespace) -> tuple[str, dict, bool]:
    """The untouched model: nothing trained, nothing to delete."""
    return args.model, {}, False


def fine_tuned(args: argparse.Namespace, seed: int, arm: str, general: GeneralStages, lines: list[str], steps: int,
               work: Path, timings: dict) -> tuple[Path, dict, bool]:
    """Train the arm's fact stage from its general stage's model: (checkpoint, training log, True)."""
    stage, log = ARMS[arm][0], {}
    model_dir = timed(timings, f"seed{seed}/train {arm}", train, args, str(general.model(stage)), lines, work / arm,
                      steps, args.lr, seed, log)
    return model_dir, {"training": log, "general_stage": general.log_of(stage)}, True


def quizzed_arms(args: argparse.Namespace) -> list[str]:
    return ([] if args.skip_base else ["base"]) + args.arms


def run_seed(args: argparse.Namespace, seed: int, tokenizer, units: list[dict], shared: GeneralStages | None,
             timings: dict) -> dict:
    """One seed: draw the people and their facts, then quiz the base model and every arm (training
    the arms not already quizzed under these settings). ``general_stage`` holds the general
    stages' logs, for the caller to file under the seed or the shared stage."""
    people = F.make_people(args.num_people + args.heldout_people, seed)
    trained, held_out = people[: args.num_people], people[args.num_people:]
    train_facts = F.make_facts(trained, seed)
    question_sets = {"trained": [F.make_question(f, seed) for f in train_facts]}
    if held_out:
        question_sets["held_out"] = [F.make_question(f, seed) for f in F.make_facts(held_out, seed)]
    english_facts = corpus(train_facts, "english", args.templates, seed)
    fact_steps = steps_for(tokenizer, english_facts, args.epochs, args.block_size, args.batch_size)
    work = args.work_dir / f"seed{seed}"
    general = shared or GeneralStages(args, seed, tokenizer, units, work, timings)
    fact_text = {"english": english_facts, "mixed": corpus(train_facts, "mixed", args.templates, seed)}
    out = {"fact_steps": fact_steps, "facts": len(train_facts), "training": {}, "arms": {}, "quiz": {},
           "general_stage": {}}
    for arm in quizzed_arms(args):
        if arm == "base":
            training, make_model = None, partial(base_model, args)
        else:
            stage, facts_language = ARMS[arm]
            lines = fact_text[facts_language]
            training = training_sha256(general.corpora[stage], general.steps, lines, fact_steps)
            make_model = partial(fine_tuned, args, seed, arm, general, lines, fact_steps, work, timings)
        result = quiz(args, seed, arm, question_sets, training, make_model, timings)
        out["arms"][arm] = result["sets"]
        out["quiz"][arm] = str(Path("quiz") / f"seed{seed}" / f"{arm}.json")
        out["training"].update(result.get("training", {}))
        out["general_stage"].update(result.get("general_stage", {}))
    if not args.keep_checkpoints:
        remove_checkpoints(work)
    return out


# --- results ---

def summarize(seeds: dict, variants: list[str]) -> dict:
    """Per arm, pooled over seeds: accuracy per variant with its interval, and the crosslingual gap;
    paired tests of (b) and (c) against (a) on the gap."""
    arms = list(next(iter(seeds.values()))["arms"])
    summary = {"arms": {}, "gaps": {}, "paired": {}}
    gaps = {}
    for arm in arms:
        entry = {}
        for set_name in next(iter(seeds.values()))["arms"][arm]:
            entry[set_name] = {}
            for v in variants:
                correct = [c for s in seeds.values() for c in s["arms"][arm][set_name][v]["correct"]]
                entry[set_name][v] = {"accuracy": sum(correct) / len(correct), "n": len(correct),
                                      "ci95": bootstrap_interval(correct)}
        if set(F.LANGUAGES) <= set(variants):
            gaps[arm] = {k: A.fact_gaps(s["arms"][arm]["trained"], "en", OTHER_LANGUAGES) for k, s in seeds.items()}
            summary["gaps"][arm] = A.summarize_gap(gaps[arm])
        summary["arms"][arm] = entry
    for arm in ("mixed_general", "mixed"):
        if arm in gaps and "english" in gaps:
            summary["paired"][f"{arm}_vs_english"] = A.paired_comparison(gaps[arm], gaps["english"])
    return summary


def write_results(results: dict, output_dir: Path) -> None:
    """results.json (every setting, per-question correctness) and table.md, written atomically."""
    atomic_write_json(output_dir / "results.json", results)
    if results.get("complete"):
        atomic_write_text(output_dir / "table.md", format_table(results) + "\n")


def pct(x: float) -> str:
    return "nan" if x is None or math.isnan(x) else f"{100 * x:.1f}"


def format_table(results: dict) -> str:
    """Markdown: accuracy % per arm, seed and variant (pooled rows with 95% intervals), the gap, and
    the paired tests."""
    variants = results["config"]["variants"]
    seeds = results["seeds"]
    has_gap = set(F.LANGUAGES) <= set(variants)
    lines = []
    for set_name in next(iter(results["arms"].values())):
        lines += [f"**{set_name.replace('_', '-')} facts**: accuracy %, chance 25", "",
                  "| arm | seed | " + " | ".join(variants) + (" | gap (en - others) |" if has_gap else " |"),
                  "| --- | --- |" + " --- |" * (len(variants) + has_gap)]
        for arm, entry in results["arms"].items():
            for seed, s in seeds.items():
                cells = [pct(s["arms"][arm][set_name][v]["accuracy"]) for v in variants]
                if has_gap:
                    cells.append(pct(results["gaps"][arm]["per_seed"][list(seeds).index(seed)])
                                 if set_name == "trained" else "")
                lines.append(f"| {arm} | {seed} | " + " | ".join(cells) + " |")
            cells = [f"**{pct(c['accuracy'])}** [{pct(c['ci95'][0])}, {pct(c['ci95'][1])}]"
                     for c in (entry[set_name][v] for v in variants)]
            if has_gap:
                g = results["gaps"][arm]
                cells.append(f"**{pct(g['mean'])}** [{pct(g['ci95'][0])}, {pct(g['ci95'][1])}]"
                             if set_name == "trained" else "")
            lines.append(f"| {arm} | all | " + " | ".join(cells) + " |")
        lines.append("")
    for name, p in results["paired"].items():
        f, s = p["per_fact"], p["per_seed"]
        lines.append(f"- {name}: gap difference {pct(f['mean'])} points, 95% interval [{pct(f['ci95'][0])}, "
                     f"{pct(f['ci95'][1])}] over {f['n']} facts (sign-flip p = {f['p_sign_flip']:.3f}; detectable "
                     f"with 80% power: {pct(f['detectable_80'])}); per seed {', '.join(pct(d) for d in s['differences'])}"
                     f" (t interval [{pct(s['ci95'][0])}, {pct(s['ci95'][1])}], detectable: {pct(s['detectable_80'])})")
    return "\n".join(lines).rstrip()


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    variants = results["config"]["variants"]
    arms = list(results["arms"])
    has_gap = bool(results["gaps"])
    fig, axes = plt.subplots(1, 2 if has_gap else 1, figsize=(14 if has_gap else 9, 4.4), squeeze=False,
                             gridspec_kw={"width_ratios": [2.2, 1] if has_gap else [1]})
    ax = axes[0][0]
    width = 0.8 / len(arms)
    for i, arm in enumerate(arms):
        cells = [results["arms"][arm]["trained"][v] for v in variants]
        acc = np.array([c["accuracy"] for c in cells])
        err = np.array([[a - c["ci95"][0], c["ci95"][1] - a] for a, c in zip(acc, cells)]).T
        ax.bar(np.arange(len(variants)) + (i - (len(arms) - 1) / 2) * width, 100 * acc, width,
               yerr=100 * err, capsize=2, label=ARM_LABELS[arm])
    ax.axhline(100 * CHANCE, color="grey", linestyle=":", label="chance")
    n = results["arms"][arms[0]]["trained"][variants[0]]["n"]
    ax.set(xticks=range(len(variants)), xticklabels=variants, ylim=(0, 100), ylabel="accuracy %",
           title=f"trained facts, all seeds (n={n} questions per bar, 95% bootstrap CI)")
    ax.legend(fontsize=7)
    if has_gap:
        ax = axes[0][1]
        for i, arm in enumerate(arms):
            g = results["gaps"][arm]
            ax.bar(i, 100 * g["mean"], 0.6, yerr=[[100 * (g["mean"] - g["ci95"][0])], [100 * (g["ci95"][1] - g["mean"])]],
                   capsize=3, color=f"C{i}")
            ax.scatter([i] * len(g["per_seed"]), [100 * v for v in g["per_seed"]], color="black", s=12, zorder=3)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set(xticks=range(len(arms)), xticklabels=arms, ylabel="points",
               title="crosslingual gap: en minus mean(fr, de, es, it)\nbars: pooled 95% CI; dots: seeds")
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle(f"Invented facts: the paper's mitigation on {results['config']['model']}, "
                 f"seeds {', '.join(results['seeds'])}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def verdict(results: dict) -> None:
    english = results["arms"].get("english", {}).get("trained", {}).get("en")
    if english is None or english["ci95"][0] <= CHANCE:
        print("The English-trained arm (a) is not clearly above chance in English (95% interval reaches 25%): "
              "the facts were not learned, so no conclusion about the barrier can be drawn.")
        return
    gap = results["gaps"].get("english")
    if gap:
        print(f"Arm (a): {pct(english['accuracy'])}% in English, crosslingual gap {pct(gap['mean'])} points "
              f"[{pct(gap['ci95'][0])}, {pct(gap['ci95'][1])}].")


# --- command line ---

def parse_args(argv: list[str] | None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="gemma3-270m", type=model_name, help="hub name, local folder, .gguf, smollm2 or gemma3-270m")
    p.add_argument("--num_people", type=positive_int, default=40, help="people whose facts are taught (4 facts each)")
    p.add_argument("--heldout_people", type=non_negative_int, default=25, help="people never trained on (chance control; 0: none)")
    p.add_argument("--templates", type=positive_int, default=2,
                   help="training sentences per fact (templates 0..N-1); template N is held out for the quiz")
    p.add_argument("--epochs", type=positive_float, default=12, help="passes over the English facts; sets the fact stage's steps")
    p.add_argument("--general_epochs", type=positive_float, default=1,
                   help="passes over the English general text; sets the general stage's steps (all arms)")
    p.add_argument("--general_units", type=non_negative_int, default=0, help="use only the first N parallel lines (0: all 175)")
    p.add_argument("--shared_general", action="store_true",
                   help="train the general stages once (first seed) and start every seed's fact stage from them")
    p.add_argument("--lr", type=positive_float, default=4e-4, help="learning rate of the fact stage")
    p.add_argument("--general_lr", type=positive_float, default=None, help="learning rate of the general stage (default: --lr)")
    p.add_argument("--batch_size", type=positive_int, default=8)
    p.add_argument("--score_batch_size", type=positive_int, default=32)
    p.add_argument("--block_size", type=positive_int, default=128)
    p.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    p.add_argument("--variants", nargs="+", default=VARIANTS, choices=VARIANTS, help="quiz languages (and mixup)")
    p.add_argument("--seeds", nargs="+", type=non_negative_int, default=None, help="default 0 1 2 (--quick: 0)")
    p.add_argument("--skip_base", action="store_true", help="do not quiz the untouched base model")
    p.add_argument("--output_dir", type=Path, default=Path("results/synthetic"))
    p.add_argument("--work_dir", type=Path, default=None, help="checkpoints and training text (default OUTPUT_DIR/work)")
    p.add_argument("--keep_checkpoints", action="store_true", help="keep the fine-tuned models (about 1 GB each)")
    p.add_argument("--overwrite", action="store_true",
                   help="recompute every arm, replacing results made under other settings (default: reuse "
                        "the arms already quizzed under these settings)")
    p.add_argument("--no_plot", action="store_true", help="skip the figure (no matplotlib needed)")
    p.add_argument("--quick", action="store_true", help="tiny sizes: checks the plumbing, not the effect")
    args = p.parse_args(argv)
    if args.quick:
        args.num_people, args.heldout_people, args.epochs, args.general_epochs = 3, 1, 1, 1
        args.general_units, args.block_size, args.batch_size = 12, 32, 4
    args.seeds = args.seeds if args.seeds is not None else ([0] if args.quick else [0, 1, 2])
    args.general_lr = args.lr if args.general_lr is None else args.general_lr
    args.work_dir = args.work_dir or args.output_dir / "work"
    return args


def check_before_work(args) -> None:
    """Refuse bad settings, a missing plot library or a result made under other settings, before
    any model is loaded."""
    if len(set(args.seeds)) != len(args.seeds):
        raise SystemExit(f"--seeds {args.seeds}: repeated seed")
    if args.num_people < 1 or args.heldout_people < 0 or args.epochs <= 0 or args.general_epochs <= 0:
        raise SystemExit("--num_people must be >= 1, --heldout_people >= 0, --epochs and --general_epochs > 0")
    if not 1 <= args.templates < 3:
        raise SystemExit(f"--templates {args.templates}: must be 1 or 2 (template 2 is held out for the quiz)")
    if not args.no_plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise SystemExit("Synthetic/experiment.py: the figure needs matplotlib (pip install matplotlib), "
                             "or pass --no_plot") from None
    if not args.overwrite:
        check_earlier_results(args)


def check_earlier_results(args) -> None:
    """The experiment's result and every arm's quiz on disk must have been made under these
    settings: they are reused, never mixed with new ones."""
    existing = args.output_dir / "results.json"
    if existing.is_file() and not same_settings(read_json(existing).get("config", {}), config_of(args)):
        raise SystemExit(f"{existing}: made under other settings; use --overwrite, another --output_dir, or remove it")
    settings = number_settings(config_of(args))
    for seed in args.seeds:
        for arm in quizzed_arms(args):
            fingerprint = args.output_dir / "quiz" / f"seed{seed}" / arm / "settings.json"
            if fingerprint.is_file() and read_json(fingerprint).get("config", {}).get("settings") != settings:
                raise SystemExit(f"{fingerprint}: a quiz made under other settings; use --overwrite, another "
                                 "--output_dir, or remove it")


# Where files go, whether a figure is drawn, the scoring batch size and whether old results are
# replaced do not change a number.
NEUTRAL_SETTINGS = {"output_dir", "work_dir", "keep_checkpoints", "no_plot", "score_batch_size", "overwrite"}


def number_settings(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in NEUTRAL_SETTINGS}


def same_settings(a: dict, b: dict) -> bool:
    return number_settings(a) == number_settings(b)


def config_of(args) -> dict:
    return {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    check_before_work(args)
    start = time.time()
    units = G.parallel_units()
    units = units[: args.general_units] if args.general_units else units
    tokenizer = load_tokenizer(args.model)
    results = result_document("synthetic", config_of(args), complete=False, general_units=len(units), arms={},
                              seeds={}, timings={})
    shared = None
    if args.shared_general:  # one general stage (first seed's draw) for every seed: cheaper, less replicated
        results["shared_general"] = {}
        shared = GeneralStages(args, args.seeds[0], tokenizer, units, args.work_dir / "shared", results["timings"])
    for seed in args.seeds:
        seed_results = run_seed(args, seed, tokenizer, units, shared, results["timings"])
        general_logs = seed_results.pop("general_stage")
        (results["shared_general"] if shared else seed_results["training"]).update(general_logs)
        results["seeds"][str(seed)] = seed_results
        results["minutes"] = round((time.time() - start) / 60, 1)
        write_results(results, args.output_dir)  # partial: complete stays false until every seed is done
    if shared and not args.keep_checkpoints:
        remove_checkpoints(args.work_dir / "shared")
    results.update(summarize(results["seeds"], args.variants))  # arms (pooled over seeds), gaps, paired
    results["complete"] = True
    results["minutes"] = round((time.time() - start) / 60, 1)
    write_results(results, args.output_dir)
    if not args.no_plot:
        plot(results, args.output_dir / "accuracy_by_language.png")
    print(format_table(results))
    verdict(results)
    return results


if __name__ == "__main__":
    run(main)
