"""Read the answer letter out of generated text, in English, French, German, Spanish, Italian.

A model asked to translate-then-answer (``crossknow.data.prompts``, intervention 2) restates the question
in English, answers it, and often goes on to invent the next block of the few-shot prompt: a blank
line, then ``Question:`` (or the prompt's header) and another answer. Only the model's own
restatement counts, so the text is cut where such a block starts (``BLOCK_STOPS``, which the engine
also passes to generation as stop strings) before the answer is read.
"""

from __future__ import annotations

import re

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def option_labels(n: int) -> tuple[str, ...]:
    """The labels of ``n`` options: ``A``, ``B``, ... (MMLU-ProX's ten options are ``A`` to ``J``)."""
    if not 2 <= n <= len(ALPHABET):
        raise ValueError(f"{n} options: a question has 2 to {len(ALPHABET)} labelled options")
    return tuple(ALPHABET[:n])


LABELS = option_labels(4)
"""The four labels of MMLU, the HP quiz and the Synthetic quiz: the one place they are written."""

# How a new block starts, per language: the question label of the translate-then-answer demos and
# the first words of the prompt's header, as the model writes them when it continues in the
# language of the (mixed-language) question. The header words are those of crossknow.data.prompts
# (English) and of the per-language instructions in crossknow.core.languages.
BLOCK_STARTS: dict[str, tuple[str, ...]] = {
    "en": ("Question:", "The following are multiple choice questions"),
    "fr": ("Question :", "Vous trouverez ci-dessous des questions à choix multiples"),
    "de": ("Frage:", "Im Folgenden finden Sie Multiple-Choice-Fragen"),
    "es": ("Pregunta:", "Las siguientes son preguntas de opción múltiple"),
    "it": ("Domanda:", "Di seguito sono riportate domande a scelta multipla"),
}
BLOCK_STOPS: tuple[str, ...] = tuple(
    dict.fromkeys("\n\n" + start for starts in BLOCK_STARTS.values() for start in starts))
"""Stop strings for translate-then-answer generation: a blank line, then a new block's first words."""

# "Answer: B", "The answer is B", "La réponse est B", "Antwort: B", "la respuesta es (B)", ...
_ANSWER_WORDS = r"(?:answer|réponse|reponse|antwort|respuesta|risposta)"
_LINKS = r"(?:\s*(?:is|est|ist|es|è|e|lautet|sería|correcta|correct|correcte|richtige|corretta)\b)*"


def cut_at_next_block(text: str) -> str:
    """The text before the first invented next block (all of it when there is none)."""
    starts = [text.find(stop) for stop in BLOCK_STOPS]
    return text[: min((s for s in starts if s >= 0), default=len(text))]


def parse_answer(text: str, labels: tuple[str, ...]) -> str | None:
    """The label the text answers with, or None when it cannot be read.

    Only the text before an invented next block counts (``cut_at_next_block``). There an explicit
    answer phrase wins, and its last occurrence counts (translate-then-answer output restates the
    question, whose options may mention an answer, before answering); otherwise the text must start
    with a label.
    """
    text = cut_at_next_block(text)
    label_group = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    phrase = re.compile(
        rf"{_ANSWER_WORDS}{_LINKS}\s*[:：]?\s*\(?\**\s*({label_group})(?![\w])",
        re.IGNORECASE,
    )
    matches = [m.group(1) for m in phrase.finditer(text)]
    matches = [m for m in matches if m in labels]
    if matches:
        return matches[-1]
    start = re.match(rf"\s*\(?\**({label_group})(?:[.):\s]|$)", text)
    return start.group(1) if start else None
