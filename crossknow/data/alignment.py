"""Cheap content checks that an imported translation is row-aligned with English MMLU.

Answers alone do not prove alignment: two swapped rows with the same answer pass. Two signals that
survive translation are compared per row, and a row that disagrees is warned about (never refused:
a translator may spell a number out, or write a long option short):

- the numbers of the question and options (each English one must be in the translation), after
  normalising digits (Arabic-Indic, Persian, Devanagari, ...: any Unicode decimal digit) and
  separators (``3,5`` and ``3.5``, ``1 000`` and ``1,000`` are the same number);
- the length ratio of each option to its English option, against the file's own range of ratios
  (a row far outside it is likely another question's options).
"""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from collections import Counter

from crossknow.data.mmlu import Item

# Digits joined by a decimal or thousands separator (ASCII, Arabic, thin and no-break spaces) are one number.
_NUMBER = re.compile(r"\d+(?:[.,'\u066b\u066c\u00a0\u202f]\d+)*")
MIN_ROWS_FOR_LENGTHS = 8  # fewer rows give no range of their own to compare with
LENGTH_SPREAD = 3.0  # a ratio further than this many interquartile ranges outside the quartiles is odd
MIN_LENGTH_FACTOR = math.log(2.5)  # ... and off the median by more than this factor


def numbers(text: str) -> list[str]:
    """The numbers in ``text``, as sorted strings of ASCII digits without separators or leading zeros."""
    ascii_digits = "".join(str(unicodedata.digit(c)) if c.isdecimal() else c for c in text)
    found = (re.sub(r"\D", "", match) for match in _NUMBER.findall(ascii_digits))
    return sorted(n.lstrip("0") or "0" for n in found)


def row_numbers(item: Item) -> list[str]:
    return sorted(n for text in (item.question, *item.choices) for n in numbers(text))


def number_mismatches(english: list[Item], translated: list[Item]) -> list[int]:
    """Rows (from 1) that lack a number of the English row (a translation may add one: a list
    written ``0、1``, a word spelled as a digit)."""
    return [i + 1 for i, (e, t) in enumerate(zip(english, translated))
            if Counter(row_numbers(e)) - Counter(row_numbers(t))]


def _log_ratio(english: str, translated: str) -> float:
    return math.log((len(translated) + 5) / (len(english) + 5))  # +5: short options ("A", "12") stay calm


def length_outliers(english: list[Item], translated: list[Item]) -> list[int]:
    """Rows (from 1) with an option whose length ratio to English is far outside the file's range."""
    if len(english) < MIN_ROWS_FOR_LENGTHS:
        return []
    ratios = [[_log_ratio(e, t) for e, t in zip(e_item.choices, t_item.choices)]
              for e_item, t_item in zip(english, translated)]
    pooled = sorted(r for row in ratios for r in row)
    q1, median, q3 = statistics.quantiles(pooled, n=4)
    low, high = q1 - LENGTH_SPREAD * (q3 - q1), q3 + LENGTH_SPREAD * (q3 - q1)
    return [i + 1 for i, row in enumerate(ratios)
            if any((r < low or r > high) and abs(r - median) > MIN_LENGTH_FACTOR for r in row)]


def content_warnings(english: list[Item], translated: list[Item], source: str) -> list[str]:
    """One warning per kind of disagreement, naming the rows (from 1); empty when none."""
    warnings = []
    mismatched = number_mismatches(english, translated)
    if mismatched:
        first = mismatched[0] - 1
        warnings.append(f"warning: {source}: numbers of the English row missing on row(s) {mismatched[:10]} "
                        f"(row {first + 1}: {row_numbers(translated[first])} here, {row_numbers(english[first])} "
                        "in English): check that the rows are the same questions")
    outliers = length_outliers(english, translated)
    if outliers:
        warnings.append(f"warning: {source}: option lengths far outside this file's range of English-to-"
                        f"translation ratios on row(s) {outliers[:10]}: check that the rows are the same questions")
    return warnings
