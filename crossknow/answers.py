"""Read the answer letter out of generated text, in English, French, German, Spanish, Italian."""

from __future__ import annotations

import re

# "Answer: B", "The answer is B", "La réponse est B", "Antwort: B", "la respuesta es (B)", ...
_ANSWER_WORDS = r"(?:answer|réponse|reponse|antwort|respuesta|risposta)"
_LINKS = r"(?:\s*(?:is|est|ist|es|è|e|lautet|sería|correcta|correct|correcte|richtige|corretta)\b)*"


def parse_answer(text: str, labels: tuple[str, ...]) -> str | None:
    """The label the text answers with, or None when it cannot be read.

    An explicit answer phrase wins, and its last occurrence counts (translate-then-answer output
    restates the question before answering); otherwise the text must start with a label.
    """
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
