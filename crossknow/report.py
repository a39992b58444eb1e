"""Tables from result files: MMLU configurations x languages and HP languages, with the gap to
English. Reads the structured config fields of each result (``crossknow/results_schema.json``),
never its file name; other kinds of result are named with a note, never a crash.

    python -m crossknow.report results/            # every result below, MMLU and HP
    python -m crossknow.report results/mmlu/SmolLM2-135M-Instruct_0shot --markdown
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crossknow.cli import existing_path, run
from crossknow.errors import CrossknowError
from crossknow.languages import PAPER_LANGUAGES
from crossknow.results import ResultError, folder_conflicts, verified_result
from crossknow.variants import MODES

OTHER_TASKS = {"translation": "Translation/evaluate.py prints its table",
               "synthetic": "Synthetic/experiment.py prints its table",
               "synthetic_quiz": "one arm's quiz; Synthetic/experiment.py pools the arms into results.json"}


def read_result(path: Path) -> dict | None:
    """A result in the schema, verified (``crossknow.results.verified_result``: a known schema
    version, numbers that are its records' own; ``ResultError`` otherwise), or None for any other
    JSON file (fingerprints, manifests, ...)."""
    return verified_result(path)


def load_results(prefix: Path) -> dict[str, dict]:
    """The MMLU results of one folder, by configuration name; a result that cannot be served, or
    one of two for a configuration or of different models, is left out with a note on stderr."""
    found = {}
    for path in sorted(Path(prefix).glob("result_*.json")):
        try:
            result = read_result(path)
        except ResultError as error:
            print(f"Note: {error}", file=sys.stderr)
            continue
        if result is not None and result["task"] == "mmlu":
            found[path] = result
    kept, notes = folder_conflicts(found)
    for note in notes:
        print(f"Note: {note}", file=sys.stderr)
    return {result["config"]["name"]: result for result in kept.values()}


def question_set(result: dict) -> tuple:
    """What a result was scored on, to compare like with like: MMLU, the questions per subject;
    HP, the quiz and the number of its (aligned) rows."""
    if result["task"] == "mmlu":
        return ("mmlu", tuple(sorted(result.get("subject_n", {}).items())))
    return (result["task"], result["config"].get("data", {}).get("source"), result["n"])


def same_questions(a: dict | None, b: dict | None) -> bool:
    return a is not None and b is not None and question_set(a) == question_set(b)


def _cell(acc: float | None, english: float | None) -> str:
    if acc is None:
        return "-"
    text = f"{100 * acc:.1f}"
    return text if english is None else f"{text} ({100 * (acc - english):+.1f})"


def result_cell(result: dict | None, english: dict | None, metric: str, show_n: bool = False) -> str:
    """The accuracy, with the gap to English only where both were scored on the same questions;
    where they were not, ``[n=...]`` marks the cell instead of a gap (and every cell with show_n)."""
    if result is None:
        return "-"
    comparable = same_questions(result, english)
    text = _cell(result[metric], english[metric] if comparable else None)
    if show_n or (english is not None and not comparable):
        text += f" [n={result['n']}]"
    return text


def group_notes(config: dict) -> tuple[str, ...]:
    """What sets a result apart from the plain sweep, from its config fields."""
    notes = []
    if config["test_variant"] and config["dev_variant"] == "" and config["shots"] > 0:
        notes.append("English demos")
    elif config["dev_variant"] not in ("", config["test_variant"]) and config["shots"] > 0:
        notes.append(f"{config['dev_variant']} demos")
    if config["infer_mode"] == "generation":
        notes.append("generation")
    return tuple(notes)


def format_table(results: dict[str, dict], title: str = "", markdown: bool = False, show_n: bool = False) -> str:
    """Weighted accuracy (%) per mode and language; the gap to English in brackets, only between
    results on the same questions (``[n=...]`` marks a cell on other questions)."""
    groups: dict[tuple[str, ...], list[dict]] = {}
    for result in results.values():
        groups.setdefault(group_notes(result["config"]), []).append(result)
    plain_english = next((r for r in groups.get((), []) if r["config"]["test_variant"] == ""), None)
    lines = [title] if title else []
    for notes, group in groups.items():
        english_result = next((r for r in group if r["config"]["test_variant"] == ""), None) or plain_english
        if notes:
            lines.append(f"[{', '.join(notes)}]")
        if english_result:
            lines.append(f"English: {_cell(english_result['weighted_accuracy'], None)} (n={english_result['n']})")
        cells, others, languages = {}, {}, []
        for result in group:
            config = result["config"]
            mode, lang = config["test_mode"], config["test_language"]
            if mode in MODES and lang:
                cells[mode, lang] = result
                languages += [lang] if lang not in languages else []
            elif config["test_variant"]:
                label = config["test_variant"] if config["test_variant"] not in others else config["name"]
                others[label] = result
        languages.sort(key=lambda lang: (PAPER_LANGUAGES.index(lang) if lang in PAPER_LANGUAGES else 99, lang))
        rows = [[mode] + [result_cell(cells.get((mode, lang)), english_result, "weighted_accuracy", show_n)
                          for lang in languages]
                for mode in MODES if any((mode, lang) in cells for lang in languages)]
        rows += [[name, result_cell(result, english_result, "weighted_accuracy", show_n)] + [""] * (len(languages) - 1)
                 for name, result in others.items()]
        if rows:
            lines += _render(["variant", *languages] if languages else ["variant", "accuracy"], rows, markdown)
    return "\n".join(lines)


def format_hp_table(results: list[dict], title: str = "", markdown: bool = False) -> str:
    """HP quiz accuracy (%) per language of one variant, with the gap to English where both were
    scored on the same questions."""
    by_lang = {r["config"]["language"]: r for r in results}
    english = by_lang.get("en")
    rows = [[lang, result_cell(r, None if lang == "en" else english, "accuracy"), str(r["n"])]
            for lang, r in by_lang.items()]
    return "\n".join(([title] if title else []) + _render(["language", "accuracy", "n"], rows, markdown))


def _render(header: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return out + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]


def collect(root: Path) -> tuple[dict[Path, dict[str, list[dict]]], list[str]]:
    """Results under ``root`` grouped by folder and task, and notes on what was skipped."""
    found: dict[Path, dict[Path, dict]] = {}
    notes, others = [], {}
    for path in sorted(root.rglob("*.json")) if root.is_dir() else [root]:
        try:
            result = read_result(path)
        except ResultError as error:
            notes.append(str(error))
            continue
        if result is None:
            if path.name.startswith("result_"):
                notes.append(f"{path}: not a crossknow result of schema 1 (written by an older version?): skipped")
            continue
        if result["task"] in OTHER_TASKS:
            others.setdefault((path.parent, result["task"]), []).append(path)
            continue
        found.setdefault(path.parent, {})[path] = result
    folders: dict[Path, dict[str, list[dict]]] = {}
    for folder, results in found.items():
        kept, conflicts = folder_conflicts(results)  # reported, never merged
        notes += conflicts
        for result in kept.values():
            folders.setdefault(folder, {}).setdefault(result["task"], []).append(result)
    for (folder, task), paths in others.items():
        where = paths[0] if len(paths) == 1 else f"{folder}: {', '.join(p.name for p in paths)}"
        notes.append(f"{where}: {'a' if len(paths) == 1 else len(paths)} {task} result{'s' * (len(paths) > 1)}, "
                     f"not tabulated here ({OTHER_TASKS[task]})")
    return folders, notes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results_dir", type=existing_path)
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--show_n", action="store_true", help="every cell shows its number of questions")
    parser.add_argument("--plot", action="store_true", help="also write each folder's figures (crossknow/plots.py) "
                        "to {folder}/figures, PNG and SVG")
    parser.add_argument("--baseline", type=Path, default=None, help="with --plot: a base model's MMLU results "
                        "folder, for the gap closed by fine-tuning")
    args = parser.parse_args(argv)
    folders, notes = collect(args.results_dir)
    for folder, by_task in folders.items():
        if "mmlu" in by_task:
            results = {r["config"]["name"]: r for r in by_task["mmlu"]}
            print(format_table(results, title=f"{folder} (MMLU weighted accuracy %, gap to English)",
                               markdown=args.markdown, show_n=args.show_n))
            print()
        if "hp" in by_task:
            print(format_hp_table(by_task["hp"], title=f"{folder} (HP quiz accuracy %, gap to English)",
                                  markdown=args.markdown))
            print()
    if args.plot:
        from crossknow.plots import plot_folder

        for folder, by_task in folders.items():
            for path in plot_folder(folder, by_task, folder / "figures", args.baseline):
                print(f"wrote {path}")
    for note in notes:
        print(f"Note: {note}")
    if not folders:
        raise CrossknowError(f"{args.results_dir}: no MMLU or HP result found")


if __name__ == "__main__":
    run(main)
