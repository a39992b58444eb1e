"""General (out-of-domain) parallel text in en/fr/de/es/it that ships with the repository, for the
paper's mitigation: fine-tuning on general mixed-language text.

The source is the FLoRes-101 devtest subset the paper evaluates translation on (``crossknow.data.flores``,
100 sentences per language, exact parallels line by line, CC BY-SA 4.0; ``crossknow/data/flores_devtest``).
Its sentences come in article order, several consecutive sentences per Wikinews/Wikivoyage/Wikibooks
article, so they are kept in that order and grouped into passages of five consecutive sentences: coherent text, not
shuffled lines. The English corpus writes every passage in English; the mixed corpus writes each
sentence of a passage in a language drawn per sentence (the paper's sentence-level mixing of WikiText
documents), so both hold the same content.

A unit is one parallel sentence: ``{"en": ..., "fr": ..., ...}``.
"""

from __future__ import annotations

import random
from pathlib import Path

from crossknow.data.flores import FLORES_DIR

LANGUAGES = ["en", "fr", "de", "es", "it"]
PASSAGE_SENTENCES = 5


def flores_units(folder: Path = FLORES_DIR) -> list[dict[str, str]]:
    """The FLoRes sentences, one unit per line index."""
    lines = {}
    for lang in LANGUAGES:
        path = folder / f"{lang}.devtest"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: FLoRes file not found (the general text needs it)")
        lines[lang] = path.read_text(encoding="utf-8").splitlines()
    counts = {lang: len(v) for lang, v in lines.items()}
    if len(set(counts.values())) != 1:
        raise ValueError(f"{folder}: FLoRes files are not parallel (lines per language: {counts})")
    return [{lang: lines[lang][i].strip() for lang in LANGUAGES} for i in range(counts["en"])]


def parallel_units() -> list[dict[str, str]]:
    """The FLoRes sentences in their file order, which is article order."""
    return flores_units()


def passages(units: list[dict[str, str]], size: int = PASSAGE_SENTENCES) -> list[list[dict[str, str]]]:
    """Consecutive sentences in groups of ``size``: the FLoRes files keep each article's sentences
    together, so a passage is a stretch of one article, or the end of one and the start of the next
    (the bundled files carry no article boundaries)."""
    return [units[i:i + size] for i in range(0, len(units), size)]


def general_corpus(passages_: list[list[dict[str, str]]], mixed: bool, seed: int) -> list[str]:
    """One line per passage, its sentences in order: all in English, or each sentence in a language
    drawn per sentence (the paper's sentence-level mixing inside a document). Passages are
    shuffled, the same way in both corpora, so the two hold the same content in the same order."""
    lines = []
    for p, passage in enumerate(passages_):
        langs = [random.Random(f"general:{seed}:{p}:{i}").choice(LANGUAGES) if mixed else "en"
                 for i in range(len(passage))]
        lines.append(" ".join(sentence[lang] for sentence, lang in zip(passage, langs)))
    order = list(range(len(lines)))
    random.Random(f"general-shuffle:{seed}").shuffle(order)
    return [lines[i] for i in order]
