"""The Harry Potter quiz as a task (registered as ``hp``): one result per language of one variant.

The quiz (``crossknow.data.hp``) in English, French, German, Spanish and Italian, or a mixed-language
variant of it; each language is one unit of four-option questions scored from the letter logits;
the summary is the accuracy, its interval, and the accuracy per quiz category. HP/evaluate.py
drives it through ``get_task("hp")`` (and adds the summary table and pairing with English).
"""

from __future__ import annotations

import argparse

from crossknow.core.answers import LABELS
from crossknow.core.cli import add_languages_argument, data_location
from crossknow.core.results import bootstrap_interval
from crossknow.data.hp import QUIZ_LANGUAGES, VARIANTS, load_quiz, variant_prompts
from crossknow.data.question_ids import hp_question_id
from crossknow.models.chat import ChatFormat
from crossknow.runner import Scoring, Unit
from crossknow.tasks.base import Configuration, register_task

# The bundled demo quiz lives with the HP task scripts (HP/data/demo-quiz, see HP/README.md).


def summarize(records_by_unit: dict[str, list[dict]]) -> dict:
    """Accuracy, its 95% interval, and the accuracy and count per quiz category."""
    records = [r for recs in records_by_unit.values() for r in recs]
    correct = [r["correct"] for r in records]
    by_category: dict[str, list[bool]] = {}
    for r in records:
        if r.get("category"):
            by_category.setdefault(r["category"], []).append(r["correct"])
    return {"n": len(correct), "accuracy": sum(correct) / len(correct), "ci95": bootstrap_interval(correct),
            "category": {c: sum(v) / len(v) for c, v in sorted(by_category.items())},
            "category_n": {c: len(v) for c, v in sorted(by_category.items())}}


def language_unit(quiz, lang: str, variant: str, seed: int, limit: int | None,
                  chat: ChatFormat | None = None) -> Unit:
    """One language of the quiz (``mixup``: the mixed-language variant) as a runner unit, each
    record with the question's id and category."""
    items, prompts = variant_prompts(quiz, variant, "en" if lang == "mixup" else lang, seed)
    prompts = [chat.apply(p) for p in prompts] if chat else prompts
    categories = [{"id": hp_question_id(row), "category": q.category} for row, q in enumerate(quiz["en"])]
    n = len(items) if limit is None else min(limit, len(items))
    return Unit(lang, items[:n], prompts[:n], categories[:n])


def quiz_languages(languages: list[str] | None, variant: str) -> list[str]:
    """The units of a run: every quiz language for ``all``, ``mixup`` alone for the mixup variant,
    the languages other than English for a partial variant (its English is plain English)."""
    langs = QUIZ_LANGUAGES if (languages or ["all"]) == ["all"] else languages
    if variant == "mixup":
        return ["mixup"]
    return langs if variant == "none" else [lang for lang in langs if lang != "en"]


def needed_languages(languages: list[str], variant: str) -> list[str]:
    """The quiz files to read: English always (the variants build on it, the categories and the
    alignment check use it), and the languages of the run."""
    return QUIZ_LANGUAGES if variant == "mixup" else ["en", *sorted(set(languages) - {"en"})]


def language_config(lang: str, variant: str, limit: int | None, optional: dict | None = None) -> dict:
    return {"language": lang, "variant": variant, "limit": limit, **(optional or {})}


@register_task("hp")
class HarryPotterQuiz:
    """The quiz for ``python -m crossknow.tasks --task hp``; HP/evaluate.py uses the same parts."""

    unit_field = "language"
    summarize = staticmethod(summarize)
    language_unit = staticmethod(language_unit)
    quiz_languages = staticmethod(quiz_languages)
    needed_languages = staticmethod(needed_languages)
    language_config = staticmethod(language_config)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_languages_argument(parser, None, "languages, or 'all' (default: all)", words=("all",))
        parser.add_argument("--data_dir", "--data", dest="data_dir", required=True, type=data_location,
                            help="hub dataset name or local folder (HP/data/demo-quiz is the bundled demo quiz)")
        parser.add_argument("--variant", default="none", choices=VARIANTS)

    def configurations(self, args: argparse.Namespace) -> list[Configuration]:
        languages = quiz_languages(args.languages, args.variant)
        quiz = load_quiz(args.data_dir, needed_languages(languages, args.variant))
        return [Configuration(lang, language_config(lang, args.variant, args.limit), str(args.data_dir),
                              [language_unit(quiz, lang, args.variant, args.seed, args.limit)], self.unit_field)
                for lang in languages]

    def scoring(self, args: argparse.Namespace) -> Scoring:
        return Scoring(labels=LABELS, answer_token=getattr(args, "answer_token", "paper"), seed=args.seed)
