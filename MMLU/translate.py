"""Build the crosslingual MMLU variants from English MMLU: translate once, assemble the rest.

``--mode full`` translates the question and each option separately (through the translation
cache: a re-run translates nothing twice, a killed run resumes). Every other mode is assembled from
the English files and the ``full`` files, with no re-translation. Any language of
crossknow/core/languages.tsv works.

Translations made elsewhere can be imported instead (MMMLU: professional human translators; Global-MMLU:
machine translations with professional translations and crowd-sourced post-edits, in its card's terms), aligned to English MMLU by subject and position and
checked answer by answer, and then every variant is built for the imported languages (mixup, over
them, when there are four or more): OpenAI's MMMLU (one or more ``mmlu_XX-YY.csv`` files, or a folder
of them; the language comes from the file name), Global-MMLU (``CohereForAI/Global-MMLU`` on the hub,
or a local copy: one ``save_to_disk`` folder per language, ``DIR/zh``, ``DIR/hi``; its culture tags go
to ``culture.json``, see crossknow/data/culture.py), or any folder of per-subject CSVs for one language.

    python MMLU/translate.py --split test --languages fr de es it --mode full --translator hf \\
        --model facebook/nllb-200-distilled-600M --data_dir cais/mmlu --out_dir MMLU/data/full
    python MMLU/translate.py --split test --mode gt_question --out_dir MMLU/data/full
    python MMLU/translate.py --split test --import_mmmlu mmlu_FR-FR.csv mmlu_ZH-CN.csv --out_dir MMLU/data/full
    python MMLU/translate.py --split test --languages zh hi sw yo --import_global_mmlu CohereForAI/Global-MMLU \\
        --out_dir MMLU/data/full

Apertium (``--translator apertium``) is the one translator that runs offline here; it is
rule-based and weak (BLEU 12-16), so its variants measure the pipeline, not the barrier.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import shutil
import sys
from pathlib import Path

from crossknow.core.answers import LABELS
from crossknow.core.cli import (
    add_batch_size_argument,
    add_languages_argument,
    add_limit_argument,
    add_model_argument,
    add_output_argument,
    add_overwrite_argument,
    add_seed_argument,
    data_location,
    non_negative_float,
    run,
)
from crossknow.core.errors import CrossknowError
from crossknow.core.io import atomic_write_json, folder_lock, read_json
from crossknow.core.languages import LANGUAGES, PAPER_LANGUAGES, get_language, mmmlu_language
from crossknow.data.alignment import content_warnings
from crossknow.data.culture import TAGS, read_culture, write_culture
from crossknow.data.mmlu import (
    LETTERS,
    DataError,
    Item,
    checked_item,
    folder_name,
    looks_like_hub_name,
    open_source,
    read_mmlu_csv,
    subject_path,
    write_mmlu_csv,
)
from crossknow.data.question_ids import mmlu_question_id
from crossknow.data.source_ids import (
    global_mmlu_mismatch,
    global_mmlu_source_id,
    mmmlu_source_id,
    write_source_ids,
)
from crossknow.data.variant_folders import build_variant_folders
from crossknow.data.variants import BUILT_MODES
from crossknow.models.translation import (
    TRANSLATORS,
    RetryBudget,
    TranslationCache,
    check_languages,
    make_translator,
    translate,
)

MODES = ["full", "mixup", "question", "options", "gt_question", "gt", "wrong_option"]


class TranslationFailed(CrossknowError):
    pass


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", default="test", choices=["dev", "test"])
    add_languages_argument(p, None, "language codes (crossknow/core/languages.tsv); default: the paper's de fr es it, "
                           "or every file given to --import_mmmlu")
    p.add_argument("--mode", default="full", choices=MODES)
    p.add_argument("--translator", default="hf", choices=TRANSLATORS)
    add_model_argument(p, None,
                       "translation model (hf: an NLLB/M2M100/Marian name; llm: a causal LM)")
    p.add_argument("--data_dir", default="MMLU/data/full", type=data_location,
                   help="holds the English {split}/ folder; or a hub dataset such as cais/mmlu (then give --out_dir)")
    add_output_argument(p, None, "where the variant folders go (default: --data_dir)")
    p.add_argument("--subjects", nargs="+", default=None)
    add_limit_argument(p, "first N rows per subject")
    add_seed_argument(p)
    add_batch_size_argument(p, 16)
    p.add_argument("--retry_seconds", type=non_negative_float, default=120.0,
                   help="time that failed calls and retries may take in the whole run before the "
                        "strings left are recorded as failed")
    p.add_argument("--cache", default=None, help="translation cache (default: ~/.cache/crossknow/translations.sqlite)")
    p.add_argument("--on_failure", default="stop", choices=["stop", "skip", "keep_english"],
                   help="what a row with an untranslated string becomes: stop and report (default), "
                        "skip the row, or keep the English string (recorded in the manifest)")
    p.add_argument("--import_mmmlu", nargs="+", default=None, metavar="PATH",
                   help="MMMLU CSVs (mmlu_FR-FR.csv) or folders of them; with --languages, only those languages")
    p.add_argument("--import_global_mmlu", default=None, metavar="NAME_OR_DIR",
                   help="Global-MMLU: CohereForAI/Global-MMLU, or a folder of save_to_disk copies, one per "
                        "language (DIR/zh); imports the --languages")
    p.add_argument("--import_dir", default=None, help="a folder of per-subject translated CSVs for one language")
    p.add_argument("--export", default=None, metavar="VARIANT", help="copy {split}_VARIANT to --export_dir in "
                   "the Hugging Face release layout data/{split}/{subject}_{split}.csv")
    p.add_argument("--export_dir", default=None)
    add_overwrite_argument(p)
    p.add_argument("--allow_kept_english", action="store_true",
                   help="build variants from full folders that kept English strings (refused by default)")
    args = p.parse_args(argv)
    saved_dataset = (Path(args.data_dir) / "dataset_dict.json").is_file()
    if args.output_dir is None and (saved_dataset or looks_like_hub_name(args.data_dir)):
        p.error(f"--data_dir {args.data_dir} is a hub dataset: give --out_dir for the translated folders")
    args.output_dir = args.output_dir or args.data_dir
    if sum(x is not None for x in (args.import_mmmlu, args.import_global_mmlu, args.import_dir)) > 1:
        p.error("give one of --import_mmmlu, --import_global_mmlu, --import_dir")
    if args.import_dir and (args.languages is None or len(args.languages) != 1):
        p.error("--import_dir fills one language: give exactly one --languages")
    if "en" in (args.languages or []) and (args.import_mmmlu or args.import_global_mmlu or args.import_dir):
        p.error("English is what the imports are aligned to: leave en out of --languages")
    if args.import_global_mmlu and not args.languages:
        p.error("--import_global_mmlu needs --languages (Global-MMLU has 42)")
    for lang in (args.languages or []) if args.import_global_mmlu else []:
        if get_language(lang).global_mmlu is None:
            p.error(f"Global-MMLU has no language {lang!r}; it has "
                    f"{', '.join(sorted(x.iso for x in LANGUAGES.values() if x.global_mmlu))}")
    if args.languages is None and not args.import_mmmlu:
        args.languages = list(PAPER_LANGUAGES)
    return args


def english_items(args, subject: str) -> list[Item]:
    return args.english.load(subject, args.split)[: args.limit]


def copy_english(args, subjects: list[str]) -> None:
    """The output folder holds its own English split, so that it is a complete data folder.

    The variants already there were built from the English files there: an English file with other
    content (another --limit, other data) is refused unless --overwrite, and that is decided for
    every subject before any file is written.
    """
    if Path(args.data_dir).resolve() == Path(args.output_dir).resolve():
        return
    out = Path(args.output_dir) / args.split
    planned = {subject_path(out, subject, args.split): english_items(args, subject) for subject in subjects}
    changed = {path: items for path, items in planned.items() if not path.exists() or read_mmlu_csv(path) != items}
    conflicts = [path for path in changed if path.exists()]
    if conflicts and not args.overwrite:
        raise FileExistsError(f"{conflicts[0]} exists with other content ({len(conflicts)} English file(s) differ "
                              f"from {args.english.describe(args.split, '')} under these settings); nothing was "
                              "written; use --overwrite to replace them")
    for path, items in changed.items():
        write_mmlu_csv(path, items)


def full_folder(args, lang: str) -> Path:
    return Path(args.output_dir) / folder_name(args.split, f"full_{lang}")


def incomplete_subjects(args, lang: str) -> set[str]:
    """Subjects that an earlier run wrote with failed strings (skipped rows or English kept): a
    re-run retries their failures and may replace them."""
    manifest = full_folder(args, lang) / "manifest.json"
    return set(read_json(manifest).get("incomplete_subjects", [])) if manifest.is_file() else set()


def write_full(args, lang: str, subject: str, items: list[Item], replace: bool = False,
               source_ids: list[str] | None = None) -> None:
    """One subject's rows, and the imported dataset's own ids for them (none: any earlier ids go)."""
    path = subject_path(full_folder(args, lang), subject, args.split)
    if path.exists() and not (args.overwrite or replace) and read_mmlu_csv(path) != items:
        raise FileExistsError(f"{path} exists with other content; use --overwrite to replace it")
    write_mmlu_csv(path, items)
    write_source_ids(full_folder(args, lang), subject, source_ids)


COLUMNS = ("question", *LABELS)  # the five strings of a row, as the manifest names them


def translate_language(args, translator, cache, lang: str, subjects: list[str], budget: RetryBudget) -> dict:
    counts = {"strings": 0, "translated": 0, "failed": 0, "kept_english": 0, "skipped_rows": 0}
    failures, skipped, kept, written = [], {}, {}, []
    retry = incomplete_subjects(args, lang)
    for subject in subjects:
        english = english_items(args, subject)
        strings = [s for item in english for s in (item.question, *item.choices)]
        results = translate(translator, strings, "en", lang, cache, batch_size=args.batch_size,
                            desc=f"{lang} {subject}", budget=budget)
        counts["strings"] += len(strings)
        items, subject_failed = [], False
        for row, item in enumerate(english):
            parts = results[5 * row: 5 * row + 5]
            bad = [i for i, r in enumerate(parts) if not r.ok]
            counts["translated"] += 5 - len(bad)
            counts["failed"] += len(bad)
            if not bad:
                items.append(Item(parts[0].text, tuple(r.text for r in parts[1:]), item.answer))
                continue
            subject_failed = True
            failures += [(subject, row + 1, (item.question, *item.choices)[i], parts[i].error) for i in bad]
            if args.on_failure == "keep_english":
                counts["kept_english"] += len(bad)
                kept.setdefault(subject, []).extend([row, COLUMNS[i]] for i in bad)
                texts = [r.text if r.ok else e for r, e in zip(parts, (item.question, *item.choices))]
                items.append(Item(texts[0], tuple(texts[1:]), item.answer))
            elif args.on_failure == "skip":
                counts["skipped_rows"] += 1
                skipped.setdefault(subject, []).append(row)
        if args.on_failure == "stop" and subject_failed:
            continue  # nothing written for this subject; its successes are cached (and its old flags kept)
        write_full(args, lang, subject, items, replace=subject in retry)
        written.append(subject)
    if failures and args.on_failure == "stop":
        if written:  # their files replaced earlier ones: their flags must follow
            write_manifest(args, lang, f"{translator.name}:{translator.model}", {**counts, "skipped": skipped},
                           written)
        for s, r, t, e in failures[:5]:
            print(f"failed: {lang} {s} row {r}: {t[:60]!r}: {e}", file=sys.stderr)
        s, r, t, e = failures[0]
        raise TranslationFailed(f"{full_folder(args, lang)}: {counts['failed']} string(s) failed to translate "
                                f"into {lang}, first {s} row {r}: {t[:60]!r}: {e} (subjects with failures "
                                "were not written; re-run to retry them)")
    return {**counts, "skipped": skipped, "kept_english_cells": kept, "written": written}


def write_manifest(args, lang: str, source: str, counts: dict, subjects: list[str]) -> None:
    """Record the run in the folder's manifest, merged per subject with what an earlier run recorded.

    ``subjects`` are the subjects this run wrote: their flags (skipped rows, cells kept in English)
    and source replace the earlier ones; every other subject keeps its flags, since its file is the
    earlier run's. The counts (``strings``, ``failed``, ...) are this run's."""
    path = full_folder(args, lang) / "manifest.json"
    old = read_json(path) if path.is_file() else {}
    per_subject = {key: merge_subjects(subject_record(old, key), counts.get(key, {}), subjects)
                   for key in ("skipped", "kept_english_cells")}
    sources = merge_subjects(subject_record(old, "subject_sources"), dict.fromkeys(subjects, source), subjects)
    atomic_write_json(path, {
        **{k: v for k, v in counts.items() if k not in ("skipped", "kept_english_cells", "written")},
        "split": args.split, "language": lang, "source": source, "subjects": len(sources), "limit": args.limit,
        "on_failure": args.on_failure, "seed": args.seed, **per_subject,
        "incomplete_subjects": sorted({*per_subject["skipped"], *per_subject["kept_english_cells"]}),
        "subject_sources": sources,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    })


def subject_record(manifest: dict, key: str) -> dict:
    """A per-subject field of a manifest; an older manifest without the cells of ``kept_english``
    has its incomplete subjects kept as cells not recorded (``[]``), so that they stay flagged."""
    if key == "kept_english_cells" and key not in manifest and manifest.get("on_failure") == "keep_english":
        return {s: [] for s in manifest.get("incomplete_subjects", []) if s not in manifest.get("skipped", {})}
    return dict(manifest.get(key, {}))


def merge_subjects(old: dict, new: dict, written: list[str]) -> dict:
    """The written subjects' entries from ``new`` (none: the subject is clean), the others' from ``old``."""
    merged = {s: v for s, v in old.items() if s not in written}
    merged.update({s: new[s] for s in written if s in new})
    return dict(sorted(merged.items()))


def mmmlu_files(args) -> dict[str, Path]:
    """The MMMLU file of each language to import: the locale in the name (``mmlu_FR-FR.csv``) says
    the language; a file named otherwise needs a single --languages."""
    files = []
    for given in map(Path, args.import_mmmlu):
        files += sorted(given.glob("mmlu_*.csv")) if given.is_dir() else [given]
    if not files:
        raise DataError(f"{', '.join(args.import_mmmlu)}: no MMMLU files (mmlu_XX-YY.csv)")
    by_language = {}
    for path in files:
        try:
            lang = mmmlu_language(path.stem.removeprefix("mmlu_")).iso
        except ValueError as error:
            if len(files) == 1 and args.languages and len(args.languages) == 1:
                lang = args.languages[0]
            else:
                raise DataError(f"{path}: {error}; name MMMLU files mmlu_XX-YY.csv") from None
        if lang in by_language:
            raise DataError(f"{path}: a second MMMLU file for {lang!r} (the first is {by_language[lang]})")
        by_language[lang] = path
    missing = [lang for lang in args.languages or [] if lang not in by_language]
    if missing:
        raise DataError(f"no MMMLU file for {', '.join(missing)} among {', '.join(str(p) for p in files)}")
    return {lang: by_language[lang] for lang in args.languages or by_language}


MMMLU_INDEX_COLUMNS = ("", "Unnamed: 0")  # the row index pandas wrote as the first column


def import_mmmlu(args, path: Path, lang: str, subjects: list[str]) -> dict:
    """OpenAI's MMMLU: columns Question, A, B, C, D, Answer, Subject, and a row index where the file
    has one; aligned to English by that index (else by position)."""
    by_subject: dict[str, list[dict]] = {}
    with open(path, encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            by_subject.setdefault(row["Subject"], []).append(row)
    rows = 0
    for subject in subjects:
        english = english_items(args, subject)
        ordered, indices = rows_by_index(by_subject.get(subject, []), path, subject)
        translated = [checked_item({c: r[c] for c in ("Question", *LABELS)},
                                   _letter(r["Answer"], path, subject, i), f"{path}: {subject}", i + 1)
                      for i, r in enumerate(ordered)][: args.limit]
        check_aligned(english, translated, f"{path} ({subject})")
        ids = None if indices is None else [mmmlu_source_id(i) for i in indices[: len(translated)]]
        write_full(args, lang, subject, translated, source_ids=ids)
        rows += len(translated)
    return {"rows": rows}


def rows_by_index(rows: list[dict], path: Path, subject: str) -> tuple[list[dict], list[int] | None]:
    """A subject's MMMLU rows in the order of the file's row index, which must run without gaps or
    repeats, and those indices; rows without an index column stay in file order (indices None)."""
    column = next((c for c in MMMLU_INDEX_COLUMNS if rows and c in rows[0]), None)
    if column is None:
        return rows, None
    indexed = []
    for position, row in enumerate(rows):
        value = (row[column] or "").strip()
        if not value.isdigit():
            raise DataError(f"{path}: {subject} row {position + 1}: row index {value!r} is not a number")
        indexed.append((int(value), row))
    indexed.sort(key=lambda pair: pair[0])
    indices = [index for index, _ in indexed]
    for expected, (index, _) in enumerate(indexed, start=indices[0]):
        if index != expected:
            what = f"{index} is repeated" if index < expected else f"{expected} is missing"
            raise DataError(f"{path}: {subject}: row index {what} (indices {indices[0]}-{indices[-1]}): the rows "
                            "cannot be aligned to English")
    moved = sum(a is not b for a, (_, b) in zip(rows, indexed))
    if moved:
        print(f"note: {path} ({subject}): {moved} row(s) out of index order, aligned to English by the row index",
              file=sys.stderr)
    return [row for _, row in indexed], indices


GLOBAL_MMLU_COLUMNS = ("subject", "question", "option_a", "option_b", "option_c", "option_d", "answer",
                       "cultural_sensitivity_label", "sample_id")


def global_mmlu_rows(source: str, config: str, split: str):
    """One language of Global-MMLU: a local ``save_to_disk`` copy at ``source/config``, else the hub."""
    local = Path(source) / config
    if local.exists():
        from datasets import load_from_disk

        data = load_from_disk(str(local))
        if hasattr(data, "keys"):
            if split not in data:
                raise DataError(f"{local}: no {split} split (it has {', '.join(data)})")
            data = data[split]
        where = str(local)
    elif Path(source).exists():
        raise DataError(f"{local}: not found; a local Global-MMLU copy holds one save_to_disk folder per language")
    else:
        from crossknow.core.hub import load_hub_dataset

        data = load_hub_dataset(source, config, split=split, provide_locally="pass a folder holding one "
                                "save_to_disk copy per language to --import_global_mmlu")
        where = f"hub:{source}/{config}/{split}"
    missing = [c for c in GLOBAL_MMLU_COLUMNS if c not in data.column_names]
    if missing:
        raise DataError(f"{where}: no column(s) {', '.join(missing)}; is this Global-MMLU?")
    return data, where


def culture_tag(row: dict, where: str, index: int) -> str | None:
    """CS or CA for an annotated question, None for the others."""
    label = (row["cultural_sensitivity_label"] or "").strip()
    annotated = row["is_annotated"] if "is_annotated" in row else label in TAGS
    if not annotated:
        return None
    if label not in TAGS:
        raise DataError(f"{where}: row {index + 1}: cultural_sensitivity_label {label!r} is not CS or CA")
    return label


def tag_english(folder: Path, tags_by_subject: dict[str, list[str | None]], where: str) -> None:
    """The English questions get the tags too (a tag belongs to the question), so that an English
    result splits like the translated ones; every language must give the same tags."""
    for subject, tags in tags_by_subject.items():
        known = read_culture(folder, subject)
        if known is not None and known != tags:
            row = next(i for i, (a, b) in enumerate(zip(known, tags)) if a != b)
            raise DataError(f"{where}: {subject} row {row + 1}: culture tag {tags[row]!r}, but {folder / 'culture.json'} "
                            f"has {known[row]!r} from an earlier import")
    write_culture(folder, tags_by_subject)


def import_global_mmlu(args, lang: str, subjects: list[str]) -> dict:
    config = get_language(lang).global_mmlu
    data, where = global_mmlu_rows(args.import_global_mmlu, config, args.split)
    by_subject: dict[str, list[tuple[int, dict]]] = {}
    for index, row in enumerate(data):
        by_subject.setdefault(row["subject"], []).append((index, row))
    rows, tags_by_subject = 0, {}
    for subject in subjects:
        found = by_subject.get(subject, [])[: args.limit]
        english = english_items(args, subject)
        check_sample_ids(found, english, subject, args.split, where)
        translated = [checked_item({c: r[c] for c in GLOBAL_MMLU_COLUMNS[1:6]}, _letter(r["answer"], where, subject, i),
                                   where, i + 1) for i, r in found]
        check_aligned(english, translated, f"{where} ({subject})")
        write_full(args, lang, subject, translated,
                   source_ids=[global_mmlu_source_id(r["sample_id"]) for _, r in found])
        tags_by_subject[subject] = [culture_tag(r, where, i) for i, r in found]
        rows += len(translated)
    write_culture(Path(args.output_dir) / folder_name(args.split, f"full_{lang}"), tags_by_subject)
    tag_english(Path(args.output_dir) / args.split, tags_by_subject, where)
    tags = [t for tags in tags_by_subject.values() for t in tags]
    return {"rows": rows, "culturally_sensitive": tags.count("CS"), "culturally_agnostic": tags.count("CA"),
            "not_annotated": tags.count(None)}


def check_sample_ids(found: list[tuple[int, dict]], english: list[Item], subject: str, split: str, where: str) -> None:
    """Global-MMLU's ``sample_id`` ({subject}/{split}/{row}) must name the English MMLU row its
    row is written to; the first that names another is refused with both ids."""
    for row, (index, data) in enumerate(found):
        sample_id = str(data["sample_id"] or "")
        if global_mmlu_mismatch(sample_id, subject, split, row):
            english_id = (mmlu_question_id(subject, split, row, english[row]) if row < len(english)
                          else f"none (English {subject} has {len(english)} rows)")
            raise DataError(f"{where}: row {index + 1}: sample_id {sample_id!r} does not name the English MMLU "
                            f"row it is aligned to, {english_id}")


def import_folder(args, folder: Path, lang: str, subjects: list[str]) -> dict:
    rows = 0
    for subject in subjects:
        path = subject_path(folder, subject, args.split)
        translated = read_mmlu_csv(path)[: args.limit]
        check_aligned(english_items(args, subject), translated, str(path))
        write_full(args, lang, subject, translated)
        rows += len(translated)
    return {"rows": rows}


def _letter(value: str, path: Path, subject: str, index: int) -> int:
    if value.strip() not in tuple(LETTERS):  # exactly one letter: never "BC" or ""
        raise DataError(f"{path}: {subject} row {index + 1}: Answer {value!r} is not one of A-D")
    return LETTERS.index(value.strip())


def check_aligned(english: list[Item], translated: list[Item], source: str) -> None:
    """Refuse another row count or another answer; warn (crossknow/data/alignment.py) about rows whose
    numbers or option lengths do not match English."""
    if len(english) != len(translated):
        raise DataError(f"{source}: {len(translated)} rows, but English has {len(english)}")
    wrong = [i + 1 for i, (e, t) in enumerate(zip(english, translated)) if e.answer != t.answer]
    if wrong:
        raise DataError(f"{source}: the answer differs from English on row(s) {wrong[:10]}: not the same questions")
    for warning in content_warnings(english, translated, source):
        print(warning, file=sys.stderr)


def export(args, subjects: list[str]) -> None:
    source = Path(args.output_dir) / folder_name(args.split, args.export)
    target = Path(args.export_dir) / "data" / args.split
    target.mkdir(parents=True, exist_ok=True)
    for subject in subjects:
        shutil.copyfile(subject_path(source, subject, args.split), subject_path(target, subject, args.split))
    print(f"exported {source} to {target}")


def run_imports(args, subjects: list[str]) -> None:
    """Import the full translation of each language, then build every variant for them."""
    files = mmmlu_files(args) if args.import_mmmlu else {}
    languages = list(files) if files else args.languages
    copy_english(args, subjects)
    for lang in languages:
        if args.import_mmmlu:
            counts = import_mmmlu(args, files[lang], lang, subjects)
            source = f"import:mmmlu:{files[lang].name}"
        elif args.import_global_mmlu:
            counts = import_global_mmlu(args, lang, subjects)
            source = f"import:global-mmlu:{args.import_global_mmlu}:{get_language(lang).global_mmlu}"
        else:
            counts = import_folder(args, Path(args.import_dir), lang, subjects)
            source = f"import:{args.import_dir}"
        if not args.import_global_mmlu:
            write_culture(Path(args.output_dir) / folder_name(args.split, f"full_{lang}"), dict.fromkeys(subjects))
        write_manifest(args, lang, source, counts, subjects)
        print(f"imported {counts['rows']} rows into {folder_name(args.split, 'full_' + lang)}")
    folders = build_variant_folders(args.output_dir, languages, [args.split], BUILT_MODES, len(set(languages)) >= 4,
                                    args.seed, args.overwrite, subjects=subjects,
                                    allow_kept_english=args.allow_kept_english)
    print(f"built {len(folders)} variant folders: {', '.join(f.name for f in folders)}")


def main(argv=None) -> None:
    args = parse_args(argv)
    with folder_lock((args.export and args.export_dir) or args.output_dir):  # one writer per folder
        build(args)


def build(args: argparse.Namespace) -> None:
    args.english = open_source(args.data_dir, mixup_fallback=False)
    subjects = args.subjects or args.english.subjects(args.split)
    if not subjects:
        raise DataError(f"{args.english.describe(args.split, '')}: no English {args.split} files")
    for subject in subjects:  # validate every English file before any translation
        english_items(args, subject)
    if args.export:
        return export(args, subjects)
    if args.import_mmmlu or args.import_global_mmlu or args.import_dir:
        return run_imports(args, subjects)
    if args.mode == "full":
        translator = make_translator(args.translator, args.model)
        cache = TranslationCache(args.cache)
        budget = RetryBudget(args.retry_seconds)
        for lang in args.languages:  # every pair checked before anything is written or translated
            check_languages(translator, "en", lang)
        copy_english(args, subjects)
        for lang in args.languages:
            counts = translate_language(args, translator, cache, lang, subjects, budget)
            write_manifest(args, lang, f"{translator.name}:{translator.model}", counts, counts["written"])
            print(f"{lang}: {counts['translated']}/{counts['strings']} strings translated, {counts['failed']} failed")
        return
    modes = {"wrong_option": ["onewrong", "threewrong"], "mixup": []}.get(args.mode, [args.mode])
    folders = build_variant_folders(args.output_dir, args.languages, [args.split], modes, args.mode == "mixup",
                                    args.seed, args.overwrite, allow_kept_english=args.allow_kept_english)
    print(f"wrote {', '.join(f.name for f in folders)}")


if __name__ == "__main__":
    run(main)
