"""Fault tests (issue 21, classes 1, 2, 3, 4 and 7): bad data never scored, non-finite scores
stopped, prompts beyond the model's context refused or truncated on request, results verified
before they are served, names from data that stay inside their folder. Each test fed the code
before this work a case that it got wrong."""

import csv
import json
import shutil

import pytest

from conftest import DEMO_DATA, load_script
from crossknow.data.hp import load_quiz, parse_rows
from crossknow.data.mmlu import DataError, HubSource, _item_from_hub_row, parse_mmlu_csv

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
    from crossknow.data.mmlu import LocalSource

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

    from crossknow.data.mmlu import LocalSource

    rows = [{"sample_id": f"management/test/{i}", "subject": "management", "question": item.question,
             **{f"option_{c}": item.choices[j] for j, c in enumerate("abcd")}, "answer": "ABCD"[item.answer],
             "cultural_sensitivity_label": "", "is_annotated": False}
            for i, item in enumerate(LocalSource(DEMO_DATA).load("management", "test", "full_fr"))]
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


# 21.7 every name that becomes a path (subject, language/variant, model tag, configuration) is plain

@pytest.mark.parametrize("name", ["../x", "../../x", "a/b", "..", ".hidden", "", "a\\b", "a\nb"])
def test_check_plain_name_refuses_every_name_that_is_not_a_plain_file_name(name):
    from crossknow.core.io import PathNameError, check_plain_name

    with pytest.raises(PathNameError, match=r"^subject .*: not a plain name \("):
        check_plain_name(name, "subject")
    assert check_plain_name("high_school_us_history", "subject") == "high_school_us_history"


def test_a_subject_from_a_saved_dataset_never_writes_outside_out_dir(tmp_path):
    from datasets import Dataset, DatasetDict

    fetch_data = load_script("MMLU/fetch_data.py")
    rows = [{"question": "Q", "subject": "../../x", "choices": ["a", "b", "c", "d"], "answer": 1}]
    DatasetDict({"test": Dataset.from_list(rows)}).save_to_disk(str(tmp_path / "mmlu"))
    out = tmp_path / "a" / "b" / "out"
    from crossknow.core.errors import CrossknowError

    with pytest.raises(CrossknowError, match=r"mmlu: subject '../../x': not a plain name \(it holds a path separator\)"):
        fetch_data.main(["--source", str(tmp_path / "mmlu"), "--out_dir", str(out), "--no_mixup", "--splits", "test"])
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file() and "mmlu" not in p.parts) == []


@pytest.mark.parametrize(("argv", "message"), [
    (["--subjects", "../management"], r"subject '../management': not a plain name"),
    (["--config", "../en", "--test_trans_lan", ""], r"configuration '../en': not a plain name"),
    (["--test_trans_lan", "full_fr/../../x"], r"configuration 'full_fr/../../x_en_demo': not a plain name"),
    (["--config", "ok", "--test_trans_lan", "full_fr/../../x"],
     r"variant 'full_fr/../../x': folder 'test_full_fr/../../x': not a plain"),
])
def test_mmlu_eval_refuses_a_name_that_would_leave_its_folder_before_any_model_loads(tmp_path, monkeypatch, argv,
                                                                                      message):
    from crossknow.core.errors import CrossknowError

    monkeypatch.setattr(mmlu_eval, "make_backend", lambda *a, **k: pytest.fail("the model was loaded"))
    with pytest.raises((CrossknowError, ValueError), match=message):
        mmlu_eval.main(["--data_dir", str(DEMO_DATA), "--save_dir", str(tmp_path / "out"), *argv])
    assert not (tmp_path / "out").exists() and not (tmp_path / "x").exists()


def test_a_model_whose_tag_is_not_a_plain_name_is_refused_at_parse_time(tmp_path, capsys):
    with pytest.raises(SystemExit):
        mmlu_eval.main(["--model", "org/..", "--save_dir", str(tmp_path / "out")])
    assert "org/..: model tag '..': not a plain name (it starts with a dot)" in capsys.readouterr().err


def test_a_runner_unit_and_a_translation_system_name_must_be_plain(tmp_path):
    from crossknow.core.errors import CrossknowError
    from crossknow.core.prompt import Prompt
    from crossknow.data.mmlu import Item
    from crossknow.runner import Unit

    with pytest.raises(CrossknowError, match=r"unit '../fr': not a plain name"):
        Unit("../fr", [Item("Q", ("a", "b", "c", "d"), 0)], [Prompt("", "Q")])
    flores_translate = load_script("Translation/translate.py")
    with pytest.raises(CrossknowError, match=r"--system_name '../up': not a plain name"):
        flores_translate.main(["--model", "apertium", "--system_name", "../up", "--languages", "es",
                               "--output_dir", str(tmp_path / "outputs")])
    assert not tmp_path.joinpath("up").exists()


# 21.4 a result is served (rerun, report) only when it is its records' own, of a known schema

def scored_units():
    """Two subjects for the stand-in backend (it picks the letter len(prompt) % 4): management 2 of 3
    right, virology 1 of 2; so weighted accuracy 3/5, macro (2/3 + 1/2) / 2."""
    from crossknow.core.prompt import Prompt
    from crossknow.data.mmlu import Item
    from crossknow.runner import Unit

    out = []
    for subject, right in (("management", [True, True, False]), ("virology", [False, True])):
        prompts = [Prompt("head\n\n", f"q{i}?" + "x" * i + "\nAnswer:") for i in range(len(right))]
        items = [Item(f"q{i}", ("a", "b", "c", "d"), (len(p.text) + (0 if ok else 1)) % 4)
                 for i, (p, ok) in enumerate(zip(prompts, right))]
        out.append(Unit(subject, items, prompts))
    return out


def mmlu_folder(tmp_path, name="en", test=""):
    """A real MMLU result written by the runner (stand-in backend), with its records."""
    from test_runner import LengthBackend

    from crossknow.core.model_spec import ModelSpec
    from crossknow.evaluate import Settings, config_fields, make_config, summarize_mmlu
    from crossknow.runner import Run, Scoring, run_units

    prefix = tmp_path / "results" / "model_0shot"
    config = config_fields(make_config(test, name=name), Settings())
    run = Run("mmlu", ModelSpec.parse("smollm2"), config, "demo", prefix / f"result_{name}.json", prefix / name,
              unit_field="subject")
    return prefix, run, run_units(LengthBackend(), run, scored_units(), Scoring(), summarize_mmlu)


def edit_json(path, **fields):
    data = json.loads(path.read_text())
    data.update(fields)
    path.write_text(json.dumps(data))


def test_a_rerun_never_serves_a_result_whose_numbers_contradict_its_records(tmp_path, capsys):
    from test_runner import LengthBackend

    from crossknow.evaluate import summarize_mmlu
    from crossknow.runner import Scoring, run_units

    prefix, run, first = mmlu_folder(tmp_path)
    edit_json(run.result_file, weighted_accuracy=0.99)
    backend = LengthBackend()
    again = run_units(backend, run, scored_units(), Scoring(), summarize_mmlu)
    assert again["weighted_accuracy"] == first["weighted_accuracy"] == 0.6 and backend.scored == []
    assert first["macro_accuracy"] == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert json.loads(run.result_file.read_text())["weighted_accuracy"] == 0.6
    assert (f"note: {run.result_file}: not served (weighted_accuracy: 0.99 on disk, 0.6 from the records): "
            "recomputed from its records") in capsys.readouterr().out
    edit_json(run.result_file, schema_version=3)
    assert run_units(LengthBackend(), run, scored_units(), Scoring(), summarize_mmlu)["schema_version"] == 2
    assert "not served (schema version 3 is unknown; this crossknow reads schema 1 and 2" in capsys.readouterr().out
    edit_json(run.result_file, schema_version=1)  # a result of schema 1 is still read and served, as it is
    backend = LengthBackend()
    assert run_units(backend, run, scored_units(), Scoring(), summarize_mmlu)["schema_version"] == 1
    assert backend.scored == []


@pytest.mark.parametrize(("fields", "note"), [
    ({"weighted_accuracy": 0.99}, "not its records' own result (weighted_accuracy: 0.99 on disk, "),
    ({"subject_n": {"management": 3, "virology": 3}}, "(subject_n.virology: 3 on disk, 2 from the records)"),
    ({"schema_version": 3}, "schema version 3 is unknown; this crossknow reads schema 1 and 2"),
    ({"schema_version": "1"}, "schema_version '1' is not an integer; this crossknow reads schema 1 and 2"),
    ({}, "(its records {prefix}/en/virology.jsonl are missing)"),
    ({"config": {"name": "en"}}, "an incomplete mmlu result: no config.test_variant"),
])
def test_the_report_refuses_a_result_it_cannot_verify_and_names_why(tmp_path, capsys, fields, note):
    from crossknow.analysis.report import main

    prefix, run, _ = mmlu_folder(tmp_path)
    mmlu_folder(tmp_path, "full_fr", "full_fr")
    edit_json(run.result_file, **fields)
    if not fields:  # one unit's records lost
        (run.records_dir / "virology.jsonl").unlink()
    main([str(tmp_path / "results")])
    out = capsys.readouterr().out
    assert f"Note: {run.result_file}: " in out and note.format(prefix=prefix) in out
    assert "English:" not in out and "full     60.0\n" in out  # the other result is still tabulated, without a gap


def test_two_results_for_one_configuration_or_of_two_models_are_reported_never_merged(tmp_path, capsys):
    from crossknow.analysis.report import load_results, main

    prefix, run, _ = mmlu_folder(tmp_path)
    mmlu_folder(tmp_path, "full_fr", "full_fr")
    shutil.copyfile(run.result_file, prefix / "result_en_copy.json")
    main([str(tmp_path / "results")])
    out = capsys.readouterr().out
    assert f"Note: {prefix}: result_en.json, result_en_copy.json: 2 results for one configuration (en): none " \
           "tabulated; remove all but one" in out
    assert "English:" not in out and "full     60.0\n" in out
    (prefix / "result_en_copy.json").unlink()
    data = json.loads((prefix / "result_full_fr.json").read_text())
    data["config"]["model"]["tag"] = "Other-Model"
    (prefix / "result_full_fr.json").write_text(json.dumps(data))
    assert load_results(prefix) == {}
    assert (f"{prefix}: mmlu results of different models (SmolLM2-135M-Instruct: result_en.json; Other-Model: "
            "result_full_fr.json): not tabulated") in capsys.readouterr().err


# 21.2 non-finite scores stop the run with one line; no record holds NaN

class NaNBackend:
    """Letter scores and log-likelihoods that overflow (NaN, inf) from the second question on."""

    name = "hf"

    def __init__(self, bad=float("nan")):
        from crossknow.models.model_api import LETTER_SCORES, LOGLIKELIHOOD

        self.capabilities = frozenset({LETTER_SCORES, LOGLIKELIHOOD})
        self.bad = bad

    def describe(self):
        return {"backend": self.name, "dtype": "float16"}

    def answer_token_ids(self, labels):
        return {"paper": [1, 2, 3, 4], "space": [5, 6, 7, 8]}

    def score_letters(self, prompts, labels, desc=""):
        from crossknow.models.model_api import LetterScores

        return [LetterScores({"paper": [0.25] * 4 if i == 0 else [self.bad] * 4, "space": [0.25] * 4})
                for i, _ in enumerate(prompts)]

    def loglikelihood(self, texts, desc=""):
        return [-1.0 if i < 4 else self.bad for i in range(len(texts))]


@pytest.mark.parametrize(("infer_mode", "bad"), [("logits", float("nan")), ("loglikelihood", float("-inf"))])
def test_non_finite_scores_stop_the_run_naming_configuration_question_and_dtype(tmp_path, infer_mode, bad):
    from crossknow.core.model_spec import ModelSpec
    from crossknow.evaluate import summarize_mmlu
    from crossknow.runner import NonFiniteScores, Run, Scoring, run_units

    run = Run("mmlu", ModelSpec.parse("smollm2"), {"name": "full_fr"}, "demo", tmp_path / "result_full_fr.json",
              tmp_path / "full_fr", unit_field="subject")
    message = (rf"^result_full_fr.json \(subject management\): question 1: the model returned non-finite scores "
               rf"\({bad}\) in dtype float16; nothing of this unit was written. fp16 overflows on some models: "
               r"run with --dtype bf16 or --dtype fp32$")
    with pytest.raises(NonFiniteScores, match=message):
        run_units(NaNBackend(bad), run, scored_units(), Scoring(infer_mode=infer_mode), summarize_mmlu)
    assert not (tmp_path / "full_fr" / "management.jsonl").exists() and not run.result_file.exists()


def test_records_with_nan_are_never_written_as_invalid_json(tmp_path):
    from crossknow.core.io import atomic_write_jsonl

    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        atomic_write_jsonl(tmp_path / "x.jsonl", [{"probs": {"A": float("nan")}}])
    assert not (tmp_path / "x.jsonl").exists()


# 21.3 prompts beyond the model's context are refused before anything of the run is scored

class ShortContextBackend:
    """The stand-in backend (letters from len(prompt) % 4) with a context of 12 tokens, one a character."""

    def __init__(self):
        from test_runner import LengthBackend

        self.inner = LengthBackend()
        self.name, self.capabilities = self.inner.name, self.inner.capabilities

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def context_length(self):
        return 12

    def count_tokens(self, texts):
        return [len(t) for t in texts]


def test_prompts_longer_than_the_context_are_refused_before_scoring(tmp_path):
    from crossknow.core.model_spec import ModelSpec
    from crossknow.evaluate import summarize_mmlu
    from crossknow.runner import ContextError, Run, Scoring, run_units

    # prompt lengths ("head\n\n" + "q{i}?" + i x + "\nAnswer:"): management 17, 18, 19; virology 17, 18
    run = Run("mmlu", ModelSpec.parse("smollm2"), {"name": "en"}, "demo", tmp_path / "result_en.json",
              tmp_path / "en", unit_field="subject")
    backend = ShortContextBackend()
    with pytest.raises(ContextError, match=r"^result_en.json: 5 of 5 prompts are longer than the model's context "
                                           r"of 12 tokens \(the first: subject management question 0, 17 tokens\); "
                                           r"nothing was scored"):
        run_units(backend, run, scored_units(), Scoring(), summarize_mmlu)
    assert backend.inner.scored == [] and not (tmp_path / "en").exists()  # not even a fingerprint
    backend.context_length = lambda: 18
    with pytest.raises(ContextError, match=r"1 of 5 prompts .* \(the first: subject management question 2, 19 tokens\)"):
        run_units(backend, run, scored_units(), Scoring(), summarize_mmlu)
    with pytest.raises(ContextError, match=r"5 of 5 prompts .* \(the first: subject management question 0, 49 tokens\)"):
        run_units(backend, run, scored_units(), Scoring(infer_mode="generation"), summarize_mmlu)


def test_the_hf_backend_reports_its_context_and_counts_tokens_as_the_model_sees_them(bpe_model_dir):
    from crossknow.core.model_spec import ModelSpec
    from crossknow.models.hf_backend import HFBackend, load_model

    backend = HFBackend(*load_model(ModelSpec.parse(str(bpe_model_dir)), dtype="fp32", device="cpu"), show_progress=False)
    assert backend.context_length() == 4096
    text = "Answer: A B C D"
    assert backend.count_tokens([text, ""]) == [len(backend.tokenizer(text).input_ids),
                                                len(backend.tokenizer("").input_ids)]


def test_truncate_demos_drops_demonstrations_until_each_prompt_fits_and_records_how_many(tmp_path):
    from crossknow.core.io import read_jsonl
    from crossknow.core.model_spec import ModelSpec
    from crossknow.data.mmlu import LocalSource
    from crossknow.evaluate import Settings, load_config_data, make_config, run_config
    from crossknow.runner import ContextError, Scoring

    # The three 2-shot prompts are 630, 627 and 625 characters; with one demonstration 489, 486, 484;
    # with none 235, 232, 230. A context of 488 "tokens" (one a character) keeps 0, 1 and 1 of them.
    source, config = LocalSource(DEMO_DATA), make_config("en")
    backend = ShortContextBackend()
    backend.context_length = lambda: 488
    for truncate, out in ((False, tmp_path / "refused"), (True, tmp_path / "kept")):
        settings = Settings(k=2, limit=3, subjects=["management"], truncate_demos=truncate)
        data = load_config_data(source, config, settings)
        if not truncate:
            with pytest.raises(ContextError, match=r"3 of 3 prompts are longer than the model's context of 488 "
                                                   r"tokens \(the first: subject management question 0, 630 tokens\)"):
                run_config(backend, source, config, data, settings, Scoring(), ModelSpec.parse("smollm2"), out)
            continue
        result = run_config(backend, source, config, data, settings, Scoring(), ModelSpec.parse("smollm2"), out)
    records = read_jsonl(tmp_path / "kept" / "en" / "management.jsonl")
    assert [r["dropped_demos"] for r in records] == [2, 1, 1]
    assert [len(r["prompt"]) for r in records] == [235, 486, 484]
    assert result["n"] == 3 and result["dropped_demos"] == {"questions": 3, "demonstrations": 4}
    assert result["config"]["truncate_demos"] is True
    from crossknow.core.results import validate_result

    validate_result(result)


def test_truncate_demos_measures_and_keeps_the_chat_template(tmp_path):
    """With --apply_chat_template too, the fit is measured on the templated prompt, and the prompt scored is it."""
    from crossknow.core.io import read_jsonl
    from crossknow.core.model_spec import ModelSpec
    from crossknow.data.mmlu import LocalSource
    from crossknow.evaluate import Settings, load_config_data, make_config, run_config
    from crossknow.models.chat import ChatFormat
    from crossknow.runner import Scoring

    class Tokenizer:
        def apply_chat_template(self, messages, tokenize, add_generation_prompt):
            return f"<user>{messages[0]['content']}</user><assistant>"

    chat = ChatFormat(Tokenizer(), "stub template", drop_bos="")  # adds 24 characters
    source, config = LocalSource(DEMO_DATA), make_config("en")
    backend = ShortContextBackend()
    backend.context_length = lambda: 488  # one demonstration: 489, 486, 484 characters, +24 templated
    settings = Settings(k=2, limit=3, subjects=["management"], truncate_demos=True, chat=chat)
    data = load_config_data(source, config, settings)
    result = run_config(backend, source, config, data, settings, Scoring(), ModelSpec.parse("smollm2"), tmp_path)
    records = read_jsonl(tmp_path / "en" / "management.jsonl")
    assert [r["dropped_demos"] for r in records] == [2, 2, 2]
    assert [len(r["prompt"]) for r in records] == [235 + 24, 232 + 24, 230 + 24]
    assert all(r["prompt"].startswith("<user>The following are") and r["prompt"].endswith("</user><assistant>")
               for r in records)
    assert result["config"]["apply_chat_template"] is True and result["config"]["truncate_demos"] is True


def test_a_result_that_breaks_the_schema_is_refused_when_written_and_its_records_are_kept(tmp_path):
    """The runner writes its result through write_result: a number outside the schema is refused
    in one line naming the file and the field, no result is written, and a rerun with the task's
    summary fixed resumes from the records (nothing is scored again)."""
    from test_runner import LengthBackend

    from crossknow.core.model_spec import ModelSpec
    from crossknow.core.results import ResultValidationError
    from crossknow.evaluate import Settings, config_fields, make_config, summarize_mmlu
    from crossknow.runner import Run, Scoring, run_units

    prefix = tmp_path / "model_0shot"
    run = Run("mmlu", ModelSpec.parse("smollm2"), config_fields(make_config("", name="en"), Settings()), "demo",
              prefix / "result_en.json", prefix / "en", unit_field="subject")

    def broken(records_by_unit):
        return {**summarize_mmlu(records_by_unit), "weighted_accuracy": 1.5}

    with pytest.raises(ResultValidationError) as refused:
        run_units(LengthBackend(), run, scored_units(), Scoring(), broken)
    assert str(refused.value) == f"{run.result_file}: weighted_accuracy: 1.5 is greater than the maximum of 1"
    assert not run.result_file.exists() and sorted(p.name for p in run.records_dir.glob("*.jsonl"))
    backend = LengthBackend()
    assert run_units(backend, run, scored_units(), Scoring(), summarize_mmlu)["weighted_accuracy"] == 0.6
    assert backend.scored == []
