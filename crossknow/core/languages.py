"""One table of the languages the project knows, with every code a backend or a dataset needs.

The table is data: ``languages.tsv`` beside this file, one row per FLoRes-200 language (204 rows),
with columns

- ``code``: what users type (``--languages zh hi sw``): the ISO 639-1 code where the language has
  one, else ISO 639-3; a second script of the same language adds the ISO 15924 script (``zh-Hant``);
- ``name``: the English name FLoRes-200 gives it;
- ``flores``: the FLoRes-200 code (ISO 639-3 + script, ``zho_Hans``); its script is ``Language.script``;
- ``nllb``: the NLLB-200 language token (equal to ``flores`` except Santali, ``sat_Beng``; empty for
  the two FLoRes-200 languages NLLB-200 has no token for);
- ``m2m``: the M2M100 code, where M2M100 has the language;
- ``mmmlu``: the locale of OpenAI's MMMLU (``FR_FR``; its files are ``mmlu_FR-FR.csv``);
- ``global_mmlu``: the configuration name in CohereForAI/Global-MMLU (``fil`` for Tagalog);
- ``aliases``: other codes accepted for the language (``fil``).
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

TABLE = Path(__file__).with_name("languages.tsv")

PAPER_LANGUAGES = ["de", "fr", "es", "it"]
"""The non-English languages of the paper, in the order of its launchers."""

HP_INSTRUCTIONS = {
    "en": "The following are multiple choice questions (with answers) about Harry Potter.",
    "fr": "Vous trouverez ci-dessous des questions à choix multiples (avec réponses) sur Harry Potter.",
    "de": "Im Folgenden finden Sie Multiple-Choice-Fragen (mit Antworten) zu Harry Potter.",
    "es": "Las siguientes son preguntas de opción múltiple (con respuestas) sobre Harry Potter.",
    "it": "Di seguito sono riportate domande a scelta multipla (con risposte) su Harry Potter.",
}


@dataclass(frozen=True)
class Language:
    iso: str
    name: str
    flores: str
    nllb: str | None
    m2m: str | None
    mmmlu: str | None = None
    global_mmlu: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def script(self) -> str:
        """ISO 15924 script, from the FLoRes-200 code (``Latn``, ``Arab``, ``Hans``, ...)."""
        return self.flores.split("_")[1]

    @property
    def hp_instruction(self) -> str | None:
        return HP_INSTRUCTIONS.get(self.iso)


def _read_table(path: Path = TABLE) -> dict[str, Language]:
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    table = {}
    for row in rows:
        table[row["code"]] = Language(row["code"], row["name"], row["flores"], row["nllb"] or None,
                                      row["m2m"] or None, row["mmmlu"] or None, row["global_mmlu"] or None,
                                      tuple(a for a in row["aliases"].split(",") if a))
    return table


LANGUAGES: dict[str, Language] = _read_table()
_BY_OTHER_CODE = {code: lang for lang in LANGUAGES.values() for code in (lang.flores, *lang.aliases)}


def known_codes() -> str:
    return ", ".join(LANGUAGES)


def get_language(code: str) -> Language:
    """The language of a table code, an alias or a FLoRes-200 code; unknown codes list the known ones."""
    language = LANGUAGES.get(code) or _BY_OTHER_CODE.get(code)
    if language is None:
        raise ValueError(f"unknown language code {code!r}; known: {known_codes()}")
    return language


def language_code(value: str) -> str:
    """argparse ``type``: the table code of ``value``; an unknown code is a usage error."""
    try:
        return get_language(value).iso
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def flores_file(folder: Path, lang: str, split: str = "devtest") -> Path:
    """A FLoRes file of ``lang``: ``{folder}/{lang}.{split}`` (the bundled subset's naming) or the
    FLoRes-200 release's ``{folder}/{flores code}.{split}`` (``zho_Hans.devtest``); the first that exists."""
    candidates = [Path(folder) / f"{lang}.{split}", Path(folder) / f"{get_language(lang).flores}.{split}"]
    return next((path for path in candidates if path.is_file()), candidates[0])


def mmmlu_language(locale: str) -> Language:
    """The language of an MMMLU locale (``FR_FR`` or ``FR-FR``)."""
    wanted = locale.upper().replace("-", "_")
    for language in LANGUAGES.values():
        if language.mmmlu == wanted:
            return language
    known = ", ".join(lang.mmmlu for lang in LANGUAGES.values() if lang.mmmlu)
    raise ValueError(f"unknown MMMLU locale {locale!r}; known: {known}")
