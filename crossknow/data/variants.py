"""Build the paper's crosslingual MMLU variants from English items and their full translations.

Per language L (with ``full_L`` the question and every option in L):
``question`` (question in L), ``options`` (options in L), ``gt`` (only the correct option in L),
``gt_question`` (question and correct option in L), ``onewrong`` (one wrong option in L),
``threewrong`` (the three wrong options in L); and ``mixup``: the question and the four options take
five different languages drawn, seeded per row, from English and a chosen set of four or more other
languages (the paper's de/fr/es/it by default). Every mode works for any language of the table.
Answers never change. Random choices are seeded per row (subject, split, row, seed), so a row's
result does not depend on which other rows or subjects are processed.
"""

from __future__ import annotations

import random

from crossknow.core.languages import PAPER_LANGUAGES
from crossknow.data.mmlu import Item

MODES = ("question", "options", "full", "gt", "gt_question", "onewrong", "threewrong")  # the paper's order
BUILT_MODES = tuple(m for m in MODES if m != "full")  # assembled from English and full


def variant_parts(variant: str) -> tuple[str | None, str | None]:
    """(mode, language) of a variant name, the one parser of them: ``full_fr`` -> (full, fr),
    ``mixup`` and ``mixup_ar-hi-ru-zh`` -> (mixup, None), English (``""``) -> (None, None), a name
    that is no mode and language (``en``, a custom name) -> (the name, None)."""
    if not variant:
        return None, None
    if variant.startswith("mixup_") and "-" in variant:  # mixup over another language set: mixup_ar-hi-ru-zh
        return "mixup", None
    mode, _, lang = variant.rpartition("_")
    return (mode, lang) if mode in MODES else (variant, None)


def row_rng(seed: int, subject: str, split: str, row: int, purpose: str) -> random.Random:
    # A string seed is hashed with SHA-512 by ``random``: stable across processes and platforms.
    return random.Random(f"{seed}:{purpose}:{subject}:{split}:{row}")


def _pick(english: Item, translated: Item, question: bool, options: set[int]) -> Item:
    if translated.answer != english.answer:
        raise ValueError("a translated row must keep the English answer")
    return Item(
        translated.question if question else english.question,
        tuple(translated.choices[i] if i in options else english.choices[i] for i in range(4)),
        english.answer,
    )


def build_variant_row(mode: str, english: Item, translated: Item, rng: random.Random) -> Item:
    wrong = [i for i in range(4) if i != english.answer]
    if mode == "full":
        return _pick(english, translated, True, {0, 1, 2, 3})
    if mode == "question":
        return _pick(english, translated, True, set())
    if mode == "options":
        return _pick(english, translated, False, {0, 1, 2, 3})
    if mode == "gt":
        return _pick(english, translated, False, {english.answer})
    if mode == "gt_question":
        return _pick(english, translated, True, {english.answer})
    if mode == "onewrong":
        return _pick(english, translated, False, {rng.choice(wrong)})
    if mode == "threewrong":
        return _pick(english, translated, False, set(wrong))
    raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")


def build_variant(mode: str, english: list[Item], translated: list[Item], subject: str,
                  split: str, seed: int = 0, row_ids: list[int] | None = None) -> list[Item]:
    """``row_ids`` are the rows' positions in the original file (default 0..n-1), used for seeding."""
    if len(english) != len(translated):
        raise ValueError(f"{subject}/{split}: {len(english)} English rows but {len(translated)} translated")
    row_ids = row_ids or list(range(len(english)))
    return [
        build_variant_row(mode, e, t, row_rng(seed, subject, split, i, mode))
        for i, e, t in zip(row_ids, english, translated)
    ]


def mixup_languages(rng: random.Random, languages: list[str]) -> list[str]:
    """Five different languages for (question, A, B, C, D)."""
    pool = ["en", *languages]
    if len(set(pool)) < 5:
        raise ValueError(f"mixup needs English and four other languages, got {languages}")
    return rng.sample(pool, 5)


def mixup_variant(languages: list[str]) -> str:
    """The variant (and folder) name of mixup over ``languages``: the paper's ``mixup`` for its four
    languages, else ``mixup_`` and the sorted codes (``mixup_ar-hi-ru-zh``)."""
    chosen = sorted(set(languages) - {"en"})
    if len(chosen) < 4:
        raise ValueError(f"mixup needs English and four other languages, got {languages}")
    return "mixup" if chosen == sorted(PAPER_LANGUAGES) else "mixup_" + "-".join(chosen)


def sweep_mixup(languages: list[str]) -> str | None:
    """The mixup variant of a sweep over ``languages``: the paper's for its languages or a subset of
    them (as before), the set's own for four or more languages, none for fewer outside the paper's."""
    if set(languages) <= set(PAPER_LANGUAGES):
        return "mixup"
    return mixup_variant(languages) if len(set(languages) - {"en"}) >= 4 else None


def build_mixup(english: list[Item], translations: dict[str, list[Item]], subject: str,
                split: str, seed: int = 0, row_ids: list[int] | None = None) -> tuple[list[Item], list[list[str]]]:
    """The mixup rows and, per row, the languages of (question, A, B, C, D)."""
    languages = sorted(translations)
    rows, assignments = [], []
    for i, (row_id, item) in enumerate(zip(row_ids or range(len(english)), english)):
        langs = mixup_languages(row_rng(seed, subject, split, row_id, "mixup"), languages)
        source = {"en": item, **{lang: translations[lang][i] for lang in languages}}
        if any(source[lang].answer != item.answer for lang in languages):
            raise ValueError(f"{subject}/{split}: row {i}: a translation changes the answer")
        rows.append(Item(source[langs[0]].question,
                         tuple(source[langs[j + 1]].choices[j] for j in range(4)), item.answer))
        assignments.append(langs)
    return rows, assignments
