"""Mixed-language corpora: split text into translation units and give each unit a language.

Units are ``document`` (every paragraph of a WikiText article), ``sentence``, or ``words`` (runs of
k words inside a sentence; the paper's "sentence8words" is k = 8). Headings (`` = Title = ``,
`` = = Section = = ``) are structure, kept as they are. Each unit's language is drawn uniformly
from the languages with a seed derived from the unit's own text, so the assignment does not depend
on the order of units or on which other units exist.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field

HEADING = re.compile(r"^\s*(=\s+)+.*?(\s+=)+\s*$")
TITLE = re.compile(r"^\s*=\s+[^=].*?\s+=\s*$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9À-Ý])")
UNITS = ("document", "sentence", "words")


@dataclass
class Line:
    """A line of the corpus: a heading (kept) or a paragraph made of units."""

    text: str
    heading: bool
    document: int
    units: list[str] = field(default_factory=list)


def is_heading(line: str) -> bool:
    return bool(HEADING.match(line))


def split_sentences(paragraph: str) -> list[str]:
    return [s for s in SENTENCE_END.split(paragraph.strip()) if s]


def split_words(sentence: str, k: int) -> list[str]:
    words = sentence.split()
    return [" ".join(words[i:i + k]) for i in range(0, len(words), k)]


def parse_corpus(lines: list[str], unit: str, unit_words: int = 8) -> list[Line]:
    """Lines with their units; a top-level heading (`` = Title = ``) starts a new document."""
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; choose from {', '.join(UNITS)}")
    parsed, document = [], -1
    for raw in lines:
        text = raw.rstrip("\r\n")
        if document < 0 or TITLE.match(text):
            document += 1
        if not text.strip() or is_heading(text):
            parsed.append(Line(text, True, document))
            continue
        if unit == "document":
            units = [text.strip()]
        elif unit == "sentence":
            units = split_sentences(text)
        else:
            units = [chunk for s in split_sentences(text) for chunk in split_words(s, unit_words)]
        parsed.append(Line(text, False, document, units))
    return parsed


def unit_language(key: str, languages: list[str], seed: int) -> str:
    # SHA-256 of the unit's own key: stable across runs, platforms and corpus order.
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return random.Random(digest).choice(languages)


def assign_languages(lines: list[Line], unit: str, languages: list[str], seed: int) -> list[list[str]]:
    """The language of every unit; with ``document`` units, one language per document (keyed by
    the document's first paragraph)."""
    first_paragraph: dict[int, str] = {}
    for line in lines:
        if not line.heading:
            first_paragraph.setdefault(line.document, line.units[0])
    out = []
    for line in lines:
        if unit == "document":
            lang = unit_language(first_paragraph.get(line.document, ""), languages, seed)
            out.append([lang] * len(line.units))
        else:
            out.append([unit_language(u, languages, seed) for u in line.units])
    return out
