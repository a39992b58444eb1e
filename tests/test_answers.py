"""Reading the answer letter out of generated text."""

import pytest

from crossknow.core.answers import BLOCK_STOPS, cut_at_next_block, parse_answer
from crossknow.data.mmlu import Item
from crossknow.data.prompts import TRANSLATE_THEN_ANSWER_ID, build_prompt

ABCD = ("A", "B", "C", "D")


@pytest.mark.parametrize("text,expected", [
    (" B", "B"),
    ("B. 4", "B"),
    (" (C)", "C"),
    ("D\n\nQuestion: next", "D"),
    ("The answer is C.", "C"),
    ("Answer: D", "D"),
    ("La réponse est B.", "B"),
    ("Réponse : A", "A"),
    ("Die Antwort ist C", "C"),
    ("Antwort: D", "D"),
    ("La respuesta correcta es (A)", "A"),
    ("Respuesta: B", "B"),
    ("La risposta è D", "D"),
    ("Risposta: C", "C"),
    # translate-then-answer: the model restates the question in English, then answers.
    ("What is 2 + 2?\nA. 3\nB. 4\nC. 5\nD. 6\nAnswer: B\n\nQuestion: Was", "B"),
])
def test_parses(text, expected):
    assert parse_answer(text, ABCD) == expected


@pytest.mark.parametrize("text", ["", "I do not know.", "Another question", "Answer: E", "All of them"])
def test_unparseable_is_none(text):
    assert parse_answer(text, ABCD) is None


def test_numeric_labels():
    assert parse_answer("Answer: 3", ("1", "2", "3", "4")) == "3"
    assert parse_answer("2) foo", ("1", "2", "3", "4")) == "2"


# Translate-then-answer: the model restates the question in English and answers (B), then invents
# the next block of the prompt, in the wording of any of the five languages, and answers it (D).
RESTATEMENT = "What is 2 + 2?\nA. 3\nB. 4\nC. 5\nD. 6\nAnswer: B"
INVENTED_BLOCKS = {
    "en question": "\n\nQuestion: What is 3 + 3?\nA. 6\nB. 7\nC. 8\nD. 9\nAnswer: D",
    "en header": "\n\nThe following are multiple choice questions (with answers) about math.\n\nAnswer: D",
    "fr question": "\n\nQuestion : Combien font 3 + 3 ?\nA. 6\nB. 7\nC. 8\nD. 9\nRéponse : D",
    "fr header": "\n\nVous trouverez ci-dessous des questions à choix multiples (avec réponses).\nRéponse : D",
    "de question": "\n\nFrage: Was ist 3 + 3?\nA. 6\nB. 7\nC. 8\nD. 9\nAntwort: D",
    "de header": "\n\nIm Folgenden finden Sie Multiple-Choice-Fragen (mit Antworten).\nAntwort: D",
    "es question": "\n\nPregunta: ¿Cuánto es 3 + 3?\nA. 6\nB. 7\nC. 8\nD. 9\nRespuesta: D",
    "es header": "\n\nLas siguientes son preguntas de opción múltiple (con respuestas).\nRespuesta: D",
    "it question": "\n\nDomanda: Quanto fa 3 + 3?\nA. 6\nB. 7\nC. 8\nD. 9\nRisposta: D",
    "it header": "\n\nDi seguito sono riportate domande a scelta multipla (con risposte).\nRisposta: D",
}


@pytest.mark.parametrize("block", INVENTED_BLOCKS.values(), ids=INVENTED_BLOCKS.keys())
def test_the_answer_of_an_invented_next_block_is_not_scored(block):
    assert parse_answer(block.lstrip(), ABCD) == "D"  # the block alone does answer D
    assert parse_answer(RESTATEMENT + block, ABCD) == "B"
    assert parse_answer(RESTATEMENT + block + block, ABCD) == "B"
    assert cut_at_next_block(RESTATEMENT + block) == RESTATEMENT


@pytest.mark.parametrize("block", INVENTED_BLOCKS.values(), ids=INVENTED_BLOCKS.keys())
def test_an_answer_only_in_the_invented_block_is_unparsed(block):
    assert parse_answer("What is 2 + 2?\nA. 3\nB. 4\nC. 5\nD. 6" + block, ABCD) is None


@pytest.mark.parametrize("restatement,expected", [
    ("Quelle est la capitale ?\nA. Paris\nB. Rome\nC. Oslo\nD. Bern\nRéponse : A", "A"),
    ("Was ist die Hauptstadt?\nA. Paris\nB. Rom\nC. Oslo\nD. Bern\nDie Antwort ist C", "C"),
    ("¿Cuál es la capital?\nA. París\nB. Roma\nC. Oslo\nD. Berna\nRespuesta: (D)", "D"),
    ("Qual è la capitale?\nA. Parigi\nB. Roma\nC. Oslo\nD. Berna\nLa risposta è B", "B"),
])
def test_a_restatement_in_another_language_then_an_english_block(restatement, expected):
    assert parse_answer(restatement + INVENTED_BLOCKS["en question"], ABCD) == expected


def test_text_without_a_next_block_is_kept_whole():
    text = "Line one\nAnswer: C\nQuestion: same block, no blank line"
    assert cut_at_next_block(text) == text
    assert parse_answer("A\n\nB\n\nAnswer: C", ABCD) == "C"  # blank lines alone start no block


def test_block_stops_are_where_the_translate_then_answer_prompt_starts_its_blocks():
    item = Item("Wie viel ist 2 + 2?", ("3", "4", "5", "6"), 1)
    english = Item("What is 2 + 2?", ("3", "4", "5", "6"), 1)
    prompt = build_prompt("high_school_mathematics", item, [item], ABCD, TRANSLATE_THEN_ANSWER_ID, [english])
    demo_end = prompt.prefix.index("Answer: B\n\n") + len("Answer: B")
    assert any(prompt.text[demo_end:].startswith(stop) for stop in BLOCK_STOPS)  # the next question
    assert any(("\n\n" + prompt.text).startswith(stop) for stop in BLOCK_STOPS)  # the header
    assert all(stop.startswith("\n\n") for stop in BLOCK_STOPS) and len(set(BLOCK_STOPS)) == len(BLOCK_STOPS)
