"""Golden tests: the prompts are the paper's, string for string."""

from crossknow.data.mmlu import Item
from crossknow.data.prompts import LABEL_SETS, build_prompt, format_subject, header

Q = Item("What is 2 + 2?", ("3", "4", "5", "6"), 1)
D1 = Item("What is 1 + 1?", ("2", "3", "4", "5"), 0)
D2 = Item("What is 3 + 3?", ("5", "7", "6", "8"), 2)
D1_FR = Item("Combien font 1 + 1 ?", ("2", "3", "4", "5"), 0)
D2_FR = Item("Combien font 3 + 3 ?", ("5", "7", "6", "8"), 2)
Q_FR = Item("Combien font 2 + 2 ?", ("3", "4", "5", "6"), 1)


def test_subject_has_a_space_before_each_word():
    assert format_subject("abstract_algebra") == " abstract algebra"
    assert header("abstract_algebra") == (
        "The following are multiple choice questions (with answers) about  abstract algebra.\n\n")


def test_zero_shot_prompt():
    prompt = build_prompt("abstract_algebra", Q, [])
    assert prompt.text == (
        "The following are multiple choice questions (with answers) about  abstract algebra.\n\n"
        "What is 2 + 2?\nA. 3\nB. 4\nC. 5\nD. 6\nAnswer:")


def test_two_shot_prompt_and_prefix_split():
    prompt = build_prompt("college_physics", Q, [D1, D2])
    assert prompt.prefix == (
        "The following are multiple choice questions (with answers) about  college physics.\n\n"
        "What is 1 + 1?\nA. 2\nB. 3\nC. 4\nD. 5\nAnswer: A\n\n"
        "What is 3 + 3?\nA. 5\nB. 7\nC. 6\nD. 8\nAnswer: C\n\n")
    assert prompt.suffix == "What is 2 + 2?\nA. 3\nB. 4\nC. 5\nD. 6\nAnswer:"


def test_intervention_prompts_follow_the_header_after_one_space():
    base = "The following are multiple choice questions (with answers) about  anatomy."
    assert header("anatomy", 0) == (
        base + " Keep in mind that the question and options may be presented in various languages.\n\n")
    assert header("anatomy", 1) == (
        base + " Remember that the question and options can be in different languages.\n\n")
    assert header("anatomy", 2) == (
        base + " Remember that the question and options can be in different languages. "
        "First translate them all to English. Then output the answer.\n\n")


def test_translate_then_answer_prompt():
    prompt = build_prompt("anatomy", Q_FR, [D1_FR], interv_prompt_id=2, english_demos=[D1])
    assert prompt.text == (
        "The following are multiple choice questions (with answers) about  anatomy. "
        "Remember that the question and options can be in different languages. "
        "First translate them all to English. Then output the answer.\n\n"
        "Question: Combien font 1 + 1 ?\nA. 2\nB. 3\nC. 4\nD. 5"
        "\nAnswer: \nTranslate the question and options into English, and then answer.\n"
        "Question: What is 1 + 1?\nA. 2\nB. 3\nC. 4\nD. 5\nAnswer: A\n\n"
        "Question: Combien font 2 + 2 ?\nA. 3\nB. 4\nC. 5\nD. 6"
        "\nAnswer: \nTranslate the question and options into English, and then answer.\nQuestion: ")


def test_alternative_labels():
    prompt = build_prompt("anatomy", Q, [D2], labels=LABEL_SETS["1234"])
    assert prompt.text.endswith("What is 3 + 3?\n1. 5\n2. 7\n3. 6\n4. 8\nAnswer: 3\n\n"
                                "What is 2 + 2?\n1. 3\n2. 4\n3. 5\n4. 6\nAnswer:")
    prompt = build_prompt("anatomy", Q, [], labels=LABEL_SETS["CDEF"])
    assert prompt.suffix == "What is 2 + 2?\nC. 3\nD. 4\nE. 5\nF. 6\nAnswer:"


def test_unknown_intervention_is_refused():
    import pytest

    with pytest.raises(ValueError, match="intervention prompt id 7"):
        header("anatomy", 7)
