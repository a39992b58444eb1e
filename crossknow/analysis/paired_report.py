"""Each result paired with its English counterpart, question by question (``crossknow/analysis/paired.py``).

Reads the per-question records beside each result (its ``records`` folder) and pairs them by question
id (``crossknow/data/question_ids.py``); records without ids (written before ids existed) pair by (unit,
row), and the pairing says so. A pair on other questions is refused: it becomes a note naming the
first differing id, and no gap. Used by ``python -m crossknow.report`` (tables, ``--paired``).

MMLU: every configuration against the English one of its group (same demos, shots and scoring; the
plain English run where its group has none), clustered by subject. HP: every language against
English in the same folder, or in the ``none`` folder beside it for the other variants. Synthetic
quizzes: within one arm's quiz, each language of a fact set against English on the same set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from crossknow.analysis.paired import PairingError, holm, paired_metrics
from crossknow.core.errors import CrossknowError
from crossknow.core.io import read_jsonl
from crossknow.data.question_ids import record_id


@dataclass
class Side:
    """One result's records: by question id, and by (unit, row) for pairing with older records."""

    by_id: dict[str, dict]
    by_position: dict[str, dict]
    clusters: dict[str, str]
    has_ids: bool


@dataclass
class Pair:
    """One cell: a result against its English counterpart, its metrics or why it was not paired."""

    model: str
    task: str
    config: str
    language: str
    variant: str
    folder: str
    metrics: dict | None = None
    refused: str | None = None
    notes: list[str] = field(default_factory=list)

    def row(self) -> dict:
        """The ``--paired`` object (fractions in [0, 1])."""
        m = self.metrics
        row = {"model": self.model, "task": self.task, "config": self.config, "language": self.language,
               "n": m["n"], "accuracy": m["accuracy"], "accuracy_en": m["accuracy_reference"]}
        row.update({k: m[k] for k in ("gap", "gap_ci95", "gap_ci95_clustered", "mcnemar_p", "overall", "transfer",
                                      "consistency")})
        row.update({"mcnemar_p_holm": m.get("mcnemar_p_holm"), "overall_chance": m["overall_chance"],
                    "transfer_chance": m["transfer_chance"], "consistency_chance": m["consistency_chance"],
                    "dropped": len(m["dropped_target"]), "dropped_en": len(m["dropped_reference"]),
                    "paired_by": "id" if not self.notes else "unit and row", "folder": self.folder})
        return row


def model_name(result: dict, folder: Path) -> str:
    model = result.get("config", {}).get("model")
    if isinstance(model, dict) and model.get("name"):
        return str(model["name"])
    return folder.name


def records_folder(result: dict) -> Path | None:
    if not result.get("records") or not result.get("_path"):
        return None
    folder = Path(result["_path"]).parent / result["records"]
    return folder if folder.is_dir() else None


def load_side(folder: Path, unit_field: str, units: list[str] | None = None) -> Side:
    """The records of ``folder`` (every ``*.jsonl``, or those of ``units``); a repeated id is an error."""
    by_id, by_position, clusters, has_ids = {}, {}, {}, True
    paths = sorted(folder.glob("*.jsonl")) if units is None else [folder / f"{u}.jsonl" for u in units]
    for path in paths:
        for record in read_jsonl(path):
            qid, fallback = record_id(record, unit_field)
            has_ids &= not fallback
            if qid in by_id:
                raise CrossknowError(f"{path}: question id {qid!r} appears twice")
            by_id[qid] = record
            by_position[f"{record.get(unit_field, path.stem)}/{record.get('index')}"] = record
            clusters[qid] = str(record.get(unit_field, path.stem))
    return Side(by_id, by_position, clusters, has_ids)


class SideCache:
    """Loads each records folder once (an English result is the counterpart of many)."""

    def __init__(self):
        self._sides: dict[tuple, Side] = {}

    def get(self, folder: Path, unit_field: str, units: tuple[str, ...] | None = None) -> Side:
        key = (folder, unit_field, units)
        if key not in self._sides:
            self._sides[key] = load_side(folder, unit_field, None if units is None else list(units))
        return self._sides[key]


def pair_sides(pair: Pair, target: Side, english: Side, *, clustered: bool, allow_partial: bool,
               n_resamples: int, seed: int, where: str) -> Pair:
    """Fill ``pair`` with the metrics of target against English, or with why they were refused."""
    by_ids = target.has_ids and english.has_ids
    t, e = (target.by_id, english.by_id) if by_ids else (target.by_position, english.by_position)
    if not by_ids:
        pair.notes.append(f"{where}: records without question ids (written before ids existed): paired by unit "
                          "and row")
    clusters = None
    if clustered:
        clusters = english.clusters if by_ids else {k: k.rsplit("/", 1)[0] for k in e}
    try:
        pair.metrics = paired_metrics(t, e, clusters=clusters, n_resamples=n_resamples, seed=seed,
                                      allow_partial=allow_partial)
    except PairingError as error:
        pair.refused = f"{where}: not paired with English: {error}"
    return pair


# Config fields that say which configuration and questions a result is (the ids check the questions);
# every other field is a setting that can change the numbers and must be the same on both sides.
IDENTITY_FIELDS = frozenset({"name", "test_variant", "dev_variant", "test_mode", "test_language", "language",
                             "variant", "units", "data", "limit", "processes", "fingerprint_sha256", "records"})
# How a generation run answers; a translate-then-answer run is compared with direct English answers.
GENERATION_FIELDS = frozenset({"infer_mode", "max_new_tokens", "do_sample", "seed", "stop"})


def _setting(key: str, value):
    """What of a config field decides the numbers: of the backend, its kind and dtype."""
    if key == "backend" and isinstance(value, dict):
        return {k: value.get(k) for k in ("backend", "dtype")}
    return value


def settings_difference(config: dict, english: dict) -> str | None:
    """The first setting in which a result and its English counterpart differ, or None."""
    skip = IDENTITY_FIELDS
    if config.get("infer_mode") == "generation" and english.get("infer_mode") != "generation":
        skip = skip | GENERATION_FIELDS
    for key in sorted((set(config) | set(english)) - skip):
        here, there = _setting(key, config.get(key)), _setting(key, english.get(key))
        if here != there:
            return f"{key}: {here!r} here, {there!r} in English"
    return None


def refused_for_settings(pair: Pair, config: dict, english: dict, where: str) -> Pair | None:
    """``pair`` marked as refused when the two results were made under other settings."""
    difference = settings_difference(config, english)
    if difference is None:
        return None
    pair.refused = f"{where}: not paired with English: made under other settings ({difference})"
    return pair


def mmlu_pairs(folder: Path, results: list[dict], cache: SideCache, **options) -> list[Pair]:
    from crossknow.analysis.gather import group_notes

    groups: dict[tuple, list[dict]] = {}
    for result in results:
        groups.setdefault(group_notes(result["config"]), []).append(result)
    plain = next((r for r in groups.get((), []) if r["config"]["test_variant"] == ""), None)
    pairs = []
    for notes, group in groups.items():
        english = next((r for r in group if r["config"]["test_variant"] == ""), None) or plain
        english_records = records_folder(english) if english else None
        for result in group:
            config = result["config"]
            if result is english or config["test_variant"] == "" or english_records is None:
                continue
            target_records = records_folder(result)
            if target_records is None:
                continue
            pair = Pair(model_name(result, folder), "mmlu", config["name"],
                        config.get("test_language") or config["test_variant"],
                        _variant_label(config.get("test_mode") or config["test_variant"], notes), str(folder))
            where = f"{Path(result['_path']).name} vs {Path(english['_path']).name}"
            if refused := refused_for_settings(pair, config, english["config"], where):
                pairs.append(refused)
                continue
            # only the English side is kept: a sweep's targets are read once each, and memory stays at two sides
            pairs.append(pair_sides(pair, load_side(target_records, "subject"), cache.get(english_records, "subject"),
                                    clustered=True, where=where, **options))
    return pairs


def _variant_label(variant: str, notes: tuple[str, ...]) -> str:
    """The mode (``full``), with what sets its group apart (``full [English demos]``)."""
    return f"{variant} [{', '.join(notes)}]" if notes else variant


def hp_english(folder: Path, results: list[dict], hp_by_folder: dict[Path, list[dict]]) -> dict | None:
    for candidate in (results, hp_by_folder.get(folder.parent / "none", [])):
        english = next((r for r in candidate if r["config"].get("language") == "en"), None)
        if english is not None:
            return english
    return None


def hp_pairs(folder: Path, results: list[dict], hp_by_folder: dict[Path, list[dict]], cache: SideCache,
             **options) -> list[Pair]:
    english = hp_english(folder, results, hp_by_folder)
    english_records = records_folder(english) if english else None
    pairs = []
    for result in results:
        lang = result["config"].get("language")
        target_records = records_folder(result)
        if result is english or lang == "en" or english_records is None or target_records is None:
            continue
        variant = result["config"].get("variant", "none")
        pair = Pair(model_name(result, folder), "hp", f"{variant}_{lang}", lang, variant, str(folder))
        where = f"{Path(result['_path']).name} vs {Path(english['_path']).name}"
        if refused := refused_for_settings(pair, result["config"], english["config"], where):
            pairs.append(refused)
            continue
        # HP records name their unit "language": pair by quiz row, across languages
        target = _by_row(cache.get(target_records, "language"))
        reference = _by_row(cache.get(english_records, "language"))
        pairs.append(pair_sides(pair, target, reference, clustered=False, where=where, **options))
    return pairs


def _by_row(side: Side) -> Side:
    """HP records without ids pair by quiz row alone: the unit (language) differs between the sides."""
    by_row = {f"row/{r.get('index')}": r for r in side.by_position.values()}
    return Side(side.by_id, by_row, side.clusters, side.has_ids)


def synthetic_quiz_pairs(folder: Path, result: dict, cache: SideCache, **options) -> list[Pair]:
    records = records_folder(result)
    if records is None:
        return []
    units = sorted(p.stem for p in records.glob("*.jsonl"))
    config = result.get("config", {})
    label = f"{config.get('arm', Path(result['_path']).stem)}/seed{config.get('experiment_seed', '?')}"
    pairs = []
    for unit in units:
        fact_set, _, lang = unit.rpartition("_")
        if lang == "en" or f"{fact_set}_en" not in units:
            continue
        name = f"{label}/{fact_set}"
        pair = Pair(model_name(result, folder), "synthetic_quiz", name, lang, name, str(folder))
        target = cache.get(records, "unit", (unit,))
        english = cache.get(records, "unit", (f"{fact_set}_en",))
        pairs.append(pair_sides(pair, _by_row(target), _by_row(english), clustered=False,
                                where=f"{records}/{unit}.jsonl", **options))
    return pairs


def add_holm(pairs: list[Pair]) -> None:
    """Holm-adjusted McNemar p-values across the paired cells of one table (one folder and task)."""
    tables: dict[tuple[str, str], list[Pair]] = {}
    for pair in pairs:
        if pair.metrics is not None:
            tables.setdefault((pair.folder, pair.task), []).append(pair)
    for table in tables.values():
        for pair, adjusted in zip(table, holm([p.metrics["mcnemar_p"] for p in table])):
            pair.metrics["mcnemar_p_holm"] = adjusted


def variant_summary(pairs: list[Pair]) -> list[dict]:
    """Across the languages of one variant: mean gap, worst language (largest gap), best minus worst
    accuracy (MultiLoKo's spread), over the paired languages (English not included)."""
    by_variant: dict[tuple[str, str, str], list[Pair]] = {}
    for pair in pairs:
        if pair.metrics is not None:
            by_variant.setdefault((pair.folder, pair.task, pair.variant), []).append(pair)
    summaries = []
    for (folder, task, variant), group in by_variant.items():
        worst = max(group, key=lambda p: p.metrics["gap"])
        accuracies = [p.metrics["accuracy"] for p in group]
        summaries.append({"folder": folder, "task": task, "variant": variant, "languages": len(group),
                          "mean_gap": sum(p.metrics["gap"] for p in group) / len(group),
                          "worst_language": worst.language, "worst_gap": worst.metrics["gap"],
                          "best_minus_worst": max(accuracies) - min(accuracies)})
    return summaries
