"""The imported dataset's own row identity, kept beside the MMLU CSVs: ``source_ids.json``.

An imported translation (Global-MMLU, MMMLU) is written row-aligned to English MMLU, and its records
pair with English by the id of that English row (crossknow/data/question_ids.py). The import keeps the
dataset's own name for each row beside it, so that the alignment can be checked and cited:

- Global-MMLU: ``global-mmlu:{sample_id}``, where ``sample_id`` is ``{subject}/{split}/{row}`` (the
  subject, split and 0-based row of the English MMLU question it translates);
- MMMLU: ``mmmlu:{index}``, the file's row index (its first, unnamed column), by which the import
  orders each subject's rows (refusing gaps and repeats). The index is not cross-checked against
  the English row: whether it runs per subject or across the file is not settled by any data here,
  so only its order is used.

The file is ``{"subjects": {subject: [id per row]}}`` in the ``full_L`` folder the import writes
(a subject written from another source, a machine translation or ``--import_dir``, loses its ids); ``LocalSource.load`` puts the ids on the items, and the records keep them as ``source_id``.
"""

from __future__ import annotations

import json
from pathlib import Path

from crossknow.core.io import atomic_write_json
from crossknow.data.culture import with_row_values

FILE = "source_ids.json"
GLOBAL_MMLU = "global-mmlu:"
MMMLU = "mmmlu:"


def global_mmlu_source_id(sample_id: str) -> str:
    return f"{GLOBAL_MMLU}{sample_id}"


def mmmlu_source_id(index: int) -> str:
    return f"{MMMLU}{index}"


def global_mmlu_mismatch(sample_id: str, subject: str, split: str, row: int) -> bool:
    """Whether Global-MMLU's ``sample_id`` names another English row than (subject, split, row)."""
    return sample_id != f"{subject}/{split}/{row}"


def read_source_ids(folder: Path, subject: str) -> list[str] | None:
    path = Path(folder) / FILE
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))["subjects"].get(subject)


def write_source_ids(folder: Path, subject: str, ids: list[str] | None) -> None:
    """Set (or, with None, remove) one subject's ids; other subjects' stay. Every write of a subject's
    rows sets them, so that ids never outlive the rows they were written for; a folder left without
    ids has no file."""
    path = Path(folder) / FILE
    kept = json.loads(path.read_text(encoding="utf-8"))["subjects"] if path.exists() else {}
    kept = {s: v for s, v in {**kept, subject: ids}.items() if v is not None}
    if not kept:
        path.unlink(missing_ok=True)
        return
    atomic_write_json(path, {"subjects": dict(sorted(kept.items()))})


def attach_source_ids(folder: Path, subject: str, items: list) -> list:
    """``items`` with their ``source_id`` set, when the folder has ids for the subject."""
    ids = read_source_ids(folder, subject)
    return items if ids is None else with_row_values(items, ids, "source_id", f"{Path(folder) / FILE}: {subject}")
