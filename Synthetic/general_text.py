"""General (out-of-domain) parallel text in en/fr/de/es/it that ships with the repository, for the
paper's mitigation: fine-tune on general mixed-language text first, then learn the facts in English.

Two sources, both exact parallels line by line:
- the FLoRes-101 devtest subset the paper evaluates translation on (``crossknow.flores``,
  100 sentences per language, CC BY-SA 4.0);
- the MMLU demo slice and the project's own translations of it (``crossknow.mmlu.DEMO_DATA``: ``dev``/``test``
  and ``dev_full_xx``/``test_full_xx``, 75 questions), each question written as one line with its
  four options.

A unit is one parallel line: ``{"en": ..., "fr": ..., ...}``. The English corpus writes every unit in
English; the mixed corpus writes each unit in one language drawn per unit (the paper's
sentence-level mixing), so both hold the same content.
"""

from __future__ import annotations

import random
from pathlib import Path

from crossknow.flores import FLORES_DIR
from crossknow.mmlu import DEMO_DATA as MMLU_DEMO_DIR
from crossknow.mmlu import read_mmlu_csv

LANGUAGES = ["en", "fr", "de", "es", "it"]


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


def mmlu_demo_units(folder: Path = MMLU_DEMO_DIR) -> list[dict[str, str]]:
    """Each demo question with its options as one line, English from ``dev``/``test``, the other
    languages from the ``*_full_xx`` translations of the same file and row."""
    units = []
    for split in ("dev", "test"):
        english_files = sorted((folder / split).glob("*.csv"))
        if not english_files:
            raise FileNotFoundError(f"{folder / split}: no MMLU demo CSVs (the general text needs them)")
        for english_file in english_files:
            items = {"en": read_mmlu_csv(english_file)}
            for lang in LANGUAGES[1:]:
                items[lang] = read_mmlu_csv(folder / f"{split}_full_{lang}" / english_file.name)
                if len(items[lang]) != len(items["en"]):
                    raise ValueError(f"{folder / f'{split}_full_{lang}' / english_file.name}: "
                                     f"{len(items[lang])} rows, the English file has {len(items['en'])}")
            for row in range(len(items["en"])):
                units.append({lang: f"{items[lang][row].question} {' / '.join(items[lang][row].choices)}"
                              for lang in LANGUAGES})
    return units


def parallel_units() -> list[dict[str, str]]:
    return flores_units() + mmlu_demo_units()


def general_corpus(units: list[dict[str, str]], mixed: bool, seed: int) -> list[str]:
    """One line per unit, in English or in a language drawn per unit (seeded per unit), shuffled."""
    lines = []
    for i, unit in enumerate(units):
        lang = random.Random(f"general:{seed}:{i}").choice(LANGUAGES) if mixed else "en"
        lines.append(unit[lang])
    random.Random(f"general-shuffle:{seed}").shuffle(lines)
    return lines
