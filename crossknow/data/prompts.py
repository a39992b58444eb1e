"""The paper's MMLU prompts, string for string.

A prompt is a shared ``prefix`` (header and demonstrations, the same for every question of a
subject) and the question's own ``suffix``; the engine may reuse the prefix's computation.
"""

from __future__ import annotations

from crossknow.core.answers import LABELS
from crossknow.core.prompt import Prompt
from crossknow.data.mmlu import Item

INTERVENTION_PROMPTS = {
    0: "Keep in mind that the question and options may be presented in various languages.",
    1: "Remember that the question and options can be in different languages.",
    2: (
        "Remember that the question and options can be in different languages. "
        "First translate them all to English. Then output the answer."
    ),
}
TRANSLATE_THEN_ANSWER_ID = 2
TRANSLATE_REQUEST = "\nAnswer: \nTranslate the question and options into English, and then answer.\nQuestion: "

LABEL_SETS = {"ABCD": LABELS, "1234": ("1", "2", "3", "4"), "CDEF": ("C", "D", "E", "F")}


def format_subject(subject: str) -> str:
    """The paper puts a space before each word: ``abstract_algebra`` -> `` abstract algebra``."""
    return "".join(" " + word for word in subject.split("_"))


def header(subject: str, interv_prompt_id: int = -1) -> str:
    text = f"The following are multiple choice questions (with answers) about {format_subject(subject)}."
    if interv_prompt_id in INTERVENTION_PROMPTS:
        return f"{text} {INTERVENTION_PROMPTS[interv_prompt_id]}\n\n"
    if interv_prompt_id != -1:
        raise ValueError(f"unknown intervention prompt id {interv_prompt_id}; known: -1, 0, 1, 2")
    return text + "\n\n"


def format_options(item: Item, labels: tuple[str, ...]) -> str:
    return "".join(f"\n{label}. {choice}" for label, choice in zip(labels, item.choices))


def format_question(item: Item, labels: tuple[str, ...]) -> str:
    """``question\\nA. ..\\nB. ..\\nC. ..\\nD. ..\\nAnswer:``"""
    return item.question + format_options(item, labels) + "\nAnswer:"


def format_demo(item: Item, labels: tuple[str, ...]) -> str:
    return f"{format_question(item, labels)} {labels[item.answer]}\n\n"


def format_translate_demo(item: Item, english: Item, labels: tuple[str, ...]) -> str:
    """A translate-then-answer demonstration: the variant, the English version, the answer."""
    return (
        "Question: " + item.question + format_options(item, labels) + TRANSLATE_REQUEST
        + english.question + format_options(english, labels) + f"\nAnswer: {labels[item.answer]}\n\n"
    )


def build_prompt(
    subject: str,
    item: Item,
    demos: list[Item],
    labels: tuple[str, ...] = LABEL_SETS["ABCD"],
    interv_prompt_id: int = -1,
    english_demos: list[Item] | None = None,
) -> Prompt:
    """The full prompt for one test question with ``demos`` as k-shot demonstrations."""
    prefix = header(subject, interv_prompt_id)
    if interv_prompt_id == TRANSLATE_THEN_ANSWER_ID:
        if english_demos is None or len(english_demos) != len(demos):
            raise ValueError("translate-then-answer needs the English version of every demonstration")
        prefix += "".join(format_translate_demo(d, e, labels) for d, e in zip(demos, english_demos))
        suffix = "Question: " + item.question + format_options(item, labels) + TRANSLATE_REQUEST
        return Prompt(prefix, suffix)
    prefix += "".join(format_demo(d, labels) for d in demos)
    return Prompt(prefix, format_question(item, labels))
