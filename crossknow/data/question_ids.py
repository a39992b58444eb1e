"""Question identity across variants and languages: the id that pairs a question's records.

A record's ``id`` is the same for the same source question in every variant and language:

- MMLU (and data imported into its layout, Global-MMLU, MMMLU, which is row-aligned to English):
  ``mmlu/{subject}/{split}/{row}/{hash}``, the subject, split and 0-based row of the English source
  and the first 8 hex digits of the SHA-256 of that English row (question, choices, answer), so
  that two English files with other rows at the same position never share an id.
- HP: ``hp/{row}``, the quiz row (0-based; the quiz's languages are row-aligned, ``crossknow/data/hp.py``).
- Synthetic: ``synthetic/{person}/{relation}``.

Records written before ids existed have none: ``record_id`` falls back to ``{unit}/{index}``
(subject or language, and the row) and says so through ``fallback``.
"""

from __future__ import annotations

import hashlib
import json

from crossknow.data.mmlu import Item


def row_hash(item: Item) -> str:
    text = json.dumps([item.question, list(item.choices), item.answer], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def mmlu_question_id(subject: str, split: str, row: int, english: Item) -> str:
    return f"mmlu/{subject}/{split}/{row}/{row_hash(english)}"


def hp_question_id(row: int) -> str:
    return f"hp/{row}"


def synthetic_question_id(person: str, relation: str) -> str:
    return f"synthetic/{person}/{relation}"


def record_id(record: dict, unit_field: str = "subject") -> tuple[str, bool]:
    """The record's question id, and whether it is the (unit, index) fallback of an older record."""
    if record.get("id"):
        return str(record["id"]), False
    if record.get("person") is not None and record.get("relation") is not None:
        return synthetic_question_id(record["person"], record["relation"]), False
    unit = record.get(unit_field, record.get("subject", record.get("unit")))
    return f"{unit}/{record.get('index')}", True
