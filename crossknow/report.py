"""Print the table of configurations x languages for MMLU results, with the gap to English.

    python -m crossknow.report results/            # every {model}_{k}shot folder below
    python -m crossknow.report results/SmolLM2-135M-Instruct_0shot --markdown
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from crossknow.languages import PAPER_LANGUAGES
from crossknow.variants import MODES

SUFFIX_NOTES = {"_en_demo": "English demos", "_token": "generation"}


def load_results(prefix: Path) -> dict[str, dict]:
    return {p.name[len("result_"):-len(".json")]: json.loads(p.read_text())
            for p in sorted(Path(prefix).glob("result_*.json"))}


def split_name(name: str) -> tuple[str, str]:
    """``full_fr_en_demo`` -> (``full_fr``, ``_en_demo``)."""
    suffix = ""
    stripped = True
    while stripped:
        stripped = False
        for tail in SUFFIX_NOTES:
            if name.endswith(tail) and name != tail.lstrip("_"):
                name, suffix, stripped = name[: -len(tail)], tail + suffix, True
    return name, suffix


def _cell(acc: float | None, english: float | None) -> str:
    if acc is None:
        return "-"
    text = f"{100 * acc:.1f}"
    return text if english is None else f"{text} ({100 * (acc - english):+.1f})"


def format_table(results: dict[str, dict], title: str = "", markdown: bool = False) -> str:
    """Weighted accuracy (%) per mode and language; the gap to English in brackets."""
    groups: dict[str, dict[str, dict]] = {}
    for name, result in results.items():
        base, suffix = split_name(name)
        groups.setdefault(suffix, {})[base] = result
    lines = [title] if title else []
    for suffix, group in groups.items():
        english_result = group.get("en") or results.get("en")
        english = english_result["weighted_accuracy"] if english_result else None
        notes = [SUFFIX_NOTES[t] for t in SUFFIX_NOTES if t in suffix]
        if notes:
            lines.append(f"[{', '.join(notes)}]")
        if english_result:
            lines.append(f"English: {_cell(english, None)} (n={english_result['n']})")
        cells, others, languages = {}, {}, []
        for base, result in group.items():
            mode, _, lang = base.rpartition("_")
            if mode in MODES:
                cells[mode, lang] = result["weighted_accuracy"]
                languages += [lang] if lang not in languages else []
            elif base != "en":
                others[base] = result["weighted_accuracy"]
        languages.sort(key=lambda lang: (PAPER_LANGUAGES.index(lang) if lang in PAPER_LANGUAGES else 99, lang))
        rows = [[mode] + [_cell(cells.get((mode, lang)), english) for lang in languages]
                for mode in MODES if any((mode, lang) in cells for lang in languages)]
        rows += [[base, _cell(acc, english)] + [""] * (len(languages) - 1) for base, acc in others.items()]
        if rows:
            lines += _render(["variant", *languages] if languages else ["variant", "accuracy"], rows, markdown)
    return "\n".join(lines)


def _render(header: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return out + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]


def find_prefixes(root: Path) -> list[Path]:
    if any(root.glob("result_*.json")):
        return [root]
    return sorted({p.parent for p in root.rglob("result_*.json")})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results_dir", type=Path)
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--plot", action="store_true", help="also write the figures (crossknow/plots.py) to "
                        "{results folder}/figures, PNG and SVG")
    parser.add_argument("--baseline", type=Path, default=None, help="with --plot: a base model's results folder, "
                        "for the gap closed by fine-tuning")
    args = parser.parse_args(argv)
    prefixes = find_prefixes(args.results_dir)
    if not prefixes:
        raise SystemExit(f"{args.results_dir}: no result_*.json found")
    for prefix in prefixes:
        print(format_table(load_results(prefix), title=str(prefix), markdown=args.markdown))
        print()
        if args.plot:
            from crossknow.plots import plot_folder

            for path in plot_folder(prefix, prefix / "figures", args.baseline):
                print(f"wrote {path}")


if __name__ == "__main__":
    main()
