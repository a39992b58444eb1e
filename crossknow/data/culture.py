"""Global-MMLU's culture tags beside the MMLU CSVs: ``culture.json`` in a variant folder.

Global-MMLU marks each annotated question culturally sensitive (``CS``: it needs regional, cultural
or dialect knowledge) or culturally agnostic (``CA``); other questions were not annotated (null).
The CSVs keep the paper's six columns; the tags sit in ``{folder}/culture.json`` as
``{"subjects": {subject: [tag per row of the English file]}}``, and ``LocalSource.load`` puts them on the items, so the
per-question records carry them and a result can be split by them.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from crossknow.core.errors import CrossknowError
from crossknow.core.io import atomic_write_json

FILE = "culture.json"
TAGS = ("CS", "CA")


def read_culture(folder: Path, subject: str) -> list[str | None] | None:
    """The tags of one subject's rows, or None when the folder has none for it."""
    path = Path(folder) / FILE
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))["subjects"].get(subject)


def write_culture(folder: Path, tags_by_subject: dict[str, list[str | None] | None]) -> None:
    """Set the tags of these subjects (None removes a subject's tags, so that tags never outlive the
    rows they were written for); other subjects' tags stay; a folder left without tags has no file."""
    path = Path(folder) / FILE
    tagged = json.loads(path.read_text(encoding="utf-8"))["subjects"] if path.exists() else {}
    tagged.update(tags_by_subject)
    tagged = {s: tags for s, tags in sorted(tagged.items()) if tags is not None}
    if not tagged:
        path.unlink(missing_ok=True)
        return
    atomic_write_json(path, {"tags": {"CS": "culturally sensitive", "CA": "culturally agnostic",
                                      "null": "not annotated"}, "subjects": tagged})


def row_tags(culture_by_language: dict[str, list[str | None] | None], row_ids: list[int],
             where: str = "") -> list[str | None] | None:
    """The tags of the kept rows (``row_ids`` index the English rows); the languages that have tags
    must agree, since a tag belongs to the question, not to its translation."""
    tagged = {lang: tags for lang, tags in culture_by_language.items() if tags is not None}
    if not tagged:
        return None
    out = []
    for row in row_ids:
        values = {tags[row] for tags in tagged.values()}
        if len(values) > 1:
            raise ValueError(f"{where} row {row + 1}: the culture tags of {', '.join(sorted(tagged))} differ: {sorted(map(str, values))}")
        out.append(values.pop())
    return out


def with_row_values(items: list, values: list, field: str, where: str) -> list:
    """``items`` with ``field`` set row by row from ``values`` (a side file's per-row tags or ids),
    refused when the counts differ."""
    if len(values) != len(items):
        raise CrossknowError(f"{where} has {len(values)} {field} values for {len(items)} rows")
    return [dataclasses.replace(item, **{field: value}) for item, value in zip(items, values)]


def attach_culture(folder: Path, subject: str, items: list) -> list:
    """``items`` with their ``culture`` tag set, when the folder has tags for the subject."""
    tags = read_culture(folder, subject)
    return items if tags is None else with_row_values(items, tags, "culture", f"{Path(folder) / FILE}: {subject}")
