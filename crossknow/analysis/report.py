"""Tables from result files of every kind the suite writes: MMLU configurations x languages, HP
languages, Synthetic arms and quizzes, Translation scores. Reads the structured config fields of each
result (``crossknow/core/results_schema.json``), never its file name. Where per-question records are beside
a result, it is paired with its English counterpart by question id (``crossknow/analysis/paired_report.py``):
the difference to English comes with its paired 95% interval, and a paired table adds McNemar and
Holm p-values, overall, transfer and consistency with their chance baselines.

    python -m crossknow.report results/ Synthetic/results       # any number of folders
    python -m crossknow.report results/mmlu/SmolLM2-135M-Instruct_0shot --markdown --paired paired.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from crossknow.analysis.gather import (  # noqa: F401  (report's names, kept for its callers)
    TABULATED,
    collect,
    group_notes,
    load_results,
    question_set,
    read_result,
    same_questions,
)
from crossknow.analysis.paired_report import (
    Pair,
    SideCache,
    add_holm,
    hp_pairs,
    mmlu_pairs,
    synthetic_quiz_pairs,
    variant_summary,
)
from crossknow.core.cli import existing_path, results_folder, run
from crossknow.core.errors import CrossknowError
from crossknow.core.io import atomic_write_json
from crossknow.core.languages import PAPER_LANGUAGES
from crossknow.data.variants import MODES

EXPORT_FORMATS = ("csv", "every-eval-ever")


def _cell(acc: float | None, english: float | None) -> str:
    if acc is None:
        return "-"
    text = f"{100 * acc:.1f}"
    return text if english is None else f"{text} ({100 * (acc - english):+.1f})"


def result_cell(result: dict | None, english: dict | None, metric: str, show_n: bool = False,
                pair: Pair | None = None) -> str:
    """The accuracy, with the difference to English only where both were scored on the same questions;
    where they were not, ``[n=...]`` marks the cell instead of a difference (and every cell with show_n).
    With a paired comparison (``pair``), the difference is its paired one, with its 95% interval, and a
    pair refused (other question ids) shows ``[n=..., not paired]``."""
    if result is None:
        return "-"
    if pair is not None:
        return _paired_cell(result, metric, pair, show_n)
    comparable = same_questions(result, english)
    text = _cell(result[metric], english[metric] if comparable else None)
    if show_n or (english is not None and not comparable):
        text += f" [n={result['n']}]"
    return text


def _paired_cell(result: dict, metric: str, pair: Pair, show_n: bool) -> str:
    if pair.metrics is None:
        return f"{_cell(result[metric], None)} [n={result['n']}, not paired]"
    m = pair.metrics
    lo, hi = m["gap_ci95"]
    text = f"{100 * m['accuracy']:.1f} ({0.0 - 100 * m['gap']:+.1f} [{0.0 - 100 * hi:+.1f}, {0.0 - 100 * lo:+.1f}])"
    return text + (f" [n={m['n']}]" if show_n else "")


def format_table(results: dict[str, dict], title: str = "", markdown: bool = False, show_n: bool = False,
                 paired: dict[str, Pair] | None = None) -> str:
    """Weighted accuracy (%) per mode and language; the difference to English in brackets, only between
    results on the same questions (``[n=...]`` marks a cell on other questions). With ``paired`` (by
    configuration name), a paired cell shows the accuracy on the paired questions and the paired
    difference with its 95% interval."""
    paired = paired or {}
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
        rows = [[mode] + [result_cell(cells.get((mode, lang)), english_result, "weighted_accuracy", show_n,
                                      _pair_of(cells.get((mode, lang)), paired)) for lang in languages]
                for mode in MODES if any((mode, lang) in cells for lang in languages)]
        rows += [[name, result_cell(result, english_result, "weighted_accuracy", show_n, _pair_of(result, paired))]
                 + [""] * (len(languages) - 1)
                 for name, result in others.items()]
        if rows:
            lines += _render(["variant", *languages] if languages else ["variant", "accuracy"], rows, markdown)
    return "\n".join(lines)


def format_run_table(prefix: Path, title: str = "", n_resamples: int = 2000, seed: int = 0) -> str:
    """The MMLU results of one run folder in the report's table, each paired with English by question
    id (the report's own pairing: the difference to English with its paired 95% interval), then the
    pairs refused (other questions: the first differing id) and how older records were paired."""
    results = load_results(prefix)
    pairs = mmlu_pairs(Path(prefix), list(results.values()), SideCache(), allow_partial=False,
                       n_resamples=n_resamples, seed=seed)
    lines = [format_table(results, title=title, paired={p.config: p for p in pairs})]
    lines += [f"not paired: {p.refused}" for p in pairs if p.refused]
    lines += sorted({note for p in pairs for note in p.notes})
    return "\n".join(lines)


def _pair_of(result: dict | None, paired: dict[str, Pair]) -> Pair | None:
    return None if result is None else paired.get(result["config"].get("name", ""))


def format_hp_table(results: list[dict], title: str = "", markdown: bool = False,
                    paired: dict[str, Pair] | None = None) -> str:
    """HP quiz accuracy (%) per language of one variant, with the difference to English where both were
    scored on the same questions (paired by quiz row, with its 95% interval, where ``paired`` has the
    language)."""
    paired = paired or {}
    by_lang = {r["config"]["language"]: r for r in results}
    english = by_lang.get("en")
    rows = [[lang, result_cell(r, None if lang == "en" else english, "accuracy", pair=paired.get(lang)), str(r["n"])]
            for lang, r in by_lang.items()]
    return "\n".join(([title] if title else []) + _render(["language", "accuracy", "n"], rows, markdown))


def _render(header: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return out + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _interval(ci: list[float] | None) -> str:
    return "-" if ci is None else f"[{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}]"


def _p(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


PAIRED_HEADER = ["config", "lang", "n", "acc", "en", "gap", "95% CI", "by subject", "McNemar p", "Holm p",
                 "overall (chance)", "transfer (chance)", "consistency (chance)"]


def format_paired_table(pairs: list[Pair], title: str = "", markdown: bool = False) -> str:
    """One row per paired cell (percent; gap = English minus the language, on the paired questions),
    then per variant the mean gap, worst language and best-minus-worst accuracy; refused pairs last."""
    rows = []
    for pair in pairs:
        m = pair.metrics
        if m is None:
            continue
        rows.append([pair.config, pair.language, str(m["n"]), _pct(m["accuracy"]), _pct(m["accuracy_reference"]),
                     f"{100 * m['gap']:+.1f}", _interval(m["gap_ci95"]), _interval(m["gap_ci95_clustered"]),
                     _p(m["mcnemar_p"]), _p(m.get("mcnemar_p_holm")),
                     f"{_pct(m['overall'])} ({_pct(m['overall_chance'])})",
                     f"{_pct(m['transfer'])} ({_pct(m['transfer_chance'])})",
                     f"{_pct(m['consistency'])} ({_pct(m['consistency_chance'])})"])
    lines = [title] if title else []
    if rows:
        lines += _render(PAIRED_HEADER, rows, markdown) + ([""] if markdown else [])
    for summary in variant_summary(pairs):
        if summary["languages"] > 1:
            lines.append(f"{summary['variant']}: mean gap {100 * summary['mean_gap']:+.1f} over "
                         f"{summary['languages']} languages; worst {summary['worst_language']} "
                         f"({100 * summary['worst_gap']:+.1f}); best minus worst accuracy "
                         f"{100 * summary['best_minus_worst']:.1f}")
    lines += [f"not paired: {pair.refused}" for pair in pairs if pair.refused]
    lines += sorted({note for pair in pairs for note in pair.notes})
    return "\n".join(lines)


def format_synthetic_table(result: dict, title: str = "", markdown: bool = False) -> str:
    """The Synthetic experiment's accuracy (%) per arm, fact set and language with its 95% interval, and
    each arm's gap (English minus the others) with its interval."""
    arms = result.get("arms")
    if not isinstance(arms, dict) or not arms:
        return ""
    languages = sorted({lang for sets in arms.values() for langs in sets.values() for lang in langs},
                       key=lambda lang: (lang != "en", lang))
    rows = []
    for arm, sets in arms.items():
        for fact_set, by_lang in sets.items():
            cells = [f"{_pct(c['accuracy'])} [{_pct(c['ci95'][0])}, {_pct(c['ci95'][1])}] n={c['n']}"
                     if (c := by_lang.get(lang)) else "-" for lang in languages]
            rows.append([arm, fact_set, *cells])
    lines = ([title] if title else []) + _render(["arm", "facts", *languages], rows, markdown)
    for arm, gap in (result.get("gaps") or {}).items():
        if isinstance(gap, dict) and "mean" in gap:
            lines.append(f"{arm}: gap (en - others) {100 * gap['mean']:+.1f}, 95% interval {_interval(gap.get('ci95'))}"
                         f" over {gap.get('n', '?')} facts")
    return "\n".join(lines)


def format_translation_table(results: list[dict], title: str = "", markdown: bool = False) -> str:
    """BLEU and chrF per system and direction, with the number of lines. Corpus-level scores: the
    per-line scores an interval needs are not stored, so there is none."""
    directions = sorted({d for r in results for d in r.get("directions", {})}, key=lambda d: (not d.startswith("en-"), d))
    rows = []
    for r in results:
        cells = []
        for d in directions:
            score = r["directions"].get(d)
            flag = "!" if score and score.get("failed_lines") else ""
            cells.append(f"{score['bleu']:.1f}/{score['chrf']:.1f}{flag} n={score['n']}" if score else "-")
        rows.append([str(r.get("system", "?")), *cells])
    lines = ([title] if title else []) + _render(["system", *directions], rows, markdown)
    if any("!" in c for row in rows for c in row):
        lines.append("! some lines failed to translate and were scored as empty")
    return "\n".join(lines)


def _accuracy_cell(result: dict) -> str:
    low, high = result["ci95"]
    return f"{_pct(result['weighted_accuracy'])} [{100 * low:.1f}, {100 * high:.1f}]"


def format_global_mmlu_table(results: list[dict], title: str = "", markdown: bool = False) -> str:
    """Global-MMLU per language: weighted accuracy with its n and 95% interval, and the accuracy on
    the culturally sensitive (CS) and culturally agnostic (CA) questions, each with its n."""
    rows = []
    for r in sorted(results, key=lambda r: r["config"].get("language", "")):
        culture, counts = r.get("culture", {}), r.get("culture_n", {})
        tags = [f"{_pct(culture.get(t))} (n={counts.get(t, 0)})" for t in ("CS", "CA", "none")]
        rows.append([str(r["config"].get("language", "?")), _accuracy_cell(r),
                     str(r["n"]), *tags])
    return "\n".join(([title] if title else []) + _render(["language", "accuracy [95% CI]", "n", "CS", "CA", "untagged"],
                                                          rows, markdown))


def build_pairs(folders: dict[Path, dict[str, list[dict]]], *, allow_partial: bool, n_resamples: int = 2000,
                seed: int = 0) -> dict[Path, dict[str, list[Pair]]]:
    """Every paired cell of every folder, by folder and task, with Holm p-values per table."""
    cache = SideCache()
    options = {"allow_partial": allow_partial, "n_resamples": n_resamples, "seed": seed}
    hp_by_folder = {folder: by_task["hp"] for folder, by_task in folders.items() if "hp" in by_task}
    pairs: dict[Path, dict[str, list[Pair]]] = {}
    for folder, by_task in folders.items():
        found = pairs.setdefault(folder, {})
        if "mmlu" in by_task:
            found["mmlu"] = mmlu_pairs(folder, by_task["mmlu"], cache, **options)
        if "hp" in by_task:
            found["hp"] = hp_pairs(folder, by_task["hp"], hp_by_folder, cache, **options)
        if "synthetic_quiz" in by_task:
            found["synthetic_quiz"] = [p for r in by_task["synthetic_quiz"]
                                       for p in synthetic_quiz_pairs(folder, r, cache, **options)]
        add_holm([p for task_pairs in found.values() for p in task_pairs])
    return pairs


def print_folder(folder: Path, by_task: dict[str, list[dict]], pairs: dict[str, list[Pair]], args) -> None:
    if "mmlu" in by_task:
        results = {r["config"]["name"]: r for r in by_task["mmlu"]}
        by_name = {p.config: p for p in pairs.get("mmlu", [])}
        print(format_table(results, title=f"{folder} (MMLU weighted accuracy %, difference to English, the "
                                          "language minus English [paired 95% interval])", markdown=args.markdown, show_n=args.show_n,
                           paired=by_name))
        print()
    if "hp" in by_task:
        by_lang = {p.language: p for p in pairs.get("hp", [])}
        print(format_hp_table(by_task["hp"], title=f"{folder} (HP quiz accuracy %, difference to English, the "
                                     "language minus English [paired 95% interval])",
                              markdown=args.markdown, paired=by_lang))
        print()
    for task in ("mmlu", "hp", "synthetic_quiz"):
        if pairs.get(task):
            print(format_paired_table(pairs[task], title=f"{folder} ({task}, paired with English by question; "
                                      "gap = English minus the language, points)", markdown=args.markdown))
            print()
    for result in by_task.get("synthetic", []):
        table = format_synthetic_table(result, title=f"{result['_path']} (Synthetic accuracy %, 95% interval)",
                                       markdown=args.markdown)
        print(table or f"Note: {result['_path']}: a synthetic result without arms: nothing to tabulate")
        print()
    if "global_mmlu" in by_task:
        print(format_global_mmlu_table(by_task["global_mmlu"], title=f"{folder} (Global-MMLU accuracy %, by culture tag)",
                                       markdown=args.markdown))
        print()
    if "translation" in by_task:
        print(format_translation_table(by_task["translation"], title=f"{folder} (Translation BLEU/chrF; corpus "
                                       "scores, no interval)", markdown=args.markdown))
        print()


def write_paired(path: Path, pairs: dict[Path, dict[str, list[Pair]]]) -> int:
    rows = [p.row() for by_task in pairs.values() for task_pairs in by_task.values() for p in task_pairs
            if p.metrics is not None]
    atomic_write_json(path, rows)
    return len(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results_dirs", type=existing_path, nargs="+", metavar="results_dir",
                        help="folders (or result files) to read, every result below them")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--show_n", action="store_true", help="every cell shows its number of questions")
    parser.add_argument("--paired", type=Path, default=None, metavar="FILE.json",
                        help="write every paired comparison (model, task, config, language, n, accuracy, "
                        "accuracy_en, gap, intervals, p-values, overall, transfer, consistency) as a JSON list")
    parser.add_argument("--allow_partial", action="store_true", help="pair results whose question ids differ "
                        "by more than 1%% on either side, over the ids they share")
    parser.add_argument("--export", nargs=2, metavar=("FORMAT", "OUT"), default=None,
                        help="csv: write OUT/records.csv, one row per (model, task, config, language, question); "
                        "every-eval-ever: the MMLU and HP results and their per-question records in the Every Eval "
                        "Ever format (crossknow/analysis/every_eval_ever.py)")
    parser.add_argument("--plot", action="store_true", help="also write each folder's figures (crossknow/analysis/plots.py) "
                        "to {folder}/figures, PNG and SVG")
    parser.add_argument("--baseline", type=results_folder, default=None, help="with --plot: a base model's MMLU results "
                        "folder, for the gap closed by fine-tuning")
    args = parser.parse_args(argv)
    if args.export is not None and args.export[0] not in EXPORT_FORMATS:
        parser.error(f"--export: unknown format {args.export[0]!r}; known: {', '.join(EXPORT_FORMATS)}")
    folders, notes = collect(args.results_dirs)
    if not folders:
        skipped = f" ({len(notes)} skipped; the first: {notes[0]})" if notes else ""
        raise CrossknowError(f"{', '.join(map(str, args.results_dirs))}: no result found{skipped}")
    pairs = build_pairs(folders, allow_partial=args.allow_partial)
    for folder, by_task in folders.items():
        print_folder(folder, by_task, pairs[folder], args)
    if args.paired is not None:
        print(f"wrote {args.paired} ({write_paired(args.paired, pairs)} paired comparisons)")
    if args.export is not None and args.export[0] == "csv":
        from crossknow.analysis.export import export_csv

        path, count = export_csv(folders, Path(args.export[1]))
        print(f"wrote {path} ({count} rows)")
    elif args.export is not None:
        from crossknow.analysis.every_eval_ever import export_every_eval_ever

        written = export_every_eval_ever(folders, pairs, Path(args.export[1]))
        print(f"wrote {len(written)} Every Eval Ever files under {args.export[1]}")
    if args.plot:
        from crossknow.analysis.plots import plot_folder

        for folder, by_task in folders.items():
            for path in plot_folder(folder, by_task, folder / "figures", args.baseline, pairs[folder].get("mmlu")):
                print(f"wrote {path}")
    for note in notes:
        print(f"Note: {note}")


if __name__ == "__main__":
    run(main)
