"""One table of the languages the project knows, with every code a backend needs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    iso: str
    name: str
    nllb: str
    m2m: str
    hp_instruction: str | None = None


LANGUAGES: dict[str, Language] = {
    lang.iso: lang
    for lang in [
        Language(
            "en", "English", "eng_Latn", "en",
            "The following are multiple choice questions (with answers) about Harry Potter.",
        ),
        Language(
            "fr", "French", "fra_Latn", "fr",
            "Vous trouverez ci-dessous des questions à choix multiples (avec réponses) sur Harry Potter.",
        ),
        Language(
            "de", "German", "deu_Latn", "de",
            "Im Folgenden finden Sie Multiple-Choice-Fragen (mit Antworten) zu Harry Potter.",
        ),
        Language(
            "es", "Spanish", "spa_Latn", "es",
            "Las siguientes son preguntas de opción múltiple (con respuestas) sobre Harry Potter.",
        ),
        Language(
            "it", "Italian", "ita_Latn", "it",
            "Di seguito sono riportate domande a scelta multipla (con risposte) su Harry Potter.",
        ),
        Language("pt", "Portuguese", "por_Latn", "pt"),
        Language("nl", "Dutch", "nld_Latn", "nl"),
        Language("ru", "Russian", "rus_Cyrl", "ru"),
        Language("zh", "Chinese", "zho_Hans", "zh"),
        Language("ja", "Japanese", "jpn_Jpan", "ja"),
    ]
}

PAPER_LANGUAGES = ["de", "fr", "es", "it"]
"""The non-English languages of the paper, in the order of its launchers."""


def get_language(code: str) -> Language:
    try:
        return LANGUAGES[code]
    except KeyError:
        raise ValueError(f"unknown language code {code!r}; known: {', '.join(LANGUAGES)}") from None
