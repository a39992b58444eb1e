"""Write the crosslingual variant folders from ``{split}`` and ``{split}_full_{lang}`` folders.

A full folder's culture tags (``culture.json``, from the Global-MMLU import) follow its rows into
every variant folder built from it. A full folder whose manifest records cells kept in English
(``MMLU/translate.py --on_failure keep_english``) is refused unless ``allow_kept_english``: its
variants would be partly English."""

from __future__ import annotations

import json
from pathlib import Path

from crossknow.core.answers import LABELS
from crossknow.core.errors import CrossknowError
from crossknow.core.io import atomic_write_json, atomic_write_jsonl, atomic_write_text
from crossknow.data.culture import read_culture, row_tags, write_culture
from crossknow.data.mmlu import DataError, folder_name, format_mmlu_csv, read_mmlu_csv, subject_path, subjects_in_folder
from crossknow.data.variants import BUILT_MODES, build_mixup, build_variant, mixup_variant


class OverwriteError(CrossknowError, RuntimeError):  # a user error: one line from crossknow.core.cli.run
    pass


def _write_all(outputs: dict[Path, str], overwrite: bool) -> None:
    """Check every file for conflicts first, so that a refused run changes nothing."""
    changed = {p: t for p, t in outputs.items() if not p.exists() or p.read_text(encoding="utf-8") != t}
    conflicts = [p for p in changed if p.exists()]
    if conflicts and not overwrite:
        raise OverwriteError(f"{conflicts[0]} exists with other content ({len(conflicts)} file(s) would "
                             "change); use --overwrite to replace them")
    for path, text in changed.items():
        atomic_write_text(path, text)


def skipped_rows(folder: Path, subject: str) -> set[int]:
    """English rows that ``MMLU/translate.py --on_failure skip`` left out of a full folder."""
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return set()
    return set(json.loads(manifest.read_text()).get("skipped", {}).get(subject, []))


def english_rows(folder: Path, subject: str, english_count: int) -> list[int] | None:
    """The English row (counted from 0) that each row of ``subject`` in a variant folder translates:
    a built folder records them where rows were dropped (``english_rows``), a full folder its
    skipped rows (``skipped``); None where the manifest records neither (rows then align by position)."""
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return None
    record = json.loads(manifest.read_text(encoding="utf-8"))
    if subject in record.get("english_rows", {}):
        return list(record["english_rows"][subject])
    if subject in record.get("skipped", {}):
        skipped = set(record["skipped"][subject])
        return [i for i in range(english_count) if i not in skipped]
    return None


def kept_english_cells(folder: Path) -> dict[str, list]:
    """Per subject, the ``[row, column]`` cells (rows counted from 0) that a full folder kept in
    English; an older manifest that did not record the cells gives ``[]`` for each such subject."""
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return {}
    record = json.loads(manifest.read_text(encoding="utf-8"))
    if "kept_english_cells" in record:
        return record["kept_english_cells"]
    if record.get("on_failure") == "keep_english":
        return {s: [] for s in record.get("incomplete_subjects", []) if s not in record.get("skipped", {})}
    return {}


def check_no_kept_english(folders: list[Path], subjects: list[str]) -> None:
    """Refuse the first full folder that kept English cells in a subject to be built, naming them."""
    for folder in folders:
        kept = {s: cells for s, cells in kept_english_cells(folder).items() if s in subjects}
        if kept:
            subject, cells = next(iter(kept.items()))
            shown = ", ".join(f"row {row + 1} {column}" for row, column in cells[:5]) or "cells not recorded"
            total = sum(len(c) for c in kept.values())
            raise DataError(f"{folder / 'manifest.json'}: {total or 'some'} cell(s) kept in English in "
                            f"{len(kept)} subject(s) ({', '.join(kept)}), first {subject}: {shown}; re-run "
                            "MMLU/translate.py --mode full to translate them, or pass --allow_kept_english")


def load_aligned(data_dir: Path, split: str, languages: list[str], subject: str):
    """English and full translations, aligned row by row; rows skipped in any language are dropped.
    ``row_ids`` are the kept rows' positions in the English file (recorded in the built folders'
    manifests as ``english_rows`` where any row was dropped, so results pair by the right question)."""
    english = read_mmlu_csv(subject_path(data_dir / split, subject, split))
    folders = {lang: data_dir / folder_name(split, f"full_{lang}") for lang in languages}
    skipped = {lang: skipped_rows(folder, subject) for lang, folder in folders.items()}
    dropped = set().union(*skipped.values())
    keep = [i for i in range(len(english)) if i not in dropped]
    translations = {}
    for lang, folder in folders.items():
        path = subject_path(folder, subject, split)
        rows = read_mmlu_csv(path)
        present = [i for i in range(len(english)) if i not in skipped[lang]]
        if len(rows) != len(present):
            raise DataError(f"{path}: {len(rows)} rows, but the English file has {len(present)}")
        by_row = dict(zip(present, rows))
        for i in present:
            if english[i].answer != by_row[i].answer:
                raise DataError(f"{path}: row {present.index(i) + 1}: answer {by_row[i].answer} differs from "
                                f"English {english[i].answer}")
        translations[lang] = [by_row[i] for i in keep]
    return [english[i] for i in keep], translations, keep


def build_variant_folders(data_dir: str | Path, languages: list[str], splits=("dev", "test"),
                          modes=BUILT_MODES, mixup: bool = True, seed: int = 0,
                          overwrite: bool = False, mixup_languages: list[str] | None = None,
                          subjects: list[str] | None = None, allow_kept_english: bool = False) -> list[Path]:
    """Build every mode per language, and mixup over ``mixup_languages`` (default: ``languages``;
    the folder is ``mixup`` for the paper's four, ``mixup_ar-hi-ru-zh`` for others, and its manifest
    records the set); ``subjects`` default to every subject of the English split. A full folder with
    cells kept in English is refused unless ``allow_kept_english``. Returns the folders written."""
    data_dir = Path(data_dir)
    mixup_languages = sorted(set(mixup_languages or languages) - {"en"})
    mixup_name = mixup_variant(mixup_languages) if mixup else None
    needed = list(dict.fromkeys([*languages, *(mixup_languages if mixup else [])]))
    written, outputs, logs, tags, row_maps = set(), {}, {}, {}, {}
    if not allow_kept_english:
        for split in splits:
            split_subjects = subjects or subjects_in_folder(data_dir / split, split)
            full = [data_dir / folder_name(split, f"full_{lang}") for lang in needed]
            check_no_kept_english(full, split_subjects)
    for split in splits:
        split_subjects = subjects or subjects_in_folder(data_dir / split, split)
        if not split_subjects:
            raise DataError(f"{data_dir / split}: no {split} CSV files")
        mixup_log = []
        for subject in split_subjects:
            english, translations, row_ids = load_aligned(data_dir, split, needed, subject)
            dropped_any = row_ids != list(range(len(read_mmlu_csv(subject_path(data_dir / split, subject, split)))))
            culture = {lang: read_culture(data_dir / folder_name(split, f"full_{lang}"), subject) for lang in needed}
            for mode in modes:
                for lang in languages:
                    folder = data_dir / folder_name(split, f"{mode}_{lang}")
                    rows = build_variant(mode, english, translations[lang], subject, split, seed, row_ids)
                    outputs[subject_path(folder, subject, split)] = format_mmlu_csv(rows)
                    tags.setdefault(folder, {})[subject] = row_tags({lang: culture[lang]}, row_ids, subject)
                    if dropped_any:
                        row_maps.setdefault(folder, {})[subject] = row_ids
                    written.add(folder)
            if mixup:
                chosen = {lang: translations[lang] for lang in mixup_languages}
                rows, assignment = build_mixup(english, chosen, subject, split, seed, row_ids)
                folder = data_dir / folder_name(split, mixup_name)
                outputs[subject_path(folder, subject, split)] = format_mmlu_csv(rows)
                tags.setdefault(folder, {})[subject] = row_tags({lang: culture[lang] for lang in chosen}, row_ids, subject)
                mixup_log += [{"subject": subject, "row": i, "languages": dict(zip(["question", *LABELS], a))}
                              for i, a in zip(row_ids, assignment)]
                if dropped_any:
                    row_maps.setdefault(folder, {})[subject] = row_ids
                written.add(folder)
        if mixup:
            logs[data_dir / folder_name(split, mixup_name) / "languages.jsonl"] = mixup_log
    _write_all(outputs, overwrite)
    for path, log in logs.items():
        atomic_write_jsonl(path, log)
    for folder in written:
        manifest = {"built_by": "crossknow.data.variant_folders", "from": sorted({"full_" + lang for lang in needed}),
                    "seed": seed, "subjects": len(list(folder.glob("*.csv")))}
        if folder.name.endswith(f"_{mixup_name}"):
            manifest["languages"] = ["en", *mixup_languages]
        kept = {name: sorted(kept_english_cells(data_dir / f"{folder.name.split('_')[0]}_{name}"))
                for name in manifest["from"]}
        if folder in row_maps:  # rows dropped (skipped in a translation): which English row each row is
            manifest["english_rows"] = row_maps[folder]
        if any(kept.values()):  # built with --allow_kept_english: say from which subjects
            manifest["kept_english_subjects"] = {name: subjects for name, subjects in kept.items() if subjects}
        atomic_write_json(folder / "manifest.json", manifest)
        write_culture(folder, tags[folder])
    return sorted(written)
