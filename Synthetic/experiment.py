"""The crosslingual knowledge barrier, and the paper's mitigation, on knowledge we put in ourselves.

Teach a small model invented facts (people, their birth year, hometown, instrument, pet, sport and
food) and quiz it in English, French, German, Spanish and Italian. Every arm starts from the same
base model in each seed and runs its stages in order:

- ``base``: no training (the chance control, with the held-out people never trained on);
- ``facts_en``: the facts in English;
- ``facts_then_mixed``: the facts in English, then general text mixed per sentence across the five
  languages: **the paper's mitigation in the paper's order** (knowledge first, then mixed-language
  fine-tuning); ``facts_then_english`` is its control (the same general passages, all in English);
- ``mixed_then_facts`` / ``english_then_facts``: the first design's order (general text first, then
  the facts in English);
- ``facts_all``: the facts taught in all five languages, with as many tokens as ``facts_en`` (the
  upper bound).

Every stage trains exactly ``steps x batch x block`` packed tokens (its text holds at least that
many), so the two general corpora of a pair, and the two fact corpora, are trained on the same
number of tokens; the result records the share of each corpus seen. The general text is coherent
FLoRes passages (``general_text.py``). The headline is the relations whose values change with the
language (instrument, pet, sport, food): per arm and language, accuracy, transfer (correct in X
among facts answered correctly in English) and overall (correct in both), and arm comparisons as
paired differences clustered by seed (``crossknow/analysis/paired.py``, as the MMLU and HP reports).

The quiz is each fact's 4-option question, scored the way small models can be: the model picks
the option whose statement it finds most likely (summed log-probability), the statement written
with a template held out of training. Each arm's quiz goes through the shared runner
(``crossknow/runner.py``): per-question records, and a rerun of a killed experiment serves the arms
already quizzed under the same settings without training them again.

    python Synthetic/experiment.py --model smollm2          # see README.md for the measured run
    python Synthetic/experiment.py --quick --model PATH     # plumbing check (CI): tiny sizes
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import shutil
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import analysis as A
import facts as F
import general_text as G

from crossknow.core.cli import model_name, non_negative_int, positive_float, positive_int, run
from crossknow.core.errors import CrossknowError
from crossknow.core.io import atomic_write_text, read_json
from crossknow.core.model_spec import ModelSpec
from crossknow.core.results import bootstrap_interval, result_document, write_result
from crossknow.core.resume import ResumeError, SettingsFile, check_same
from crossknow.runner import (
    Run,
    Unit,
    planned_difference,
    reusable_result,
    run_units,
    staging_run,
)
from crossknow.tasks import get_task

VARIANTS = [*F.LANGUAGES, "mixup"]
OTHER_LANGUAGES = F.LANGUAGES[1:]
CHANCE = 0.25
# arm -> its training stages, in order, from the seed's base model: (kind, language)
ARMS = {
    "facts_en": (("facts", "en"),),
    "facts_then_mixed": (("facts", "en"), ("general", "mixed")),
    "facts_then_english": (("facts", "en"), ("general", "en")),
    "mixed_then_facts": (("general", "mixed"), ("facts", "en")),
    "english_then_facts": (("general", "en"), ("facts", "en")),
    "facts_all": (("facts", "all"),),
}
ARM_LABELS = {"base": "base model (no training)", "facts_en": "facts in English",
              "facts_then_mixed": "facts (en), then mixed general: the paper's mitigation",
              "facts_then_english": "facts (en), then English general: its control",
              "mixed_then_facts": "mixed general, then facts (en)", "english_then_facts": "English general, then facts (en)",
              "facts_all": "facts in all five languages (upper bound)"}
# comparison -> (arm, its control); the first is the headline
COMPARISONS = {"paper_order": ("facts_then_mixed", "facts_then_english"),
               "general_first": ("mixed_then_facts", "english_then_facts"),
               "upper_bound": ("facts_all", "facts_en")}
QUIZ = get_task("synthetic_quiz")  # the quiz's units, scoring and summary (crossknow/tasks/synthetic_quiz.py)
QUIZ_SCORING = QUIZ.scoring_rule
QUIZ_SOURCE = "Synthetic/facts.py"  # the questions are generated; data.inputs_sha256 is their identity
# Fine-tuning settings every stage shares (the others come from the command line).
FIXED_TRAINING = ["--gradient_accumulation_steps", "1", "--warmup_ratio", "0.05", "--logging_steps", "10",
                  "--save_steps", "100000", "--precision", "fp32"]


# --- engine calls: fine-tuning and model loading go through these three functions only ---

def finetune(argv: list[str]) -> dict:
    """Run the project's fine-tuning core with command-line style arguments."""
    from crossknow.training import finetuning

    return finetuning.main(argv)


def load_backend(model_path: str, batch_size: int):
    from crossknow.core.model_spec import ModelSpec
    from crossknow.models.hf_backend import HFBackend, load_model

    return HFBackend(*load_model(ModelSpec.parse(model_path), dtype="fp32", device="cpu"), batch_size=batch_size)


def load_tokenizer(model: str):
    from crossknow.core.model_spec import ModelSpec
    from crossknow.models.hf_backend import load_tokenizer as load

    return load(ModelSpec.parse(model))


# --- data ---

def corpus(facts: list[F.Fact], language: str, templates: int, seed: int) -> list[str]:
    """The fact sentences (templates 0..N-1): in English (``en``), or in every language (``all``),
    shuffled."""
    languages = F.LANGUAGES if language == "all" else [language]
    lines = [F.render_sentence(fact, lang, t) for fact in facts for t in range(templates) for lang in languages]
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


def count_tokens(tokenizer, lines: list[str]) -> int:
    """Tokens of ``lines`` as the fine-tuning packs them: each line and an end-of-text token."""
    return sum(len(ids) + 1 for ids in tokenizer(lines, add_special_tokens=False)["input_ids"])


def steps_for(tokens: int, epochs: float, block_size: int, batch_size: int) -> int:
    """Optimizer steps for ``epochs`` passes over ``tokens`` packed into full batches of blocks."""
    return max(1, math.ceil(epochs * tokens / (block_size * batch_size)))


def training_text(lines: list[str], corpus_tokens: int, steps: int, args: argparse.Namespace, seed: int) -> list[str]:
    """Enough passes over ``lines`` (reshuffled per pass) that ``steps`` full batches never reach
    the end of the packed text: every stage trains exactly steps x batch x block tokens, whatever
    its corpus's length, so two corpora trained for the same steps get the same tokens."""
    passes = math.ceil((steps * args.batch_size + 1) * args.block_size / corpus_tokens) + 1
    text = []
    for n in range(passes):
        pass_lines = list(lines)
        random.Random(f"pass:{seed}:{n}").shuffle(pass_lines)
        text += pass_lines
    return text


# --- the stages ---

def quiz_units(question_sets: dict, variants: list[str], template: int, seed: int) -> list[Unit]:
    """One runner unit per fact set and variant: each question's four options as whole statements
    (held-out ``template``), scored with no prompt before them (crossknow/tasks/synthetic_quiz.py)."""
    return QUIZ.quiz_units(question_sets, variants,
                           lambda question, variant, row: option_statements(question, variant, template, seed, row),
                           QUIZ_SOURCE)


def quiz_run(args: argparse.Namespace, seed: int, arm: str, model: str, training: str | None) -> Run:
    """One arm of one seed is one runner result: ``quiz/seed{S}/{arm}.json`` and its records. Its
    configuration names what decides the arm's model: the settings and ``training_sha256``."""
    folder = args.output_dir / "quiz" / f"seed{seed}"
    config = {"arm": arm, "experiment_seed": seed, "settings": number_settings(config_of(args)),
              "training_sha256": training}
    return Run(task=QUIZ.name, spec=ModelSpec.parse(model), config=config, data_source=QUIZ_SOURCE,
               result_file=folder / f"{arm}.json", records_dir=folder / arm)


def refuse_a_quiz_made_otherwise(run: Run, units: list[Unit]) -> None:
    """Before any training: a quiz on disk made under other settings, from other training text or
    on other questions is never resumed (the runner would refuse it too, but only after training)."""
    difference = planned_difference(run, QUIZ_SCORING, units)
    if difference:
        raise ResumeError(f"{run.fingerprint_file}: a quiz made under other settings, training text or questions "
                          f"({difference}); {REMEDY}")


def training_sha256(stages: list[tuple[list[str], int]]) -> str:
    """The identity of what a fine-tuned arm learns from: every stage's text and steps, in order,
    and the fine-tuning settings the command line does not set."""
    return hashlib.sha256(json.dumps([[list(text), steps] for text, steps in stages] + [FIXED_TRAINING])
                          .encode()).hexdigest()


def quiz(args: argparse.Namespace, seed: int, arm: str, question_sets: dict, training: str | None,
         make_model: Callable[[], tuple], timings: dict) -> dict:
    """The arm's quiz result. One finished under these settings (and ``training``, the identity of
    the arm's training) is served from disk, and the arm is not trained again; otherwise
    ``make_model`` returns (model folder, training log, whether the folder is a checkpoint to
    delete once scored) and the runner scores it. A model trained now (every arm but the base) is
    quizzed from the start: records an earlier, killed run scored came from an earlier training,
    which need not be equal bit for bit on a GPU."""
    units = quiz_units(question_sets, args.variants, args.templates, seed)
    planned = quiz_run(args, seed, arm, args.model, training)
    if not args.overwrite:
        if (finished := reusable_result(planned, QUIZ_SCORING, units)) is not None:
            print(f"{planned.result_file}: quizzed under these settings: reused (--overwrite recomputes)", flush=True)
            return finished
        refuse_a_quiz_made_otherwise(planned, units)
    model_dir, training_log, checkpoint = make_model()
    trained_now = training is not None
    run = quiz_run(args, seed, arm, str(model_dir), training)
    if trained_now and staging_run(run).records_dir.exists():  # records of a killed quiz of an earlier training
        shutil.rmtree(staging_run(run).records_dir)
    backend = load_backend(str(model_dir), args.score_batch_size)

    def summarize(records_by_unit: dict[str, list[dict]]) -> dict:
        return {**QUIZ.summarize(records_by_unit), **training_log}

    result = timed(timings, f"seed{seed}/score {arm}", run_units, backend, run, units, QUIZ_SCORING, summarize,
                   args.overwrite or trained_now)
    if checkpoint and not args.keep_checkpoints:
        shutil.rmtree(model_dir)
    return result


def train(args, start_model: str, lines: list[str], out_dir: Path, steps: int, lr: float, seed: int) -> dict:
    """Fine-tune ``start_model`` on ``lines`` for ``steps``; the model goes to ``out_dir/model``."""
    atomic_write_text(out_dir / "train.txt", "\n".join(lines) + "\n")
    log = finetune(["--model", start_model, "--train_file", str(out_dir / "train.txt"), "--output_dir",
                    str(out_dir / "model"), "--restart", "--block_size", str(args.block_size), "--batch_size",
                    str(args.batch_size), "--lr", str(lr), "--max_steps", str(steps), "--seed", str(seed),
                    *FIXED_TRAINING])
    return {k: v for k, v in log.items() if k in ("train_loss", "global_step", "train_tokens", "seconds")}


def timed(timings: dict, label: str, fn, *fn_args):
    start = time.time()
    value = fn(*fn_args)
    timings[label] = round(time.time() - start, 1)
    print(f"[{label}] {timings[label]:.0f} s", flush=True)
    return value


def stage_name(path: tuple) -> str:
    """A chain of stages as a folder name: ``facts_en+general_mixed``."""
    return "+".join(f"{kind}_{language}" for kind, language in path)


class Corpora:
    """One seed's training corpora (facts in English and in all languages, general text in English
    and mixed) and each stage kind's steps: the fact stage from passes over the English facts, the
    general stage from passes over the English general text, the same steps for both corpora of a
    kind, so the same tokens."""

    def __init__(self, args: argparse.Namespace, seed: int, tokenizer, train_facts: list[F.Fact], passages: list):
        self.args, self.seed = args, seed
        self.lines = {("facts", "en"): corpus(train_facts, "en", args.templates, seed),
                      ("facts", "all"): corpus(train_facts, "all", args.templates, seed),
                      ("general", "en"): G.general_corpus(passages, mixed=False, seed=seed),
                      ("general", "mixed"): G.general_corpus(passages, mixed=True, seed=seed)}
        self.tokens = {stage: count_tokens(tokenizer, lines) for stage, lines in self.lines.items()}
        self.steps = {"facts": steps_for(self.tokens[("facts", "en")], args.epochs, args.block_size, args.batch_size),
                      "general": steps_for(self.tokens[("general", "en")], args.general_epochs, args.block_size,
                                           args.batch_size)}

    def tokens_seen(self, kind: str) -> int:
        return self.steps[kind] * self.args.batch_size * self.args.block_size

    def shares(self) -> dict:
        """Per corpus: its tokens, the tokens a stage trains on it, and the share of the corpus seen."""
        return {stage_name((stage,)): {"tokens": self.tokens[stage], "tokens_seen": self.tokens_seen(stage[0]),
                                       "share_seen": round(self.tokens_seen(stage[0]) / self.tokens[stage], 4)}
                for stage in self.lines}

    def stage(self, stage: tuple) -> tuple[list[str], int]:
        """(corpus, steps) of one stage: its identity."""
        return self.lines[stage], self.steps[stage[0]]


class Stages:
    """The models of one seed's chains of stages, each trained on first use from its parent chain
    (the base model for a first stage) and kept until the seed ends: ``facts_en`` is the start of
    both facts-then-general arms. With ``shared``, a chain that starts with a general stage starts
    from ``shared``'s general model (``--shared_general``: quick looks only)."""

    def __init__(self, args: argparse.Namespace, corpora: Corpora, work: Path, timings: dict,
                 shared: Stages | None = None):
        self.args, self.corpora, self.work, self.timings, self.shared = args, corpora, work, timings, shared
        self.models, self.log = {}, {}

    def owner(self, path: tuple) -> Stages:
        return self.shared if self.shared is not None and len(path) == 1 and path[0][0] == "general" else self

    def identity(self, path: tuple) -> list[tuple[list[str], int]]:
        """Each stage's (corpus, steps) along ``path``."""
        return [self.owner(path[: i + 1]).corpora.stage(stage) for i, stage in enumerate(path)]

    def model(self, path: tuple) -> Path:
        """The chain's fine-tuned model folder, trained now if this run has not trained it yet."""
        owner = self.owner(path)
        if owner is not self:
            return owner.model(path)
        if path not in self.models:
            parent = str(self.model(path[:-1])) if len(path) > 1 else self.args.model
            kind = path[-1][0]
            lines, steps = self.corpora.stage(path[-1])
            text = training_text(lines, self.corpora.tokens[path[-1]], steps, self.args, self.corpora.seed)
            lr = self.args.lr if kind == "facts" else self.args.general_lr
            name = stage_name(path)
            self.log[name] = timed(self.timings, f"{self.work.name}/train {name}", train, self.args, parent, text,
                                   self.work / name, steps, lr, self.corpora.seed)
            self.models[path] = self.work / name / "model"
        return self.models[path]

    def log_along(self, path: tuple) -> dict:
        """The training logs (loss, steps, tokens, seconds) of every stage along ``path``."""
        return {stage_name(path[: i + 1]): self.owner(path[: i + 1]).log[stage_name(path[: i + 1])]
                for i in range(len(path))}


def remove_checkpoints(work: Path) -> None:
    """Delete every stage's checkpoint under ``work``, those a killed earlier run left too."""
    for model in sorted(work.glob("*/model")):
        shutil.rmtree(model)


def base_model(args: argparse.Namespace) -> tuple[str, dict, bool]:
    """The untouched model: nothing trained, nothing to delete."""
    return args.model, {}, False


def fine_tuned(stages: Stages, arm: str) -> tuple[Path, dict, bool]:
    """Train the arm's chain (reusing the stages it shares with other arms): (model, training log,
    whether the model is the arm's own checkpoint, to delete once scored)."""
    path = ARMS[arm]
    model_dir = stages.model(path)
    return model_dir, {"training": stages.log_along(path)}, len(path) > 1 and stages.owner(path) is stages


def quizzed_arms(args: argparse.Namespace) -> list[str]:
    return ([] if args.skip_base else ["base"]) + args.arms


def seed_questions(args: argparse.Namespace, seed: int) -> tuple[list[F.Fact], dict]:
    """The seed's trained facts, and its question sets (trained people, held-out people)."""
    people = F.make_people(args.num_people + args.heldout_people, seed)
    trained, held_out = people[: args.num_people], people[args.num_people:]
    train_facts = F.make_facts(trained, seed)
    question_sets = {"trained": [F.make_question(f, seed) for f in train_facts]}
    if held_out:
        question_sets["held_out"] = [F.make_question(f, seed) for f in F.make_facts(held_out, seed)]
    return train_facts, question_sets


def run_seed(args: argparse.Namespace, seed: int, tokenizer, passages: list, shared: Stages | None,
             timings: dict) -> dict:
    """One seed: draw the people and their facts, then quiz the base model and every arm (training
    the arms not already quizzed under these settings)."""
    train_facts, question_sets = seed_questions(args, seed)
    work = args.work_dir / f"seed{seed}"
    corpora = Corpora(args, seed, tokenizer, train_facts, passages)
    stages = Stages(args, corpora, work, timings, shared)
    out = {"facts": len(train_facts), "steps": corpora.steps, "corpora": corpora.shares(),
           "questions": {name: [[q.fact.person, q.fact.relation] for q in questions]
                         for name, questions in question_sets.items()},
           "training": {}, "arms": {}, "quiz": {}}
    for arm in quizzed_arms(args):
        if arm == "base":
            training, make_model = None, partial(base_model, args)
        else:
            training, make_model = training_sha256(stages.identity(ARMS[arm])), partial(fine_tuned, stages, arm)
        result = quiz(args, seed, arm, question_sets, training, make_model, timings)
        out["arms"][arm] = result["sets"]
        out["quiz"][arm] = str(Path("quiz") / f"seed{seed}" / f"{arm}.json")
        out["training"].update(result.get("training", {}))
    if not args.keep_checkpoints:
        remove_checkpoints(work)
    return out


# --- results ---

def accuracy_cell(correct: list[int]) -> dict:
    return {"accuracy": sum(correct) / len(correct), "n": len(correct), "ci95": bootstrap_interval(correct)}


def pooled_accuracy(seeds: dict, arm: str, set_name: str, variant: str, relations: list[str]) -> dict:
    """Accuracy over seeds of one arm's answers to one fact set's ``relations`` in one variant."""
    correct = [c for entry in seeds.values()
               for (_, relation), c in zip(entry["questions"][set_name], entry["arms"][arm][set_name][variant]["correct"])
               if relation in relations]
    return accuracy_cell(correct)


def set_keys(seeds: dict) -> dict[str, tuple[str, list[str]]]:
    """Reported fact sets: every relation (``trained``), and each relation group (``trained:dependent``)."""
    first = next(iter(seeds.values()))
    keys = {}
    for set_name in first["questions"]:
        keys[set_name] = (set_name, F.RELATIONS)
        keys.update({f"{set_name}:{group}": (set_name, relations) for group, relations in F.RELATION_GROUPS.items()})
    return keys


def summarize(seeds: dict, variants: list[str]) -> dict:
    """Pooled over seeds: accuracy per arm, fact set and variant; per arm and relation group,
    transfer and overall per language; each comparison of an arm with its control."""
    arms = list(next(iter(seeds.values()))["arms"])
    summary = {"arms": {arm: {key: {v: pooled_accuracy(seeds, arm, set_name, v, relations) for v in variants}
                              for key, (set_name, relations) in set_keys(seeds).items()} for arm in arms},
               "transfer": {}, "comparisons": {}}
    if not set(F.LANGUAGES) <= set(variants):
        return summary
    languages = {**{lang: [lang] for lang in OTHER_LANGUAGES}, "others": OTHER_LANGUAGES}
    for arm in arms:
        summary["transfer"][arm] = {group: {name: A.transfer_cell(seeds, arm, "trained", langs, relations)
                                            for name, langs in languages.items()}
                                    for group, relations in F.RELATION_GROUPS.items()}
    for name, (arm, control) in COMPARISONS.items():
        if arm in arms and control in arms:
            summary["comparisons"][name] = {
                group: {"arm": arm, "control": control,
                        "others": A.comparison(seeds, arm, control, "trained", OTHER_LANGUAGES, relations),
                        "en": A.comparison(seeds, arm, control, "trained", ["en"], relations)}
                for group, relations in F.RELATION_GROUPS.items()}
    return summary


def write_results(results: dict, output_dir: Path) -> None:
    """results.json (every setting, per-question correctness) and table.md, written atomically."""
    write_result(output_dir / "results.json", results)
    if results.get("complete"):
        atomic_write_text(output_dir / "table.md", format_table(results) + "\n")


def pct(x: float | None) -> str:
    # + 0.0 turns a negated zero (a difference of -0.0) into 0.0, so the table never shows "-0.0"
    return "-" if x is None or math.isnan(x) else f"{100 * x + 0.0:.1f}"


def interval(ci: list[float] | None, what: str = "95% interval") -> str:
    return "no interval (one seed)" if ci is None else f"{what} [{pct(ci[0])}, {pct(ci[1])}]"


def accuracy_table(results: dict, key: str) -> list[str]:
    variants = results["config"]["variants"]
    lines = [f"**{key.replace('_', '-')} facts**: accuracy % pooled over seeds [95% interval], chance 25", "",
             "| arm | " + " | ".join(variants) + " |", "| --- |" + " --- |" * len(variants)]
    for arm, entry in results["arms"].items():
        cells = [f"{pct(c['accuracy'])} [{pct(c['ci95'][0])}, {pct(c['ci95'][1])}]"
                 for c in (entry[key][v] for v in variants)]
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def transfer_table(results: dict, group: str) -> list[str]:
    lines = [f"**transfer, {group} relations** (trained facts, pooled over seeds): accuracy in fr/de/es/it, "
             "transfer (right in X among those right in English) and overall (right in both), % (chance)", "",
             "| arm | en | fr, de, es, it | transfer | overall | transfer fr | de | es | it |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for arm, groups in results["transfer"].items():
        cells, others = groups[group], groups[group]["others"]
        lines.append(f"| {arm} | {pct(others['accuracy_reference'])} | {pct(others['accuracy'])} | "
                     f"{pct(others['transfer'])} ({pct(others['transfer_chance'])}) | "
                     f"{pct(others['overall'])} ({pct(others['overall_chance'])}) | "
                     + " | ".join(pct(cells[lang]["transfer"]) for lang in OTHER_LANGUAGES) + " |")
    return [*lines, ""]


def comparison_lines(results: dict) -> list[str]:
    lines = []
    for name, groups in results["comparisons"].items():
        for group, c in groups.items():
            o, en, t = c["others"], c["en"], c["others"]["transfer_seed_level"]
            per_seed = ", ".join(pct(d) for d in c["others"]["transfer_per_seed"])
            lines.append(
                f"- {name} ({c['arm']} - {c['control']}), {group}: fr/de/es/it accuracy "
                f"{pct(o['accuracy_difference'])} points, {interval(o['ci95_clustered'], 'seed-clustered')}, "
                f"{interval(o['ci95'], 'per question')}, McNemar p = {o['mcnemar_p']:.3f} (n = {o['n']}); "
                f"English {pct(en['accuracy_difference'])} points; transfer {pct(o['transfer'])} vs "
                f"{pct(o['transfer_control'])}: {pct(o['transfer_difference'])} points, per seed {per_seed} "
                f"({interval(t['ci95'], 't interval')}"
                + (f", detectable: {pct(t['detectable_80'])}" if t["detectable_80"] is not None else "") + ")")
    return lines


def format_table(results: dict) -> str:
    """Markdown: the controls and accuracy per arm, transfer per relation group, the comparisons."""
    lines = []
    for key in results["arms"][next(iter(results["arms"]))]:
        if key in ("trained", "held_out") or key.startswith("trained:"):
            lines += accuracy_table(results, key)
    for group in F.RELATION_GROUPS:
        if results["transfer"]:
            lines += transfer_table(results, group)
    lines += comparison_lines(results)
    if results.get("power"):
        lines += ["", power_line(results["power"])]
    return "\n".join(lines).rstrip()


def plot(results: dict, path: Path) -> None:
    """Accuracy per arm and variant (language-dependent trained facts), and transfer per arm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    variants = results["config"]["variants"]
    arms = list(results["arms"])
    has_transfer = bool(results["transfer"])
    fig, axes = plt.subplots(1, 2 if has_transfer else 1, figsize=(15 if has_transfer else 10, 4.6), squeeze=False,
                             gridspec_kw={"width_ratios": [2.2, 1] if has_transfer else [1]})
    ax = axes[0][0]
    width = 0.8 / len(arms)
    for i, arm in enumerate(arms):
        cells = [results["arms"][arm]["trained:dependent"][v] for v in variants]
        acc = np.array([c["accuracy"] for c in cells])
        err = np.array([[a - c["ci95"][0], c["ci95"][1] - a] for a, c in zip(acc, cells)]).T
        ax.bar(np.arange(len(variants)) + (i - (len(arms) - 1) / 2) * width, 100 * acc, width,
               yerr=100 * err, capsize=2, label=ARM_LABELS[arm])
    ax.axhline(100 * CHANCE, color="grey", linestyle=":", label="chance")
    n = results["arms"][arms[0]]["trained:dependent"][variants[0]]["n"]
    ax.set(xticks=range(len(variants)), xticklabels=variants, ylim=(0, 100), ylabel="accuracy %",
           title=f"language-dependent trained facts, all seeds (n={n} per bar, 95% bootstrap CI)")
    ax.legend(fontsize=7)
    if has_transfer:
        ax = axes[0][1]
        for i, arm in enumerate(arms):
            cell = results["transfer"][arm]["dependent"]["others"]
            ax.bar(i, 100 * (cell["transfer"] or 0), 0.6, color=f"C{i}")
            ax.scatter([i], [100 * cell["transfer_chance"]] if cell["transfer_chance"] is not None else [0],
                       color="black", marker="_", s=200, zorder=3)
        ax.set(xticks=range(len(arms)), xticklabels=arms, ylim=(0, 100), ylabel="%",
               title="transfer, language-dependent: right in fr/de/es/it\namong those right in English (dash: chance)")
        ax.tick_params(axis="x", labelsize=7, rotation=30)
    fig.suptitle(f"Invented facts on {results['config']['model']}, seeds {', '.join(results['seeds'])}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def verdict(results: dict) -> None:
    english = results["arms"].get("facts_en", {}).get("trained:dependent", {}).get("en")
    if english is None or english["ci95"][0] <= CHANCE:
        print("The English-trained arm (facts_en) is not clearly above chance in English on the language-dependent "
              "facts (95% interval reaches 25%): the facts were not learned, so no conclusion about the barrier "
              "can be drawn.")
        return
    cell = results["transfer"].get("facts_en", {}).get("dependent", {}).get("others")
    if cell:
        print(f"facts_en: {pct(english['accuracy'])}% in English, {pct(cell['accuracy'])}% in fr/de/es/it, transfer "
              f"{pct(cell['transfer'])}% (chance {pct(cell['transfer_chance'])}%) on the language-dependent facts.")


# --- power and time, from a pilot ---

def planned_facts(args: argparse.Namespace) -> int:
    """Language-dependent trained facts over every seed."""
    return args.num_people * len(F.LANGUAGE_DEPENDENT) * len(args.seeds)


def pilot_rates(pilot: dict) -> tuple[float, float]:
    """The pilot's seconds per trained token (stage wall time, loading and saving included) and per
    quizzed question and variant, over the stages and quizzes its last invocation timed (a resumed
    pilot times only what it ran)."""
    train_seconds = train_tokens = score_seconds = scored = 0
    variants = len(pilot["config"]["variants"])
    for label, seconds in pilot["timings"].items():
        where, _, what = label.partition("/")
        entry = pilot["seeds"].get(where.removeprefix("seed"))
        if entry is None:
            continue
        if what.startswith("train "):
            train_seconds += seconds
            train_tokens += entry["training"][what.removeprefix("train ")]["train_tokens"]
        elif what.startswith("score "):
            score_seconds += seconds
            scored += sum(len(q) for q in entry["questions"].values()) * variants
    if not train_tokens or not scored:
        raise ValueError("the pilot timed no training or no quiz (was every arm reused from an earlier run?)")
    return train_seconds / train_tokens, score_seconds / scored


def estimated_minutes(pilot: dict, args: argparse.Namespace) -> float:
    """This design's wall time on the pilot's machine, scaled from the pilot's rates."""
    per_token, per_question = pilot_rates(pilot)
    first = next(iter(pilot["seeds"].values()))
    fact_tokens_per_person = first["corpora"]["facts_en"]["tokens"] / pilot["config"]["num_people"]
    fact_seen = steps_for(fact_tokens_per_person * args.num_people, args.epochs, args.block_size,
                          args.batch_size) * args.batch_size * args.block_size
    general_seen = steps_for(first["corpora"]["general_en"]["tokens"], args.general_epochs, args.block_size,
                             args.batch_size) * args.batch_size * args.block_size
    stages = {ARMS[arm][: i + 1] for arm in args.arms for i in range(len(ARMS[arm]))}
    tokens = sum(fact_seen if path[-1][0] == "facts" else general_seen for path in stages)
    questions = ((args.num_people + args.heldout_people) * len(F.RELATIONS) * len(args.variants)
                 * (len(args.arms) + (not args.skip_base)))
    return round(len(args.seeds) * (tokens * per_token + questions * per_question) / 60, 1)


def power_of_design(args: argparse.Namespace) -> dict:
    """The power of this design from ``--power_from``'s pilot, and its expected time."""
    pilot = read_json(args.power_from)
    arm, control = COMPARISONS["paper_order"]
    if not pilot.get("complete") or not {arm, control} <= set(pilot.get("config", {}).get("arms", [])):
        raise CrossknowError(f"{args.power_from}: not a complete Synthetic result with the arms {arm} and {control}")
    try:
        plan = A.power_plan(pilot, arm, control, OTHER_LANGUAGES, F.LANGUAGE_DEPENDENT, planned_facts(args))
        minutes = estimated_minutes(pilot, args)
    except ValueError as error:
        raise CrossknowError(f"{args.power_from}: {error}") from None
    return {**plan, "pilot": str(args.power_from), "pilot_minutes": pilot.get("minutes"), "estimated_minutes": minutes}


def power_line(power: dict) -> str:
    return (f"Power (from the pilot {power['pilot']}, {power['pilot_facts']} language-dependent facts; "
            f"{power['comparison']}): per-fact sd of the transfer difference {pct(power['sd_per_fact'])} points, "
            f"{pct(power['share_right_in_english_both'])}% of facts right in English in both arms; detecting a "
            f"{pct(power['effect'])}-point change of transfer with 80% power needs {power['facts_needed']} "
            f"language-dependent facts (seeds pooled, facts independent); this design has {power['planned_facts']}: "
            f"detectable change {pct(power['detectable_80'])} points (a lower bound: it leaves out the variation "
            f"between seeds, which the seed-level t interval includes); estimated time {power['estimated_minutes']} min.")


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
    p.add_argument("--general_units", type=non_negative_int, default=0, help="use only the first N FLoRes sentences (0: all 100)")
    p.add_argument("--shared_general", action="store_true",
                   help="train the general-first stages once (first seed) for every seed: quick looks only, the "
                        "seeds are then not independent")
    p.add_argument("--lr", type=positive_float, default=4e-4, help="learning rate of the fact stage")
    p.add_argument("--general_lr", type=positive_float, default=None, help="learning rate of the general stage (default: --lr)")
    p.add_argument("--batch_size", type=positive_int, default=8)
    p.add_argument("--score_batch_size", type=positive_int, default=32)
    p.add_argument("--block_size", type=positive_int, default=128)
    p.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    p.add_argument("--variants", nargs="+", default=VARIANTS, choices=VARIANTS, help="quiz languages (and mixup)")
    p.add_argument("--seeds", "--seed", dest="seeds", nargs="+", type=non_negative_int, default=None,
                   help="default 0 1 2 3 4 (--quick: 0)")
    p.add_argument("--skip_base", action="store_true", help="do not quiz the untouched base model")
    p.add_argument("--output_dir", type=Path, default=Path("results/synthetic"))
    p.add_argument("--work_dir", type=Path, default=None, help="checkpoints and training text (default OUTPUT_DIR/work)")
    p.add_argument("--keep_checkpoints", action="store_true", help="keep the fine-tuned models (about 1 GB each)")
    p.add_argument("--overwrite", action="store_true",
                   help="recompute every arm, replacing results made under other settings (default: reuse "
                        "the arms already quizzed under these settings)")
    p.add_argument("--no_plot", action="store_true", help="skip the figure (no matplotlib needed)")
    p.add_argument("--quick", action="store_true", help="tiny sizes: checks the plumbing, not the effect")
    p.add_argument("--power_from", type=Path, default=None,
                   help="a pilot's results.json: print this design's power and expected time before training, "
                        "and record them in the results")
    p.add_argument("--plan_only", action="store_true", help="with --power_from: print the plan and stop")
    args = p.parse_args(argv)
    if args.quick:
        args.num_people, args.heldout_people, args.epochs, args.general_epochs = 3, 1, 1, 1
        args.general_units, args.block_size, args.batch_size = 10, 32, 4
    args.seeds = args.seeds if args.seeds is not None else ([0] if args.quick else [0, 1, 2, 3, 4])
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
    if args.plan_only and not args.power_from:
        raise CrossknowError("--plan_only: needs --power_from (a pilot's results.json)")
    if args.power_from and not args.power_from.is_file():
        raise CrossknowError(f"{args.power_from}: no such file (--power_from)")
    if not 1 <= args.templates < 3:
        raise SystemExit(f"--templates {args.templates}: must be 1 or 2 (template 2 is held out for the quiz)")
    if not args.no_plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise SystemExit("Synthetic/experiment.py: the figure needs matplotlib (pip install matplotlib), "
                             "or pass --no_plot") from None
    if not args.overwrite and not args.plan_only:  # a plan writes nothing, so nothing on disk can clash
        check_earlier_results(args)


def check_earlier_results(args) -> None:
    """The experiment's result and every arm's quiz on disk must have been made under these
    settings: they are reused, never mixed with new ones."""
    existing = args.output_dir / "results.json"
    settings = number_settings(config_of(args))
    if existing.is_file():
        check_same(existing, number_settings(read_json(existing).get("config", {})), settings, REMEDY,
                   "made under other settings")
    for seed in args.seeds:
        for arm in quizzed_arms(args):
            fingerprint = SettingsFile(args.output_dir / "quiz" / f"seed{seed}" / arm / "settings.json")
            if fingerprint.exists():
                check_same(fingerprint.path, fingerprint.read().get("config", {}).get("settings"), settings, REMEDY,
                           "a quiz made under other settings")


REMEDY = "use --overwrite, another --output_dir, or remove it"

# Where files go, whether a figure is drawn, the scoring batch size and whether old results are
# replaced do not change a number.
NEUTRAL_SETTINGS = {"output_dir", "work_dir", "keep_checkpoints", "no_plot", "score_batch_size", "overwrite",
                    "power_from", "plan_only"}


def number_settings(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in NEUTRAL_SETTINGS}


def same_settings(a: dict, b: dict) -> bool:
    return number_settings(a) == number_settings(b)


def config_of(args) -> dict:
    return {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    check_before_work(args)
    power = power_of_design(args) if args.power_from else None
    if power:
        print(power_line(power), flush=True)
        if args.plan_only:
            return {"power": power}
    start = time.time()
    units = G.parallel_units()
    units = units[: args.general_units] if args.general_units else units
    passages = G.passages(units)
    tokenizer = load_tokenizer(args.model)
    results = result_document("synthetic", config_of(args), complete=False, general_units=len(units),
                              general_passages=len(passages), power=power, arms={}, seeds={}, timings={})
    shared = None
    if args.shared_general:  # one general stage (first seed's draw) for every seed: cheaper, not independent
        corpora = Corpora(args, args.seeds[0], tokenizer, seed_questions(args, args.seeds[0])[0], passages)
        shared = Stages(args, corpora, args.work_dir / "shared", results["timings"])
    for seed in args.seeds:
        results["seeds"][str(seed)] = run_seed(args, seed, tokenizer, passages, shared, results["timings"])
        results["minutes"] = round((time.time() - start) / 60, 1)
        write_results(results, args.output_dir)  # partial: complete stays false until every seed is done
    if shared and not args.keep_checkpoints:
        remove_checkpoints(args.work_dir / "shared")
    results.update(summarize(results["seeds"], args.variants))  # arms (pooled over seeds), transfer, comparisons
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
