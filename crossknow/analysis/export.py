"""Per-question export for analysis in pandas: ``python -m crossknow.report DIR --export csv OUT/``.

Writes ``OUT/records.csv``, one row per (model, task, config, language, question) of every result
with records (MMLU, HP, Synthetic quizzes): the question id (``crossknow/data/question_ids.py``; the
``unit/row`` fallback for records written before ids, with ``id_fallback`` true), the unit (subject,
language or fact set), the row, the gold label, the prediction and whether it is correct, and the
Global-MMLU culture tag where there is one. Written atomically.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from crossknow.analysis.paired_report import model_name, records_folder
from crossknow.core.io import atomic_write_text, read_jsonl
from crossknow.data.question_ids import record_id

COLUMNS = ["model", "task", "config", "language", "question_id", "id_fallback", "unit", "index", "label",
           "prediction", "correct", "culture"]
UNIT_FIELDS = {"mmlu": "subject", "hp": "language", "synthetic_quiz": "unit"}


def result_identity(result: dict, folder: Path) -> tuple[str, str]:
    """The configuration's name and language of a result, from its config fields."""
    config = result.get("config", {})
    if result["task"] == "mmlu":
        # mixup mixes languages within each question: its "language" is the variant's name
        return config["name"], config.get("test_language") or ("en" if config["test_variant"] == ""
                                                               else config["test_variant"])
    if result["task"] == "hp":
        return f"{config.get('variant', 'none')}_{config.get('language')}", config.get("language", "")
    return f"{config.get('arm', '')}/seed{config.get('experiment_seed', '')}", ""


def record_rows(result: dict, folder: Path) -> list[list]:
    records = records_folder(result)
    if records is None or result["task"] not in UNIT_FIELDS:
        return []
    unit_field = UNIT_FIELDS[result["task"]]
    config, language = result_identity(result, folder)
    rows = []
    for path in sorted(records.glob("*.jsonl")):
        for record in read_jsonl(path):
            qid, fallback = record_id(record, unit_field)
            unit = record.get(unit_field, path.stem)
            # a Synthetic quiz's unit is {fact set}_{language}; MMLU and HP name their language in the config
            lang = str(unit).rpartition("_")[2] if result["task"] == "synthetic_quiz" else language
            rows.append([model_name(result, folder), result["task"], config, lang, qid, fallback, unit,
                         record.get("index"), record.get("label"), record.get("prediction"),
                         record.get("correct"), record.get("culture")])
    return rows


def export_csv(folders: dict[Path, dict[str, list[dict]]], out_dir: Path) -> tuple[Path, int]:
    """Write ``out_dir/records.csv``; returns its path and the number of rows."""
    rows = [row for folder, by_task in folders.items() for results in by_task.values() for result in results
            for row in record_rows(result, folder)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    path = Path(out_dir) / "records.csv"
    atomic_write_text(path, buffer.getvalue())
    return path, len(rows)
