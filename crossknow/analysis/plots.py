"""Figures of the crosslingual knowledge barrier from a results folder (``report --plot``).

- ``accuracy_by_variant``: accuracy per variant and language, 95% intervals, the English line;
- ``gap_by_language``: the gap of the fully translated test (``full_L``) to English per language,
  sorted, with the mean gap over the seven modes (the many-language view); where the results have
  records, the gaps are paired by question id with their paired 95% intervals, and a language on
  other questions is left out (``not_paired`` in values.json);
- ``transfer``: where results have records, the transfer from English (right in L among the
  questions right in English) per variant and language, with its chance level;
- ``gap_closed``: with a base model's results (``--baseline``), the gap per variant of both models
  and how much of it the fine-tuned model closed;
- ``culture_gap``: for Global-MMLU data, the gap on culturally sensitive and agnostic questions,
  paired by question id, with n and the paired 95% interval (``culture_gap_paired`` in values.json);
- ``hp_by_language``: the Harry Potter quiz per language, with the English line.

Each figure is written as PNG and SVG, in greys with hatches so that it survives greyscale
printing, and every plotted number is also written to ``values.json`` beside the figures.
matplotlib is an optional dependency (the ``plots`` extra).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from crossknow.core.io import atomic_write_json
from crossknow.core.languages import PAPER_LANGUAGES
from crossknow.data.variants import MODES, variant_parts

HATCHES = ["", "//", "..", "xx", "\\\\", "++", "oo", "--", "**", "||"]


@dataclass(frozen=True)
class Cell:
    """One result: accuracy over ``n`` questions with its 95% interval."""

    accuracy: float
    ci95: tuple[float, float]
    n: int
    records: Path | None = None  # folder of the per-question JSONL records
    subject_n: dict | None = None  # questions per subject (MMLU), to draw gaps only on the same questions


def _pyplot():
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError("--plot needs matplotlib: pip install 'crossknow[plots]'") from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def results_in(folder: Path) -> dict[str, list[dict]]:
    """The results (crossknow/core/results_schema.json) in one folder, by task."""
    from crossknow.analysis.gather import collect

    return collect([Path(folder)])[0].get(Path(folder), {}) if Path(folder).is_dir() else {}


def mmlu_cells(results: list[dict], folder: Path) -> dict[str, Cell]:
    """MMLU results by test variant (``en``, ``full_fr``, ``mixup``): the configurations named after
    their test variant (not ``_en_demo``, ``_token`` or custom names), with their records folder."""
    cells = {}
    for result in results:
        config = result["config"]
        variant = config["test_variant"] or "en"
        if config["test_language"] and config["test_mode"] in MODES:  # the schema's fields, not the name
            variant = f"{config['test_mode']}_{config['test_language']}"
        if config["name"] == (config["test_variant"] or "en"):
            cells[variant] = Cell(result["weighted_accuracy"], tuple(result["ci95"]), result["n"],
                                  Path(folder) / result["records"], result.get("subject_n", {}))
    return cells


def hp_cells(results: list[dict], folder: Path) -> dict[str, Cell]:
    """HP quiz results of one variant folder by language."""
    return {r["config"]["language"]: Cell(r["accuracy"], tuple(r["ci95"]), r["n"], Path(folder) / r["records"])
            for r in sorted(results, key=lambda r: r["config"]["language"] != "en")}


def _languages(cells: dict[str, Cell]) -> list[str]:
    """The languages of the results: the paper's in its order, then the others alphabetically."""
    langs = {variant_parts(variant)[1] for variant in cells} - {None}
    return sorted(langs, key=lambda lang: (PAPER_LANGUAGES.index(lang) if lang in PAPER_LANGUAGES else 99, lang))


def _style(i: int, total: int) -> dict:
    grey = 0.15 + 0.7 * i / max(total - 1, 1)
    return {"color": str(round(grey, 3)), "hatch": HATCHES[i % len(HATCHES)], "edgecolor": "black", "linewidth": 0.5}


def _english_line(ax, english: Cell, horizontal: bool = True) -> None:
    low, high = (100 * v for v in english.ci95)
    if horizontal:
        ax.axhspan(low, high, color="0.85", zorder=0)
        ax.axhline(100 * english.accuracy, color="black", linestyle="--", linewidth=1.2,
                   label=f"English {100 * english.accuracy:.1f}")
    else:
        ax.axvspan(low, high, color="0.85", zorder=0)
        ax.axvline(100 * english.accuracy, color="black", linestyle="--", linewidth=1.2,
                   label=f"English {100 * english.accuracy:.1f}")


def plot_accuracy(cells: dict[str, Cell], title: str = ""):
    """Grouped bars: one group per mode (and one per mixup), one bar per language."""
    plt = _pyplot()
    langs = _languages(cells)
    modes = [m for m in MODES if any(f"{m}_{lang}" in cells for lang in langs)]
    mixups = [v for v in cells if v.startswith("mixup")]
    fig, ax = plt.subplots(figsize=(min(16, max(7, 0.4 * len(modes) * max(1, len(langs)) + 2)), 4.5))
    width = 0.8 / max(len(langs), 1)
    values = {}
    for i, lang in enumerate(langs):
        xs, heights, errors = [], [], [[], []]
        for j, mode in enumerate(modes):
            cell = cells.get(f"{mode}_{lang}")
            if cell is None:
                continue
            xs.append(j + (i - (len(langs) - 1) / 2) * width)
            heights.append(100 * cell.accuracy)
            errors[0].append(100 * (cell.accuracy - cell.ci95[0]))
            errors[1].append(100 * (cell.ci95[1] - cell.accuracy))
            values[f"{mode}_{lang}"] = 100 * cell.accuracy
        ax.bar(xs, heights, width, yerr=errors, capsize=2, label=lang, **_style(i, len(langs)))
    for j, variant in enumerate(mixups, start=len(modes)):
        cell = cells[variant]
        ax.bar([j], [100 * cell.accuracy], 0.5, capsize=2, color="0.6", hatch="oo", edgecolor="black",
               yerr=[[100 * (cell.accuracy - cell.ci95[0])], [100 * (cell.ci95[1] - cell.accuracy)]])
        values[variant] = 100 * cell.accuracy
    if "en" in cells:
        _english_line(ax, cells["en"])
        values["en"] = 100 * cells["en"].accuracy
    ax.set_xticks(range(len(modes) + len(mixups)), [*modes, *mixups], rotation=20, ha="right")
    ax.set_ylabel("accuracy % (95% interval)")
    ax.set_ylim(0, 100)
    ax.set_title(title or "Accuracy per variant and language")
    ax.legend(fontsize=8, ncol=min(len(langs) + 1, 6))
    fig.tight_layout()
    return fig, values


def paired_gaps(pairs: list) -> dict[str, dict[str, dict]]:
    """From the paired comparisons (crossknow/analysis/paired_report.py): per mode and language, the
    difference to English in points (X - English) with its paired 95% interval."""
    gaps: dict[str, dict[str, dict]] = {}
    for pair in pairs:
        if pair.metrics is not None:
            lo, hi = pair.metrics["gap_ci95"]
            gaps.setdefault(pair.variant, {})[pair.language] = {
                "gap": 0.0 - 100 * pair.metrics["gap"], "ci95": [0.0 - 100 * hi, 0.0 - 100 * lo],
                "n": pair.metrics["n"]}
    return gaps


def plot_gap_by_language(cells: dict[str, Cell], title: str = "", pairs: list | None = None):
    """The gap of ``full_L`` to English per language, sorted, and the mean gap over the modes. With
    ``pairs`` (results with records), the gaps and their intervals are the paired ones, and a language
    not paired with English (other questions) is left out and listed; without, only results on the same
    subjects and counts as English are drawn, with full_L's own interval."""
    if pairs is not None:
        return _plot_paired_gaps(pairs, title)
    from crossknow.analysis.gather import same_questions

    plt = _pyplot()
    english = cells["en"]
    results = {v: {"task": "mmlu", "subject_n": c.subject_n, "n": c.n} for v, c in cells.items()}
    langs = [lang for lang in _languages(cells) if f"full_{lang}" in cells
             and same_questions(results[f"full_{lang}"], results["en"])]
    gaps = {lang: 100 * (cells[f"full_{lang}"].accuracy - english.accuracy) for lang in langs}
    langs.sort(key=lambda lang: (gaps[lang], lang))
    gaps = {lang: gaps[lang] for lang in langs}
    mean_gaps = {}
    for lang in langs:
        modes = [cells[f"{m}_{lang}"].accuracy for m in MODES if f"{m}_{lang}" in cells]
        mean_gaps[lang] = 100 * (sum(modes) / len(modes) - english.accuracy)
    low = [gaps[lang] - 100 * (cells[f"full_{lang}"].ci95[0] - english.accuracy) for lang in langs]
    high = [100 * (cells[f"full_{lang}"].ci95[1] - english.accuracy) - gaps[lang] for lang in langs]
    fig = _gap_bars(plt, langs, gaps, (low, high), mean_gaps, "full_L - English",
                    "gap to English, accuracy points (interval: full_L's 95% interval, unpaired)", title)
    return fig, {"full": gaps, "mean_over_modes": mean_gaps}


def _gap_bars(plt, langs: list[str], gaps: dict, errors: tuple[list, list], mean_gaps: dict, label: str,
              xlabel: str, title: str):
    """Horizontal bars of the full_L gap per language with their intervals, and the mean over the modes."""
    fig, ax = plt.subplots(figsize=(6.5, 1.2 + 0.35 * max(len(langs), 1)))
    ax.barh(range(len(langs)), [gaps[lang] for lang in langs], 0.6, xerr=list(errors), capsize=2,
            color="0.55", edgecolor="black", hatch="//", label=label)
    ax.plot([mean_gaps[lang] for lang in langs], range(len(langs)), "kD", markersize=5,
            label="mean over the modes")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(langs)), langs)
    ax.set_xlabel(xlabel)
    ax.set_title(title or "Gap to English per language")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _plot_paired_gaps(pairs: list, title: str):
    plt = _pyplot()
    by_mode = paired_gaps(pairs)
    full = by_mode.get("full", {})
    langs = sorted(full, key=lambda lang: (full[lang]["gap"], lang))
    mean_gaps = {}
    for lang in langs:
        modes = [by_mode[m][lang]["gap"] for m in MODES if lang in by_mode.get(m, {})]
        mean_gaps[lang] = sum(modes) / len(modes)
    low = [full[lang]["gap"] - full[lang]["ci95"][0] for lang in langs]
    high = [full[lang]["ci95"][1] - full[lang]["gap"] for lang in langs]
    fig = _gap_bars(plt, langs, {lang: full[lang]["gap"] for lang in langs}, (low, high), mean_gaps,
                    "full_L - English (paired)",
                    "difference to English, points (paired 95% bootstrap interval, same questions)", title)
    not_paired = sorted(p.config for p in pairs if p.metrics is None)
    return fig, {"full": {lang: full[lang]["gap"] for lang in langs},
                 "full_ci95": {lang: full[lang]["ci95"] for lang in langs},
                 "full_n": {lang: full[lang]["n"] for lang in langs},
                 "mean_over_modes": mean_gaps, "interval": "paired bootstrap", "not_paired": not_paired}


def plot_transfer(pairs: list, title: str = ""):
    """Transfer (right in the language among the questions right in English; ECLeKTic) per variant and
    language, each with its chance level (the language's accuracy) as a tick."""
    plt = _pyplot()
    cells = [p for p in pairs if p.metrics is not None and p.metrics["transfer"] is not None]
    variants = list(dict.fromkeys(p.variant for p in cells))
    langs = sorted({p.language for p in cells},
                   key=lambda lang: (PAPER_LANGUAGES.index(lang) if lang in PAPER_LANGUAGES else 99, lang))
    width = 0.8 / max(len(langs), 1)
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(variants) + 2), 4.2))
    values: dict[str, dict[str, dict]] = {}
    for i, lang in enumerate(langs):
        xs, ys, chance = [], [], []
        for x, variant in enumerate(variants):
            pair = next((p for p in cells if p.variant == variant and p.language == lang), None)
            if pair is None:
                continue
            xs.append(x + (i - (len(langs) - 1) / 2) * width)
            ys.append(100 * pair.metrics["transfer"])
            chance.append(100 * pair.metrics["transfer_chance"])
            values.setdefault(variant, {})[lang] = {"transfer": ys[-1], "chance": chance[-1], "n": pair.metrics["n"]}
        ax.bar(xs, ys, width, label=lang, **_style(i, len(langs)))
        ax.plot(xs, chance, "k_", markersize=10)
    ax.plot([], [], "k_", markersize=10, label="chance")
    ax.set_xticks(range(len(variants)), variants, rotation=20, ha="right")
    ax.set_ylim(0, 100)
    ax.set_ylabel("transfer %: right in L among right in English")
    ax.set_title(title or "Transfer from English per variant and language")
    ax.legend(fontsize=8, ncol=min(len(langs) + 1, 6))
    fig.tight_layout()
    return fig, values


def variant_gaps(cells: dict[str, Cell]) -> dict[str, float]:
    """Per mode, the gap to English averaged over the languages; mixups as they are."""
    english = cells["en"].accuracy
    gaps = {}
    for mode in MODES:
        accs = [c.accuracy for v, c in cells.items() if variant_parts(v)[0] == mode and variant_parts(v)[1]]
        if accs:
            gaps[mode] = 100 * (sum(accs) / len(accs) - english)
    for variant, cell in cells.items():
        if variant.startswith("mixup"):
            gaps[variant] = 100 * (cell.accuracy - english)
    return gaps


def plot_gap_closed(tuned: dict[str, Cell], base: dict[str, Cell], title: str = ""):
    """Gap to English per variant for the base and the fine-tuned model; ``closed`` is how many
    points of the base model's gap the fine-tuned model closed."""
    plt = _pyplot()
    tuned_gaps, base_gaps = variant_gaps(tuned), variant_gaps(base)
    variants = [v for v in base_gaps if v in tuned_gaps]
    closed = {v: tuned_gaps[v] - base_gaps[v] for v in variants}
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(variants) + 2), 4.2))
    xs = range(len(variants))
    ax.bar([x - 0.2 for x in xs], [base_gaps[v] for v in variants], 0.4, label="base", **_style(0, 2))
    ax.bar([x + 0.2 for x in xs], [tuned_gaps[v] for v in variants], 0.4, label="fine-tuned", **_style(1, 2))
    for x, v in zip(xs, variants):
        ax.annotate(f"{closed[v]:+.1f}", (x, max(base_gaps[v], tuned_gaps[v], 0)), ha="center", va="bottom",
                    fontsize=7)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(list(xs), variants, rotation=20, ha="right")
    ax.set_ylabel("gap to English, points (mean over languages)")
    ax.set_title(title or "Gap closed by fine-tuning (labels: points closed)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, {"base": base_gaps, "fine_tuned": tuned_gaps, "closed": closed}


def culture_accuracy(records_dir: Path) -> dict[str, float]:
    """Accuracy on the culturally sensitive (CS) and agnostic (CA) questions of one configuration."""
    correct: dict[str, list[bool]] = {}
    for path in sorted(Path(records_dir).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("culture"):
                correct.setdefault(record["culture"], []).append(bool(record["correct"]))
    return {tag: sum(v) / len(v) for tag, v in sorted(correct.items())}


def culture_intervals(cells: dict[str, Cell]) -> dict[str, dict[str, dict]]:
    """Per language and culture tag, ``full_L`` paired with English by question id on the questions of
    that tag: the difference (points, L - English), its paired 95% interval and n; or why not paired."""
    from crossknow.analysis.paired import PairingError, paired_metrics
    from crossknow.analysis.paired_report import load_side

    english = load_side(cells["en"].records, "subject")
    out: dict[str, dict[str, dict]] = {}
    for lang in [lang for lang in _languages(cells) if f"full_{lang}" in cells]:
        target = load_side(cells[f"full_{lang}"].records, "subject")
        by_ids = english.has_ids and target.has_ids
        e, t = (english.by_id, target.by_id) if by_ids else (english.by_position, target.by_position)
        for tag in ("CS", "CA"):
            e_tag = {k: r for k, r in e.items() if r.get("culture") == tag}
            t_tag = {k: r for k, r in t.items() if r.get("culture") == tag}
            if not e_tag or not t_tag:
                continue
            try:
                m = paired_metrics(t_tag, e_tag)
            except PairingError as error:
                out.setdefault(lang, {})[tag] = {"not_paired": str(error)}
                continue
            lo, hi = m["gap_ci95"]
            out.setdefault(lang, {})[tag] = {"gap": 0.0 - 100 * m["gap"], "ci95": [0.0 - 100 * hi, 0.0 - 100 * lo],
                                             "n": m["n"]}
    return out


def plot_culture_gap(cells: dict[str, Cell], title: str = ""):
    """Per language, the gap of ``full_L`` to English on CS and on CA questions, paired by question id
    with its paired 95% interval; a tag whose questions differ between the two is not drawn."""
    plt = _pyplot()
    intervals = culture_intervals(cells)
    langs = [lang for lang in _languages(cells) if f"full_{lang}" in cells]
    gaps = {lang: {tag: v["gap"] for tag, v in intervals.get(lang, {}).items() if "gap" in v} for lang in langs}
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(langs) + 2), 4))
    for i, (tag, label) in enumerate((("CS", "culturally sensitive"), ("CA", "culturally agnostic"))):
        drawn = [(x, lang) for x, lang in enumerate(langs) if tag in gaps[lang]]
        values = [gaps[lang][tag] for _, lang in drawn]
        errors = [[v - intervals[lang][tag]["ci95"][0] for v, (_, lang) in zip(values, drawn)],
                  [intervals[lang][tag]["ci95"][1] - v for v, (_, lang) in zip(values, drawn)]]
        ax.bar([x + (i - 0.5) * 0.4 for x, _ in drawn], values, 0.4, yerr=errors, capsize=2, label=label,
               **_style(i, 2))
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(langs)), langs)
    ax.set_ylabel("gap of full_L to English, points (paired 95% interval)")
    ax.set_title(title or "Gap to English by Global-MMLU culture tag")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, gaps


def plot_hp(cells: dict[str, Cell], title: str = ""):
    """The HP quiz per language, with the English line."""
    plt = _pyplot()
    langs = [lang for lang in cells if lang != "en"]
    fig, ax = plt.subplots(figsize=(max(5, 0.8 * len(langs) + 2), 4))
    values = {}
    for i, lang in enumerate(langs):
        cell = cells[lang]
        ax.bar([i], [100 * cell.accuracy], 0.6, capsize=3, label=None, **_style(i, len(langs)),
               yerr=[[100 * (cell.accuracy - cell.ci95[0])], [100 * (cell.ci95[1] - cell.accuracy)]])
        values[lang] = 100 * cell.accuracy
    if "en" in cells:
        _english_line(ax, cells["en"])
        values["en"] = 100 * cells["en"].accuracy
    ax.set_xticks(range(len(langs)), langs)
    ax.set_ylim(0, 100)
    ax.set_ylabel("accuracy % (95% interval)")
    ax.set_title(title or "Harry Potter quiz per language")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, values


def save(fig, out_dir: Path, name: str) -> list[Path]:
    plt = _pyplot()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.png", out_dir / f"{name}.svg"]
    for path in paths:
        fig.savefig(path, dpi=120)
    plt.close(fig)
    return paths


def plot_folder(folder: Path, by_task: dict[str, list[dict]] | None = None, out_dir: Path | None = None,
                baseline: Path | None = None, pairs: list | None = None) -> list[Path]:
    """Every figure the results of ``folder`` (``by_task``: its results by task, read when not
    given) support, into ``out_dir`` (default ``{folder}/figures``); returns the files written.
    ``pairs``: the folder's MMLU results paired with English (crossknow/analysis/paired_report.py), for the
    paired gaps and the transfer figure; None where they have no records."""
    _pyplot()  # a missing matplotlib stops here, before any work
    folder = Path(folder)
    by_task = results_in(folder) if by_task is None else by_task
    out_dir = Path(out_dir or folder / "figures")
    written, values = [], {}
    pairs = None if pairs is None else [p for p in pairs if "[" not in p.variant]  # the plain sweep, as mmlu_cells
    if by_task.get("hp"):
        hp = hp_cells(by_task["hp"], folder)
        variant = by_task["hp"][0]["config"]["variant"]
        fig, values["hp_by_language"] = plot_hp(hp, f"Harry Potter quiz per language ({variant}, {folder.parent.name})")
        written += save(fig, out_dir, "hp_by_language")
    cells = mmlu_cells(by_task.get("mmlu", []), folder)
    prefix = folder
    if _languages(cells):
        fig, values["accuracy_by_variant"] = plot_accuracy(cells, f"Accuracy per variant and language ({prefix.name})")
        written += save(fig, out_dir, "accuracy_by_variant")
    if "en" in cells and any(v.startswith("full_") for v in cells):
        fig, values["gap_by_language"] = plot_gap_by_language(cells, f"Gap to English per language ({prefix.name})",
                                                               pairs or None)
        written += save(fig, out_dir, "gap_by_language")
    if pairs and any(p.metrics is not None and p.metrics["transfer"] is not None for p in pairs):
        fig, values["transfer"] = plot_transfer(pairs, f"Transfer from English ({prefix.name})")
        written += save(fig, out_dir, "transfer")
    if "en" in cells and any(v.startswith("full_") for v in cells) and culture_accuracy(cells["en"].records):
        fig, values["culture_gap"] = plot_culture_gap(cells, f"Gap by culture tag ({prefix.name})")
        values["culture_gap_paired"] = culture_intervals(cells)
        written += save(fig, out_dir, "culture_gap")
    if baseline is not None and "en" in cells:
        fig, values["gap_closed"] = plot_gap_closed(cells, mmlu_cells(results_in(baseline).get("mmlu", []), baseline),
                                                    f"Gap closed: {prefix.name} vs {Path(baseline).name}")
        written += save(fig, out_dir, "gap_closed")
    if written:
        atomic_write_json(out_dir / "values.json", values)
        written.append(out_dir / "values.json")
    return written
