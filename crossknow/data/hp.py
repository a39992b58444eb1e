"""The Harry Potter quiz: loading (hub or local files), validation, the paper's prompt, variants.

The quiz (``cross-ling-know/HarryPotter-Quiz``) has one split per language, row i the same question
in each, columns ``question, A, B, C, D, GT``; an optional ``category`` column (characters, spells)
gives per-category accuracy.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from crossknow.core.answers import LABELS
from crossknow.core.hub import load_hub_dataset
from crossknow.core.io import read_jsonl, read_text
from crossknow.core.languages import get_language
from crossknow.core.prompt import Prompt
from crossknow.data.mmlu import LETTERS, DataError, Item, checked_item
from crossknow.data.variants import build_mixup, build_variant

QUIZ_LANGUAGES = ["en", "fr", "de", "es", "it"]
SPLIT_NAMES = {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian"}
COLUMNS = ["question", *LABELS, "GT"]
VARIANTS = ["none", "question", "options", "gt", "mixup"]
SUFFIXES = (".csv", ".jsonl", ".parquet")


@dataclass(frozen=True)
class QuizItem:
    item: Item
    category: str | None = None


def _rows_from_file(path: Path) -> list[dict]:
    if path.suffix == ".csv":  # utf-8-sig: a BOM is no part of the first column's name
        return list(csv.DictReader(io.StringIO(read_text(path, encoding="utf-8-sig"), newline="")))
    if path.suffix == ".jsonl":
        return read_jsonl(path)
    import pandas as pd

    return pd.read_parquet(path).to_dict("records")


def _find_file(folder: Path, lang: str) -> Path:
    for stem in (SPLIT_NAMES[lang], lang):
        for suffix in SUFFIXES:
            if (folder / f"{stem}{suffix}").is_file():
                return folder / f"{stem}{suffix}"
    raise DataError(f"{folder}: no file for {SPLIT_NAMES[lang]} ({SPLIT_NAMES[lang]}.csv, {lang}.jsonl, ...)")


def parse_rows(rows: list[dict], source: str) -> list[QuizItem]:
    items = []
    for row_no, row in enumerate(rows, start=1):
        missing = [c for c in COLUMNS if c not in row]
        if missing:
            raise DataError(f"{source}: row {row_no}: missing column(s) {', '.join(missing)}")
        answer = str(row["GT"]).strip()
        if answer not in tuple(LETTERS):  # exactly one label: never "BC" or ""
            raise DataError(f"{source}: row {row_no}: GT {answer!r} is not one of A, B, C, D")
        category = row.get("category") or None
        texts = {column: row[column] for column in COLUMNS[:5]}
        items.append(QuizItem(checked_item(texts, LETTERS.index(answer), source, row_no), category))
    if not items:
        raise DataError(f"{source}: no questions")
    return items


def load_quiz(data: str | Path, langs: list[str]) -> dict[str, list[QuizItem]]:
    """The quiz in ``langs`` from a local folder (one file per language) or the hub; validated."""
    path = Path(data)
    quiz = {}
    for lang in langs:
        if lang not in SPLIT_NAMES:
            raise DataError(f"the quiz has no language {lang!r}; it has {', '.join(QUIZ_LANGUAGES)}")
        if path.is_dir():
            file = _find_file(path, lang)
            quiz[lang] = parse_rows(_rows_from_file(file), str(file))
        elif path.exists() or str(data).count("/") != 1:
            raise DataError(f"{data}: not a folder of quiz files nor a hub dataset name")
        else:
            rows = list(load_hub_dataset(str(data), split=SPLIT_NAMES[lang],
                                         provide_locally="pass a local folder of quiz files to --data"))
            quiz[lang] = parse_rows(rows, f"hub:{data}/{SPLIT_NAMES[lang]}")
    check_alignment(quiz)
    return quiz


def check_alignment(quiz: dict[str, list[QuizItem]]) -> None:
    """Every language must hold the same questions: same row count, same GT per row."""
    langs = list(quiz)
    reference = langs[0]
    for lang in langs[1:]:
        if len(quiz[lang]) != len(quiz[reference]):
            raise DataError(f"the quiz is not aligned: {SPLIT_NAMES[reference]} has {len(quiz[reference])} rows, "
                            f"{SPLIT_NAMES[lang]} has {len(quiz[lang])}")
        for row, (a, b) in enumerate(zip(quiz[reference], quiz[lang]), start=1):
            if a.item.answer != b.item.answer:
                raise DataError(f"the quiz is not aligned at row {row}: GT {LETTERS[a.item.answer]} in "
                                f"{SPLIT_NAMES[reference]}, {LETTERS[b.item.answer]} in {SPLIT_NAMES[lang]}")


def hp_prompt(item: Item, lang: str) -> Prompt:
    """The paper's prompt: instruction in the question's language, then the item, ``Answer: ``."""
    instruction = get_language(lang).hp_instruction
    options = "".join(f"\n{label}. {choice}" for label, choice in zip(LETTERS, item.choices))
    return Prompt(instruction + "\n\n", f"{item.question}{options}\nAnswer: ")


def variant_prompts(quiz: dict[str, list[QuizItem]], variant: str, lang: str,
                    seed: int = 0) -> tuple[list[Item], list[Prompt]]:
    """Items and prompts of one variant; ``lang`` is the translated language (unused for mixup)."""
    english = [q.item for q in quiz["en"]]
    if variant == "none":
        items = [q.item for q in quiz[lang]]
        return items, [hp_prompt(item, lang) for item in items]
    if variant == "mixup":
        others = {code: [q.item for q in quiz[code]] for code in QUIZ_LANGUAGES if code != "en"}
        items, langs = build_mixup(english, others, "harry_potter", "quiz", seed)
        return items, [hp_prompt(item, row_langs[0]) for item, row_langs in zip(items, langs)]
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    items = build_variant(variant, english, [q.item for q in quiz[lang]], "harry_potter", "quiz", seed)
    question_lang = lang if variant == "question" else "en"
    return items, [hp_prompt(item, question_lang) for item in items]
