"""MMLU data: subjects and categories, both CSV formats, validation, variant folders, the hub.

Two CSV formats are read and told apart by their first row:
- Hendrycks (the original release): no header; question, A, B, C, D, answer letter.
- Hugging Face export: header ``question,choice0,choice1,choice2,choice3,answer``, answer 0-3.

Folders follow the paper's layout: ``{data_dir}/{split}`` for English and
``{data_dir}/{split}_{variant}`` (``test_full_fr``, ``dev_mixup``, ...) for the variants, one file
``{subject}_{split}.csv`` per subject.
"""

from __future__ import annotations

import csv
import io
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from crossknow.core.answers import LABELS
from crossknow.core.cli import looks_like_path
from crossknow.core.errors import CrossknowError
from crossknow.core.hub import load_hub_dataset
from crossknow.core.io import atomic_write_text, check_plain_name, read_text
from crossknow.core.subjects import CATEGORIES, SUBCATEGORIES, SUBJECTS  # noqa: F401 (re-exported)
from crossknow.data.culture import attach_culture
from crossknow.data.source_ids import attach_source_ids

HF_HEADER = ["question", "choice0", "choice1", "choice2", "choice3", "answer"]
LETTERS = "".join(LABELS)
# The Hendrycks format has no header: its columns are named by position in error messages.
HENDRYCKS_COLUMNS = ["1 (question)", "2 (option A)", "3 (option B)", "4 (option C)", "5 (option D)"]
# First or last cells that mark a first row as a header (of some other layout), not a question.
HEADER_WORDS = {"question", "questions", "prompt", "input", "answer", "answers", "label", "gt", "target"}

# The subjects and their categories are in crossknow/core/subjects.py (core.results recomputes a
# result's per-category numbers from its records); they are re-exported here.


class DataError(CrossknowError, ValueError):
    """Bad input data; the message names the file, the row and the value."""


@dataclass(frozen=True)
class Item:
    """One multiple-choice question; ``answer`` is the index of the correct choice (0-3 in MMLU); ``culture``
    Global-MMLU's tag (CS/CA, crossknow/data/culture.py), where the data has one."""

    question: str
    choices: tuple[str, ...]
    answer: int
    culture: str | None = field(default=None, compare=False)
    source_id: str | None = field(default=None, compare=False)  # the imported dataset's row (crossknow/data/source_ids.py)


def text_cell(value: object, source: str, row: int, column: str) -> str:
    """A question or option text as read: a non-empty string (a number is read as its text). A null,
    NaN, blank or non-text cell is an error naming the file, row and column: it is never scored as
    ``""`` or ``"None"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise DataError(f"{source}: row {row}: column {column}: null where a text is expected")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise DataError(f"{source}: row {row}: column {column}: {type(value).__name__} {value!r:.60} "
                        "where a text is expected")
    text = value if isinstance(value, str) else str(value)
    if not text.strip():
        raise DataError(f"{source}: row {row}: column {column}: empty text")
    return text


def checked_item(texts: dict[str, object], answer: int, source: str, row: int) -> Item:
    """An item from its question and four option cells (column name -> value, in that order), each
    checked by ``text_cell``; the one constructor every reader of questions uses."""
    question, *choices = (text_cell(value, source, row, column) for column, value in texts.items())
    if len(choices) != 4:
        raise ValueError(f"{source}: row {row}: {len(choices)} options given to checked_item, expected 4")
    return Item(question, tuple(choices), answer)


def folder_name(split: str, variant: str = "") -> str:
    """``test`` for English, ``test_full_fr`` for a variant (the paper's naming); a variant that is
    not a plain name (``../x``) is an error."""
    return split if variant in ("", "en") else check_plain_name(f"{split}_{variant}", f"variant {variant!r}: folder")


def subject_path(folder: Path, subject: str, split: str) -> Path:
    """``{folder}/{subject}_{split}.csv``; a subject that is not a plain name (``../x``) is an error."""
    check_plain_name(subject, "subject")
    return Path(folder) / f"{subject}_{split}.csv"


def parse_mmlu_csv(text: str, source: str) -> list[Item]:
    """Parse either CSV format; ``source`` names the file in error messages. A file without
    questions (empty, or only a header) is an error."""
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    if not rows:
        raise DataError(f"{source}: the file is empty")
    hf_format = [c.strip() for c in rows[0]] == HF_HEADER
    if not hf_format:
        _check_not_a_header(rows[0], source)
    first_row = 2 if hf_format else 1
    body = rows[1:] if hf_format else rows
    if not body:
        raise DataError(f"{source}: a header but no questions")
    items = []
    for line_no, row in enumerate(body, start=first_row):
        if len(row) != 6:
            raise DataError(
                f"{source}: row {line_no}: expected 6 fields (question, 4 choices, answer), "
                f"got {len(row)}: {row!r:.200}"
            )
        answer = _parse_answer(row[5], hf_format, source, line_no)
        columns = HF_HEADER[:5] if hf_format else HENDRYCKS_COLUMNS
        items.append(checked_item(dict(zip(columns, row[:5])), answer, source, line_no))
    return items


def _check_not_a_header(row: list[str], source: str) -> None:
    """A first row that names columns but is not the Hugging Face header is an unknown header,
    not a question whose answer is wrong."""
    cells = [c.strip().lower() for c in row]
    if cells and (cells[0] in HEADER_WORDS or cells[-1] in HEADER_WORDS):
        raise DataError(f"{source}: row 1: unknown header {','.join(row)!r:.200}; expected "
                        f"{','.join(HF_HEADER)} (Hugging Face format) or no header (Hendrycks format)")


def _parse_answer(value: str, hf_format: bool, source: str, line_no: int) -> int:
    value = value.strip()
    if hf_format and value in ("0", "1", "2", "3"):
        return int(value)
    if not hf_format and value in tuple(LETTERS):
        return LETTERS.index(value)
    expected = "0-3 (Hugging Face format)" if hf_format else "A-D (Hendrycks format)"
    raise DataError(f"{source}: row {line_no}: answer {value!r} is not in {expected}")


def read_mmlu_csv(path: str | Path) -> list[Item]:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    return parse_mmlu_csv(read_text(path, encoding="utf-8-sig"), str(path))


def format_mmlu_csv(items: list[Item]) -> str:
    """Items as Hugging Face format CSV text (header, answer 0-3)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HF_HEADER)
    for item in items:
        writer.writerow([item.question, *item.choices, item.answer])
    return buffer.getvalue()


def write_mmlu_csv(path: str | Path, items: list[Item]) -> None:
    atomic_write_text(path, format_mmlu_csv(items))


def subjects_in_folder(folder: str | Path, split: str) -> list[str]:
    suffix = f"_{split}.csv"
    return sorted(p.name[: -len(suffix)] for p in Path(folder).glob(f"*{suffix}"))


class LocalSource:
    """MMLU variants stored as the paper's folder tree under ``data_dir``."""

    def __init__(self, data_dir: str | Path):
        self.data_dir = Path(data_dir)

    def describe(self, split: str, variant: str) -> str:
        return str(self.data_dir / folder_name(split, variant))

    def has(self, split: str, variant: str) -> bool:
        return (self.data_dir / folder_name(split, variant)).is_dir()

    def subjects(self, split: str, variant: str = "") -> list[str]:
        return subjects_in_folder(self.data_dir / folder_name(split, variant), split)

    def load(self, subject: str, split: str, variant: str = "") -> list[Item]:
        folder = self.data_dir / folder_name(split, variant)
        items = attach_culture(folder, subject, read_mmlu_csv(subject_path(folder, subject, split)))
        return attach_source_ids(folder, subject, items)


ENGLISH_HUB = "cais/mmlu"
MIXUP_HUB = "cross-ling-know/mixup-lang-mmlu"
# The paper's released variant sets on the hub, laid out as data/{split}/{subject}_{split}.csv.
RELEASES = {MIXUP_HUB: "mixup"}


LOCAL_MMLU = "pass a folder in the paper's layout (MMLU/fetch_data.py writes one) to --data_dir"
LOCAL_MIXUP = "build the mixup folders in the data folder with MMLU/build_variants.py"


class HubSource:
    """MMLU from the Hugging Face hub, or a local copy of it.

    ``name`` is a hub dataset: ``cais/mmlu`` style (one config per subject; columns question,
    choices, answer) serves English; a release in the paper's layout (``data/{split}/{subject}_{split}.csv``,
    e.g. ``cross-ling-know/mixup-lang-mmlu``) serves the one variant it holds. Local stand-ins: a
    ``datasets`` DatasetDict saved with ``save_to_disk`` (columns question, subject, choices, answer)
    serves English; a folder holding ``data/{split}/`` serves ``variant``.
    """

    def __init__(self, name: str, variant: str | None = None, provide_locally: str = LOCAL_MMLU):
        self.name = name
        self.variant = RELEASES.get(name, "") if variant is None else variant
        self.provide_locally = provide_locally  # the end of the one-line error when the hub is unreachable
        self._saved = None

    def describe(self, split: str, variant: str) -> str:
        return f"hub:{self.name}" if not Path(self.name).exists() else self.name

    def has(self, split: str, variant: str) -> bool:
        if variant not in ("", "en") and variant != self.variant:
            return False
        if self._release_folder() is not None:
            return (self._release_folder() / split).is_dir()
        if self._is_saved_dataset():
            return split in self._saved_dataset()
        return True

    def subjects(self, split: str, variant: str = "") -> list[str]:
        if self._release_folder() is not None:
            return subjects_in_folder(self._release_folder() / split, split)
        if self._is_saved_dataset():
            return [check_plain_name(s, f"{self.name}: subject") for s in sorted(set(self._saved_dataset()[split]["subject"]))]
        return list(SUBJECTS)

    def load(self, subject: str, split: str, variant: str = "") -> list[Item]:
        if not self.has(split, variant):
            raise DataError(f"{self.describe(split, variant)}: holds no {folder_name(split, variant)} data "
                            f"(it serves {folder_name(split, self.variant)})")
        if self._release_folder() is not None:
            return read_mmlu_csv(subject_path(self._release_folder() / split, subject, split))
        if self.variant:
            files = [f"data/{split}/{subject}_{split}.csv"]
            rows = load_hub_dataset(self.name, data_files=files, provide_locally=self.provide_locally)["train"]
            return [_item_from_hub_row(row, f"hub:{self.name}/{files[0]}", i) for i, row in enumerate(rows)]
        return self._english(subject, split)

    def _english(self, subject: str, split: str) -> list[Item]:
        if self._is_saved_dataset():
            rows = [r for r in self._saved_dataset()[split] if r["subject"] == subject]
        else:
            rows = load_hub_dataset(self.name, subject, split=split, provide_locally=self.provide_locally)
        source = f"{self.describe(split, '')} ({subject}, {split})"
        items = []
        for index, row in enumerate(rows):
            choices, answer = tuple(row["choices"]), row["answer"]
            if len(choices) != 4 or answer not in (0, 1, 2, 3):
                raise DataError(f"{source}: row {index}: expected 4 choices and an answer 0-3, "
                                f"got {len(choices)} choices and answer {answer!r}")
            texts = {"question": row["question"], **{f"choices[{i}]": c for i, c in enumerate(choices)}}
            items.append(checked_item(texts, int(answer), source, index))
        if not items:
            raise DataError(f"{source}: no questions")
        return items

    def _release_folder(self) -> Path | None:
        folder = Path(self.name) / "data"
        return folder if self.variant and folder.is_dir() else None

    def _is_saved_dataset(self) -> bool:
        return (Path(self.name) / "dataset_dict.json").is_file()

    def _saved_dataset(self):
        if self._saved is None:
            from datasets import load_from_disk

            self._saved = load_from_disk(self.name)
        return self._saved


def _item_from_hub_row(row: dict, source: str, index: int) -> Item:
    columns, values = list(row), list(row.values())
    if len(values) != 6:
        raise DataError(f"{source}: row {index + 2}: expected 6 columns, got {len(values)}")
    answer = str(values[5]).strip()
    answer_index = LETTERS.index(answer) if answer in tuple(LETTERS) else _parse_answer(answer, True, source, index + 2)
    return checked_item(dict(zip(columns[:5], values[:5])), answer_index, source, index + 2)


def looks_like_hub_name(name: str) -> bool:
    """``owner/name`` that is not path-like (``crossknow.core.cli.looks_like_path``) and whose first part is
    not a local folder (``MMLU/full`` is a missing local path)."""
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not looks_like_path(name) and not Path(parts[0]).exists()


def open_source(data_dir: str, mixup_fallback: bool = True):
    """Where MMLU comes from: a folder in the paper's layout (``dev/``, ``test/``, ``test_full_fr/`` ...;
    a missing mixup falls back to the paper's hub release, as the paper's code does), a local stand-in
    for the hub (see HubSource), or a hub dataset name such as ``cais/mmlu``."""
    path = Path(data_dir)
    if (path / "dataset_dict.json").is_file():
        return HubSource(data_dir)
    if path.exists() or not looks_like_hub_name(data_dir):
        local = LocalSource(data_dir)
        return MixupHubFallback(local) if mixup_fallback else local
    return HubSource(data_dir)


class MixupHubFallback:
    """A local source that falls back to the paper's hub release for a missing ``mixup`` folder."""

    def __init__(self, local: LocalSource, hub: HubSource | None = None):
        self.local = local
        self.hub = hub or HubSource(MIXUP_HUB, provide_locally=LOCAL_MIXUP)
        self.noticed: set[str] = set()

    def _pick(self, split: str, variant: str):
        if variant == "mixup" and not self.local.has(split, variant):
            if split not in self.noticed:  # the data then come from elsewhere: say so, once per split
                self.noticed.add(split)
                print(f"note: {self.local.describe(split, variant)} not found: {split} mixup from the hub "
                      f"({self.hub.name}), the paper's released set", file=sys.stderr)
            return self.hub
        return self.local

    def describe(self, split: str, variant: str) -> str:
        return self._pick(split, variant).describe(split, variant)

    def has(self, split: str, variant: str) -> bool:
        return self._pick(split, variant).has(split, variant)

    def subjects(self, split: str, variant: str = "") -> list[str]:
        return self._pick(split, variant).subjects(split, variant)

    def load(self, subject: str, split: str, variant: str = "") -> list[Item]:
        return self._pick(split, variant).load(subject, split, variant)
