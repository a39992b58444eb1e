"""Reading the answer letter out of generated text."""

import pytest

from crossknow.answers import parse_answer

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
