"""Fault tests (issue 21, classes 1, 2, 3, 4 and 7): bad data never scored, non-finite scores
stopped, prompts beyond the model's context refused or truncated on request, results verified
before they are served, names from data that stay inside their folder. Each test fed the code
before this work a case that it got wrong."""

import csv
import json
import shutil

import pytest

from conftest import DEMO_DATA, load_script
from crossknow.hp import load_quiz, parse_rows
from crossknow.mmlu import DataError, HubSource, _item_from_hub_row, parse_mmlu_csv

mmlu_translate = load_script("MMLU/translate.py")
mmlu_eval = load_script("MMLU/eval.py")
QUIZ_ROW = {"question": "Q", "A": "a", "B": "b", "C": "c", "D": "d", "GT": "B"}


# 21.1 empty or null question and option texts are refused by every reader, naming file, row, column

@pytest.mark.parametrize(("text", "message"), [
    ("Why?,a,,c,d,B\n", r"h.csv: row 1: column 3 \(option B\): empty text"),
    ("  ,a,b,c,d,B\n", r"h.csv: row 1: column 1 \(question\): empty text"),
    ("question,choice0,choice1,choice2,choice3,answer\nWhy?,a,b,c,d,1\nWhy?,a,b,c,\" \",1\n",
     r"h.csv: row 3: column choice3: empty text"),
])
def test_an_empty_cell_of_an_mmlu_csv_is_refused_in_both_formats(text, message):
    with pytest.raises(DataError, match=message):
        parse_mmlu_csv(text, "h.csv")


def test_a_null_cell_of_a_hub_row_or_a_saved_hub_dataset_is_refused():
    row = {"question": "What?", "A": None, "B": "b", "C": "c", "D": "d", "answer": "A"}
    with pytest.raises(DataError, match=r"hub:x/f.csv: row 2: column A: null where a text is expected"):
        _item_from_hub_row(row, "hub:x/f.csv", 0)
    with pytest.raises(DataError, match=r"hub:x/f.csv: row 5: column question: null where a text is expected"):
        _item_from_hub_row({**row, "question": float("nan"), "A": "a"}, "hub:x/f.csv", 3)


def test_a_null_cell_of_a_saved_english_hub_copy_is_refused(tmp_path):
    from datasets import Dataset, DatasetDict

    rows = [{"question": "Q1", "subject": "management", "choices": ["a", "b", "c", "d"], "answer": 1},
            {"question": "Q2", "subject": "management", "choices": ["a", "", "c", "d"], "answer": 1}]
    DatasetDict({"test": Dataset.from_list(rows)}).save_to_disk(str(tmp_path / "mmlu"))
    with pytest.raises(DataError, match=r"mmlu \(management, test\): row 1: column choices\[1\]: empty text"):
        HubSource(str(tmp_path / "mmlu")).load("management", "test")


@pytest.mark.parametrize(("column", "value", "message"), [
    ("question", None, "column question: null where a text is expected"),
    ("C", "", "column C: empty text"),
    ("D", ["x"], "column D: list \\['x'\\] where a text is expected"),
])
def test_a_null_or_empty_hp_quiz_cell_is_refused(column, value, message):
    with pytest.raises(DataError, match=rf"quiz.jsonl: row 2: {message}"):
        parse_rows([QUIZ_ROW, {**QUIZ_ROW, column: value}], "quiz.jsonl")


def test_a_null_in_an_hp_quiz_jsonl_file_is_refused_not_scored_as_none(tmp_path):
    for name in ("English", "French"):
        rows = [QUIZ_ROW, {**QUIZ_ROW, "B": None if name == "French" else 5}]
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError, match=r"French.jsonl: row 2: column B: null where a text is expected"):
        load_quiz(tmp_path, ["en", "fr"])
    assert load_quiz(tmp_path, ["en"])["en"][1].item.choices == ("a", "5", "c", "d")  # a number is its text


def test_an_empty_cell_of_an_mmmlu_import_is_refused_before_writing(tmp_path):
    from crossknow.mmlu import LocalSource

    path = tmp_path / "mmlu_FR-FR.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["", "Question", "A", "B", "C", "D", "Answer", "Subject"])
        for i, item in enumerate(LocalSource(DEMO_DATA).load("management", "test", "full_fr")):
            writer.writerow([i, item.question, *item.choices[:3], "" if i == 4 else item.choices[3],
                             "ABCD"[item.answer], "management"])
    with pytest.raises(DataError, match=r"mmlu_FR-FR.csv: management: row 5: column D: empty text"):
        mmlu_translate.main(["--data_dir", str(DEMO_DATA), "--out_dir", str(tmp_path / "out"), "--split", "test",
                             "--subjects", "management", "--import_mmmlu", str(path)])
    assert not (tmp_path / "out" / "test_full_fr").exists()


def test_a_null_cell_of_a_global_mmlu_import_is_refused(tmp_path):
    from datasets import Dataset

    from crossknow.mmlu import LocalSource

    rows = [{"subject": "management", "question": item.question,
             **{f"option_{c}": item.choices[j] for j, c in enumerate("abcd")}, "answer": "ABCD"[item.answer],
             "cultural_sensitivity_label": "", "is_annotated": False}
            for item in LocalSource(DEMO_DATA).load("management", "test", "full_fr")]
    rows[2]["question"] = None
    Dataset.from_list(rows).save_to_disk(str(tmp_path / "gm" / "fr"))
    with pytest.raises(DataError, match=r"gm/fr: row 3: column question: null where a text is expected"):
        mmlu_translate.main(["--data_dir", str(DEMO_DATA), "--out_dir", str(tmp_path / "out"), "--split", "test",
                             "--subjects", "management", "--languages", "fr", "--import_global_mmlu",
                             str(tmp_path / "gm")])


def test_mmlu_eval_refuses_an_empty_option_before_any_model_loads(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(DEMO_DATA / "test", data / "test")
    path = data / "test" / "management_test.csv"
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    rows[3][2] = ""
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    monkeypatch.setattr(mmlu_eval, "make_backend", lambda *a, **k: pytest.fail("the model was loaded"))
    with pytest.raises(DataError, match=r"management_test.csv: row 4: column choice1: empty text"):
        mmlu_eval.main(["--data_dir", str(data), "--variants", "en", "--save_dir", str(tmp_path / "out")])
