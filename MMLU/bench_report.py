"""Benchmark of ``python -m crossknow.report DIR --paired FILE`` over a full paper-sized sweep.

Generates, into a folder outside the repository (default ``/tmp/crossknow-bench-report``), the results
and per-question records of 59 configurations x 14,042 questions (57 subjects, the sizes of MMLU's
test split), with the fields of real 5-shot records (a five-demonstration prompt of about 1,400
characters, letter probabilities under both answer-token conventions, ids), then times the report with its
paired bootstrap (2,000 resamples, per question and per subject) and prints the seconds.

    python MMLU/bench_report.py                    # generate (once) and time
    python MMLU/bench_report.py --questions 2000   # a smaller sweep
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from crossknow.core.answers import LABELS
from crossknow.core.cli import positive_int
from crossknow.data.mmlu import (
    SUBJECTS,
    Item,
)
from crossknow.data.question_ids import mmlu_question_id

MODES = ["question", "options", "full", "gt", "gt_question", "onewrong", "threewrong"]
LANGUAGES = ["de", "fr", "es", "it", "zh", "ru", "ar", "hi"]
CONFIGS = ["en", *[f"{m}_{lang}" for m in MODES for lang in LANGUAGES], "mixup", "mixup_ar-hi-ru-zh"]  # 59
DEMO = ("The following are multiple choice questions (with answers) about {subject}.\n\n"
        + "".join(f"Demonstration question {i} with enough words to be the length of a real MMLU question and its "
                  "context, as the paper's five-shot prompts carry them?\nA. first option text\nB. second option "
                  "text\nC. third option text\nD. fourth option text\nAnswer: B\n\n" for i in range(5)))


def subject_sizes(total: int) -> dict[str, int]:
    base, extra = divmod(total, len(SUBJECTS))
    return {s: base + (i < extra) for i, s in enumerate(SUBJECTS)}


def record(subject: str, index: int, qid: str, rng: random.Random, skill: float) -> dict:
    probs = [rng.random() for _ in range(4)]
    probs = [p / sum(probs) for p in probs]
    label = LABELS[index % 4]
    prediction = label if rng.random() < skill else LABELS[(index + 1) % 4]
    return {"subject": subject, "index": index, "id": qid,
            "prompt": DEMO.format(subject=subject) + f"Question {index} of {subject}?\nA. a\nB. b\nC. c\nD. d\nAnswer:",
            "label": label, "prediction": prediction, "correct": prediction == label,
            "probs": dict(zip(LABELS, probs)), "probs_by_answer_token": {"paper": probs, "space": probs[::-1]},
            "reused_prefix_tokens": 512}


def generate(root: Path, total: int) -> None:
    sizes = subject_sizes(total)
    ids = {s: [mmlu_question_id(s, "test", i, Item(f"{s} {i}", ("a", "b", "c", "d"), i % 4)) for i in range(n)]
           for s, n in sizes.items()}
    for c, name in enumerate(CONFIGS):
        if (root / f"result_{name}.json").is_file():  # written last: a killed generation resumes here
            continue
        rng = random.Random(c)
        skill = 0.6 if name == "en" else 0.45 + 0.1 * rng.random()
        (root / name).mkdir(parents=True, exist_ok=True)
        correct = 0
        for subject, n in sizes.items():
            rows = [record(subject, i, ids[subject][i], rng, skill) for i in range(n)]
            correct += sum(r["correct"] for r in rows)
            (root / name / f"{subject}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        mode, _, lang = name.rpartition("_") if name != "en" and not name.startswith("mixup") else ("", "", "")
        config = {"name": name, "test_variant": "" if name == "en" else name, "dev_variant": "" if name == "en" else name,
                  "test_mode": mode or (name if name != "en" else None), "test_language": lang or None, "shots": 5,
                  "infer_mode": "logits", "model": {"name": "bench/model"}}
        result = {"schema_version": 1, "task": "mmlu", "config": config, "n": total, "records": name,
                  "weighted_accuracy": correct / total, "ci95": [0.0, 1.0], "subject_n": sizes}
        (root / f"result_{name}.json").write_text(json.dumps(result))


def main(argv: list[str] | None = None) -> float:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output_dir", "--out", dest="output_dir", type=Path, default=Path("/tmp/crossknow-bench-report"),
                   metavar="DIR", help="where the synthetic results go")
    p.add_argument("--questions", type=positive_int, default=14042)
    args = p.parse_args(argv)
    run = args.output_dir / f"bench_5shot_{args.questions}"
    if not (run / f"result_{CONFIGS[-1]}.json").is_file():
        start = time.perf_counter()
        generate(run, args.questions)
        print(f"generated {len(CONFIGS)} configurations x {args.questions} questions in "
              f"{time.perf_counter() - start:.1f} s ({sum(f.stat().st_size for f in run.rglob('*')) / 1e9:.2f} GB)")
    from crossknow.analysis.report import main as report

    start = time.perf_counter()
    report([str(run), "--paired", str(args.output_dir / "paired.json")])
    seconds = time.perf_counter() - start
    print(f"report --paired: {seconds:.1f} s for {len(CONFIGS)} configurations x {args.questions} questions")
    return seconds


if __name__ == "__main__":
    main()
