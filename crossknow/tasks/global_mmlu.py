"""Global-MMLU as its own task (registered as ``global_mmlu``): one language, read as released.

Each row keeps Global-MMLU's ``sample_id`` (``{subject}/{split}/{row}``: the English MMLU row it
translates, checked, in the records as ``source_id``) and its culture tag (CS/CA/null,
crossknow/data/culture.py). Subjects are the units, prompts MMLU's (zero-shot), and the summary
MMLU's with the accuracy per culture tag: ``python -m crossknow.tasks --task global_mmlu --language fr``.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from crossknow.core.answers import LABELS
from crossknow.core.cli import add_data_argument
from crossknow.core.hub import load_hub_dataset
from crossknow.core.languages import get_language, language_code
from crossknow.data.culture import TAGS
from crossknow.data.mmlu import DataError, checked_item
from crossknow.data.prompts import build_prompt
from crossknow.data.source_ids import global_mmlu_mismatch, global_mmlu_source_id
from crossknow.runner import Scoring, Unit
from crossknow.tasks.base import Configuration, register_task
from crossknow.tasks.mmlu import summarize_mmlu

COLUMNS = ("question", "option_a", "option_b", "option_c", "option_d")

def read_rows(source: str, language: str, split: str = "test"):
    """One language: a ``save_to_disk`` copy at ``source/language``, else the hub dataset ``source``."""
    local = Path(source) / language
    if local.exists():
        from datasets import load_from_disk

        data = load_from_disk(str(local))
        return (data[split] if hasattr(data, "keys") else data), str(local)
    data = load_hub_dataset(source, language, split=split, provide_locally="pass a folder of save_to_disk copies")
    return data, f"hub:{source}/{language}/{split}"


def culture_tag(row: dict, where: str, number: int) -> str | None:
    label = (row.get("cultural_sensitivity_label") or "").strip()
    annotated = row.get("is_annotated", label in TAGS)
    if annotated and label not in TAGS:
        raise DataError(f"{where}: row {number}: cultural_sensitivity_label {label!r} is not CS or CA")
    return label if annotated else None


def subject_items(data, where: str, subjects: list[str] | None, limit: int | None) -> dict[str, list]:
    """The rows as items by subject (file order), each with its sample id and culture tag."""
    by_subject: dict[str, list] = {}
    for number, row in enumerate(data, start=1):
        if subjects and row["subject"] not in subjects:
            continue
        position = len(by_subject.setdefault(row["subject"], []))
        if global_mmlu_mismatch(str(row["sample_id"]), row["subject"], "test", position):
            raise DataError(f"{where}: row {number}: sample_id {row['sample_id']!r} is not {row['subject']}/test/"
                            f"{position}, the English MMLU row it sits at")
        if row["answer"] not in LABELS:
            raise DataError(f"{where}: row {number}: answer {row['answer']!r} is not one of {', '.join(LABELS)}")
        item = checked_item({c: row[c] for c in COLUMNS}, LABELS.index(row["answer"]), where, number)
        item = dataclasses.replace(item, culture=culture_tag(row, where, number),
                                   source_id=global_mmlu_source_id(row["sample_id"]))
        by_subject[row["subject"]].append(item)
    return {subject: items[:limit] for subject, items in sorted(by_subject.items())}


def summarize(records_by_subject: dict[str, list[dict]]) -> dict:
    """MMLU's numbers, and the accuracy and count per culture tag (``none``: not annotated)."""
    by_tag: dict[str, list[bool]] = {}
    for record in (r for recs in records_by_subject.values() for r in recs):
        by_tag.setdefault(record["culture"] or "none", []).append(record["correct"])
    return {**summarize_mmlu(records_by_subject), "culture": {t: sum(v) / len(v) for t, v in sorted(by_tag.items())},
            "culture_n": {t: len(v) for t, v in sorted(by_tag.items())}}


@register_task("global_mmlu")
class GlobalMMLU:
    unit_field = "subject"
    summarize = staticmethod(summarize)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_data_argument(parser, "CohereForAI/Global-MMLU", "the hub dataset or a folder of save_to_disk copies")
        parser.add_argument("--language", type=language_code, required=True, help="Global-MMLU's language code")
        parser.add_argument("--subjects", nargs="+", default=None, help="default: every subject in the data")

    def configurations(self, args: argparse.Namespace) -> list[Configuration]:
        config_name = get_language(args.language).global_mmlu
        if config_name is None:
            raise DataError(f"--language {args.language}: Global-MMLU has no such language")
        data, where = read_rows(args.data_dir, config_name)
        units = [Unit(subject, items, [build_prompt(subject, item, [], LABELS) for item in items],
                      [{"source_id": item.source_id, "culture": item.culture} for item in items])
                 for subject, items in subject_items(data, where, args.subjects, args.limit).items()]
        config = {"language": args.language, "shots": 0, "limit": args.limit}
        return [Configuration(args.language, config, where, units, self.unit_field)]

    def scoring(self, args: argparse.Namespace) -> Scoring:
        return Scoring(labels=LABELS, seed=args.seed)
