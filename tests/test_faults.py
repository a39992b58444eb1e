"""Fault tests (issue 14): bad labels, failed translations, bad arguments, empty inputs and the
one-line errors. Each test fed the code before the reliability work a case that it got wrong."""

import json
import os
import re
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import DEMO_DATA, ROOT, load_script
from crossknow.core import cli
from crossknow.core.errors import CrossknowError
from crossknow.core.io import read_jsonl
from crossknow.data.hp import load_quiz, parse_rows
from crossknow.data.mmlu import (
    DataError,
    LocalSource,
    MixupHubFallback,
    _item_from_hub_row,
    parse_mmlu_csv,
    read_mmlu_csv,
)
from crossknow.models.translation import AnyPair, RetryBudget, TranslationCache, translate
from crossknow.runner import ResumeError

HF_HEADER = "question,choice0,choice1,choice2,choice3,answer\n"
QUIZ_ROW = {"question": "Q", "A": "a", "B": "b", "C": "c", "D": "d", "GT": "B"}

mmlu_translate = load_script("MMLU/translate.py")
flores_translate = load_script("Translation/translate.py")
flores_evaluate = load_script("Translation/evaluate.py")


def run_script(script: str, *args: str, debug: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "CROSSKNOW_DEBUG": "1" if debug else ""}
    return subprocess.run([sys.executable, str(ROOT / script), *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


# 14.1 labels: exactly one of the label set, everywhere

@pytest.mark.parametrize("answer", ["BC", "CD", "", "AB"])
def test_an_answer_that_is_not_exactly_one_label_is_refused_by_every_reader(tmp_path, answer):
    with pytest.raises(DataError, match=rf"h.csv: row 1: answer '{answer}' is not in A-D"):
        parse_mmlu_csv(f"What?,a,b,c,d,{answer}\n", "h.csv")
    row = {"question": "What?", "A": "a", "B": "b", "C": "c", "D": "d", "answer": answer}
    with pytest.raises(DataError, match=rf"hub:x/f.csv: row 2: answer '{answer}' is not in 0-3"):
        _item_from_hub_row(row, "hub:x/f.csv", 0)
    with pytest.raises(DataError, match=rf"quiz.csv: row 1: GT '{answer}' is not one of A, B, C, D"):
        parse_rows([{**QUIZ_ROW, "GT": answer}], "quiz.csv")
    with pytest.raises(DataError, match=rf"mmlu_FR.csv: management row 1: Answer '{answer}' is not one of A-D"):
        mmlu_translate._letter(answer, "mmlu_FR.csv", "management", 0)


def test_a_bom_is_no_part_of_the_header_and_an_unknown_header_says_so(tmp_path):
    path = tmp_path / "management_test.csv"
    path.write_bytes(("\ufeff" + HF_HEADER + "What?,a,b,c,d,2\n").encode())
    assert [i.answer for i in read_mmlu_csv(path)] == [2]
    path.write_text("question,A,B,C,D,label\nWhat?,a,b,c,d,2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"management_test.csv: row 1: unknown header 'question,A,B,C,D,label'; "
                                        r"expected question,choice0,choice1,choice2,choice3,answer"):
        read_mmlu_csv(path)
    quiz = tmp_path / "quiz"
    quiz.mkdir()
    (quiz / "English.csv").write_bytes(("\ufeffquestion,A,B,C,D,GT\nQ,a,b,c,d,C\n").encode())
    assert load_quiz(quiz, ["en"])["en"][0].item.answer == 2


# 14.6 translation failures travel

class Flaky(AnyPair):
    """Upper-cases; fails on texts holding 'BAD' (always) or 'ONCE' (the first time only: translators
    given the same ``seen`` set share that memory, as a service that recovers)."""

    name, model = "flaky", "v1"

    def __init__(self, seen: set | None = None):
        self.batches, self.seen = [], seen if seen is not None else set()

    def translate_batch(self, texts, src, tgt):
        self.batches.append(list(texts))
        for t in texts:
            if "BAD" in t or ("ONCE" in t and t not in self.seen):
                self.seen.add(t)
                raise ValueError(f"rejected: {t}")
        return [t.upper() for t in texts]


def test_one_bad_string_fails_alone():
    texts = ["a", "b", "BAD c", "d", "e", "f", "g", "h"]
    results = translate(Flaky(), texts, "en", "fr", batch_size=8, max_retries=1, retry_wait=0)
    assert [r.ok for r in results] == [True, True, False, True, True, True, True, True]
    assert results[0].text == "A" and "rejected: BAD c" in results[2].error


def test_retry_time_is_bounded_over_the_whole_run():
    class Down(AnyPair):
        name, model = "down", "v1"
        calls = 0

        def translate_batch(self, texts, src, tgt):
            Down.calls += 1
            time.sleep(0.05)
            raise ConnectionRefusedError("port closed")

    started = time.monotonic()
    budget = RetryBudget(0.3)
    results = [translate(Down(), [f"t{i}" for i in range(40)], "en", "fr", batch_size=4, retry_wait=0.1,
                         budget=budget) for _ in range(3)]
    assert time.monotonic() - started < 1.5
    assert Down.calls <= 8
    flat = [r for batch in results for r in batch]
    assert not any(r.ok for r in flat)
    assert flat[-1].error.startswith("not tried: 0.3 s of failures and retries spent (last error: "
                                     "ConnectionRefusedError: port closed)")


def test_language_codes_are_checked_before_any_work(tmp_path, capsys):
    translator = Flaky()
    with pytest.raises(ValueError, match="unknown language code 'xx'"):
        translate(translator, ["a"], "en", "xx")
    assert translator.batches == []
    with pytest.raises(SystemExit) as exit_:
        flores_translate.main(["--languages", "xx", "--output_dir", str(tmp_path)])
    assert exit_.value.code == 2
    assert re.search(r"argument --languages(/--langs)?: unknown language code 'xx'", capsys.readouterr().err)


def test_cache_rows_carry_a_checksum_and_a_damaged_cache_names_its_file(tmp_path):
    path = tmp_path / "c.sqlite"
    translate(Flaky(), ["one", "two"], "en", "fr", TranslationCache(path))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE translations SET text='TWX' WHERE source='two'")
    with pytest.raises(CrossknowError, match=rf"{path}: the translation cache is damaged \(the row for 'two' "
                                             r"\(en->fr\) fails its checksum\); delete the file to rebuild it"):
        translate(Flaky(), ["one", "two"], "en", "fr", TranslationCache(path))
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CrossknowError, match=rf"{path}: the translation cache is damaged \(file is not a database\)"):
        TranslationCache(path)


@pytest.fixture
def flores(tmp_path, monkeypatch):
    data = tmp_path / "flores"
    data.mkdir()
    (data / "en.devtest").write_text("one\nONCE two\nthree\n", encoding="utf-8")
    (data / "fr.devtest").write_text("un\ndeux\ntrois\n", encoding="utf-8")
    made, seen = [], set()

    def make(*args, **kwargs):
        made.append(Flaky(seen))
        return made[-1]

    monkeypatch.setattr(flores_translate, "make_translator", make)
    return data, made


def flores_args(data, out, *extra):
    return ["--model", "flaky", "--languages", "fr", "--direction", "en2x", "--input_dir", str(data),
            "--output_dir", str(out), "--retry_seconds", "5", *extra]


def test_failed_lines_are_refused_by_the_scorer_then_retried_by_a_rerun(tmp_path, flores, monkeypatch):
    data, made = flores
    monkeypatch.setattr(flores_translate, "translate", lambda *a, **k: translate(*a, **{**k, "retry_wait": 0,
                                                                                       "max_retries": 0}))
    out = tmp_path / "out"
    settings = flores_translate.main(flores_args(data, out, "--batch_size", "1"))
    assert settings["failed"] == {"en-fr": [2]}
    assert (out / "flaky" / "test-en-fr").read_text() == "ONE\n\nTHREE\n"
    score = ["--outputs_dir", str(out / "flaky"), "--data_dir", str(data)]
    with pytest.raises(flores_evaluate.ScoringError, match=r"test-en-fr: 1 of 3 line\(s\) failed to translate "
                                                           r"\(lines \[2\]\); re-run Translation/translate.py"):
        flores_evaluate.main(score)
    flagged = flores_evaluate.main([*score, "--allow_failed"])[0]["directions"]["en-fr"]
    assert flagged["failed_lines"] == [2]
    assert json.loads((out / "flaky" / "scores.json").read_text())["directions"]["en-fr"]["failed_lines"] == [2]

    settings = flores_translate.main(flores_args(data, out))  # the rerun retries the failed line only
    assert made[-1].batches == [["ONCE two"]]
    assert settings["failed"] == {"en-fr": []}
    assert (out / "flaky" / "test-en-fr").read_text() == "ONE\nONCE TWO\nTHREE\n"
    assert flores_evaluate.main(score)[0]["directions"]["en-fr"]["failed_lines"] == []


def test_an_output_folder_refuses_another_models_lines(tmp_path, flores):
    data, made = flores
    out = tmp_path / "out"
    flores_translate.main(flores_args(data, out, "--system_name", "sys", "--num_beams", "1"))
    with pytest.raises(CrossknowError, match=r"sys/settings.json: written by another system \(model: 'flaky' on disk, 'other' now\)"):
        flores_translate.main([*flores_args(data, out, "--system_name", "sys"), "--model", "other",
                               "--languages", "fr", "--direction", "x2en"])
    with pytest.raises(CrossknowError, match=r"test-en-fr: 3 lines, but this run translates 2"):
        flores_translate.main(flores_args(data, out, "--system_name", "sys", "--num_examples", "2"))
    assert len(made) == 1


def test_mmlu_translate_leaves_the_english_files_alone_when_it_refuses(tmp_path, monkeypatch):
    monkeypatch.setattr(mmlu_translate, "make_translator", lambda kind, model=None: Flaky())
    out = tmp_path / "out"
    common = ["--data_dir", str(DEMO_DATA), "--out_dir", str(out), "--split", "test", "--subjects", "management",
              "--cache", str(tmp_path / "c.sqlite"), "--languages", "fr"]
    mmlu_translate.main([*common, "--limit", "3"])
    english = out / "test" / "management_test.csv"
    before = english.read_bytes()
    with pytest.raises(FileExistsError, match=r"management_test.csv exists with other content .* nothing was written"):
        mmlu_translate.main([*common, "--limit", "2"])
    assert english.read_bytes() == before
    assert len(read_mmlu_csv(out / "test_full_fr" / "management_test.csv")) == 3


# 14.7 arguments and empty inputs are refused at parse time, before any work

@pytest.mark.parametrize("script, args, message", [
    ("MMLU/eval.py", ["--limit", "0"], "argument --limit: must be at least 1, got 0"),
    ("MMLU/eval.py", ["--limit", "-1"], "argument --limit: must be at least 1, got -1"),
    ("MMLU/eval.py", ["-k", "-2"], "argument --ntrain/-k: must be 0 or more, got -2"),
    ("MMLU/eval.py", ["--batch_size", "0"], "argument --batch_size: must be at least 1, got 0"),
    ("HP/evaluate.py", ["--limit", "0"], "argument --limit: must be at least 1, got 0"),
    ("MMLU/translate.py", ["--batch_size", "0"], "argument --batch_size: must be at least 1, got 0"),
    ("MMLU/bench.py", ["-k", "-1"], "argument -k: must be 0 or more, got -1"),
    ("Translation/translate.py", ["--num_examples", "0"], "argument --limit: must be at least 1, got 0"),
    ("Translation/evaluate.py", ["--outputs_dir", ".", "--num_examples", "-3"],
     "argument --limit: must be at least 1, got -3"),
    ("Translation/embedding_analysis.py", ["--output_dir", ".", "--p", "1.5"],
     "argument --p: must be between 0 and 1, got 1.5"),
    ("FT/make_mixed_corpus.py", ["--out_dir", ".", "--unit_words", "0"],
     "argument --unit_words: must be at least 1, got 0"),
    ("Synthetic/experiment.py", ["--num_people", "0"], "argument --num_people: must be at least 1, got 0"),
])
def test_bad_arguments_are_refused_at_parse_time(script, args, message, capsys):
    main = load_script(script).main
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    flag, problem = message.split(": ", 1)
    assert re.search(rf"{flag}(/[-\w/]+)?: {re.escape(problem)}", capsys.readouterr().err)


def test_empty_inputs_are_errors(tmp_path):
    with pytest.raises(DataError, match="h.csv: a header but no questions"):
        parse_mmlu_csv(HF_HEADER, "h.csv")
    with pytest.raises(DataError, match="e.csv: the file is empty"):
        parse_mmlu_csv("", "e.csv")
    with pytest.raises(DataError, match="quiz.csv: no questions"):
        parse_rows([], "quiz.csv")
    corpus = tmp_path / "empty.txt"
    corpus.write_text("\n\n")
    with pytest.raises(CrossknowError, match="empty.txt: no text"):
        load_script("FT/make_mixed_corpus.py").main(["--input_files", str(corpus), "--languages", "en",
                                                     "--out_dir", str(tmp_path / "out")])
    flores = tmp_path / "flores"
    flores.mkdir()
    (flores / "en.devtest").write_text("")
    with pytest.raises(CrossknowError, match="en.devtest: line 1 is empty"):
        flores_translate.main(["--languages", "fr", "--direction", "en2x", "--input_dir", str(flores),
                               "--output_dir", str(tmp_path / "o")])


# 14.8 one-line errors

def test_a_data_error_is_one_line_naming_the_file_and_the_traceback_needs_debug(tmp_path):
    data = tmp_path / "data"
    (data / "test").mkdir(parents=True)
    bad = data / "test" / "management_test.csv"
    bad.write_bytes(b"What?,a,b,c,d,\xff\n")
    result = run_script("MMLU/eval.py", "--data_dir", str(data), "--configs", "en")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {bad}: not valid UTF-8 text (invalid start byte at byte 14); save the file as UTF-8"]
    debug = run_script("MMLU/eval.py", "--data_dir", str(data), "--configs", "en", debug=True)
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_a_missing_model_path_is_no_such_file_not_a_hub_lookup(tmp_path):
    missing = tmp_path / "no-model"
    result = run_script("HP/evaluate.py", "--model", str(missing))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith(f"argument --model/-m: {missing}: no such file or folder")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("error, line", [
    (OSError(28, "No space left on device", "/r/result.json"), "error: /r/result.json: no space left on device"),
    (FileNotFoundError(2, "No such file or directory", "x.csv"), "error: x.csv: no such file or folder"),
    (sqlite3.DatabaseError("database disk image is malformed"), "error: SQLite: database disk image is malformed"),
    (json.JSONDecodeError("Expecting value", "{", 1), "error: not valid JSON: Expecting value at line 1 column 2"),
    (DataError("f.csv: row 3: answer 'E' is not in A-D"), "error: f.csv: row 3: answer 'E' is not in A-D"),
    (ResumeError("r/en holds partial results made with other settings"),
     "error: r/en holds partial results made with other settings"),
])
def test_the_wrapper_prints_one_line_and_exits_non_zero(error, line, capsys, monkeypatch):
    monkeypatch.delenv(cli.DEBUG_VARIABLE, raising=False)

    def main():
        raise error

    with pytest.raises(SystemExit) as exit_:
        cli.run(main)
    assert exit_.value.code == 1
    assert capsys.readouterr().err.splitlines() == [line]


def test_a_truncated_jsonl_names_its_file_and_line(tmp_path):
    path = tmp_path / "management.jsonl"
    path.write_text('{"index": 0}\n{"index": 1, "pre')
    with pytest.raises(CrossknowError, match=r"management.jsonl: line 2: not valid JSON"):
        read_jsonl(path)


def test_the_mixup_hub_fallback_prints_a_notice(tmp_path, capsys):
    class Hub:
        name = "cross-ling-know/mixup-lang-mmlu"

        def load(self, subject, split, variant=""):
            return []

    source = MixupHubFallback(LocalSource(tmp_path), Hub())
    source.load("management", "test", "mixup")
    source.load("anatomy", "test", "mixup")
    assert capsys.readouterr().err.splitlines() == [
        f"note: {tmp_path / 'test_mixup'} not found: test mixup from the hub (cross-ling-know/mixup-lang-mmlu), "
        "the paper's released set"]


# 14.3 one writer per output folder

def test_a_second_writer_of_a_folder_is_refused_naming_the_holder(tmp_path, flores):
    from crossknow.core.io import folder_lock

    data, made = flores
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; sys.path.insert(0, sys.argv[1]); "
                               "from crossknow.core.io import folder_lock\n"
                               "with folder_lock(sys.argv[2]):\n print('held', flush=True); time.sleep(60)",
                               str(ROOT), str(out / "flaky")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(CrossknowError, match=rf"flaky: in use by process {holder.pid} on .* since .*; one "
                                                 "process writes a folder at a time"):
            flores_translate.main(flores_args(data, out))
        with pytest.raises(CrossknowError, match=rf"in use by process {holder.pid}"):
            mmlu_translate.main(["--data_dir", str(DEMO_DATA), "--out_dir", str(out / "flaky"), "--mode", "gt"])
        assert made == []
    finally:
        holder.kill()
        holder.wait()
    with folder_lock(out / "flaky"):  # a killed holder leaves no stale lock
        pass
    assert flores_translate.main(flores_args(data, out))["failed"] == {"en-fr": []}


def test_a_full_disk_names_the_file_it_could_not_write(tmp_path, monkeypatch, capsys):
    from crossknow.core import io

    def no_space(fd, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(io.os, "fsync", no_space)
    target = tmp_path / "result_en.json"
    monkeypatch.delenv(cli.DEBUG_VARIABLE, raising=False)
    with pytest.raises(SystemExit):
        cli.run(lambda: io.atomic_write_json(target, {"a": 1}))
    assert capsys.readouterr().err.splitlines() == [f"error: {target}: no space left on device"]
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


# 14.2-14.4 resume, writers, like with like (the runner)

class Letters:
    """A deterministic stand-in keeping the backend contract: the letter follows the prompt's
    length; ``die_after`` units scored, it is killed."""

    name = "hf"

    def __init__(self, die_after: int | None = None):
        from crossknow.models.model_api import LETTER_SCORES

        self.capabilities = frozenset({LETTER_SCORES})
        self.scored, self.die_after = [], die_after

    def describe(self):
        return {"backend": "hf", "dtype": "float32"}

    def answer_token_ids(self, labels):
        return {"paper": [1, 2, 3, 4], "space": [5, 6, 7, 8]}

    def score_letters(self, prompts, labels, desc=""):
        from crossknow.models.model_api import LetterScores

        if self.die_after is not None and len(self.scored) >= self.die_after:
            raise KeyboardInterrupt
        self.scored.append(desc)
        probs = [[0.7 if i == len(p.text) % 4 else 0.1 for i in range(4)] for p in prompts]
        return [LetterScores({"paper": p, "space": p[::-1]}, reused_prefix_tokens=0) for p in probs]


def quiz_units(n_items=4):
    from crossknow.core.prompt import Prompt
    from crossknow.data.mmlu import Item
    from crossknow.runner import Unit

    out = []
    for u in range(3):
        items = [Item(f"q{u}-{i}?" + "x" * i, ("a", "b", "c", "d"), (u + i) % 4) for i in range(n_items)]
        out.append(Unit(f"unit{u}", items, [Prompt("head\n\n", it.question + "\nAnswer:") for it in items]))
    return out


def accuracy(records_by_unit):
    correct = [r["correct"] for recs in records_by_unit.values() for r in recs]
    return {"n": len(correct), "accuracy": sum(correct) / len(correct), "ci95": [0.0, 1.0],
            "category": {}, "category_n": {}}


def quiz_run(tmp_path, data="quiz-a"):
    from crossknow.core.model_spec import ModelSpec
    from crossknow.runner import Run

    return Run("hp", ModelSpec.parse("smollm2"), {"language": "fr", "variant": "none", "limit": None}, data,
               tmp_path / "result_fr.json", tmp_path / "fr", unit_field="language")


def test_resume_refuses_another_data_folder_and_rescores_an_incomplete_unit(tmp_path):
    from crossknow.runner import ResumeError, Scoring, run_units

    reference = run_units(Letters(), quiz_run(tmp_path), quiz_units(), Scoring(), accuracy)
    with pytest.raises(ResumeError, match=r"data_source: 'quiz-a' on disk, 'quiz-b' now"):
        run_units(Letters(), quiz_run(tmp_path, "quiz-b"), quiz_units(), Scoring(), accuracy)
    (tmp_path / "result_fr.json").unlink()  # as if killed before the result was written
    unit1 = tmp_path / "fr" / "unit1.jsonl"
    unit1.write_text("".join(unit1.read_text().splitlines(keepends=True)[:-1]))  # its last line lost
    backend = Letters()
    resumed = run_units(backend, quiz_run(tmp_path), quiz_units(), Scoring(), accuracy)
    assert backend.scored == ["unit1"]
    assert {k: v for k, v in resumed.items() if k != "environment"} == \
        {k: v for k, v in reference.items() if k != "environment"}


def test_a_killed_overwrite_leaves_the_old_result_and_a_finished_one_replaces_it(tmp_path):
    from crossknow.runner import Scoring, run_units

    old = run_units(Letters(), quiz_run(tmp_path), quiz_units(), Scoring(), accuracy)
    old_text = (tmp_path / "result_fr.json").read_text()
    new_scoring = Scoring(answer_token="space")
    with pytest.raises(KeyboardInterrupt):
        run_units(Letters(die_after=1), quiz_run(tmp_path), quiz_units(), new_scoring, accuracy, overwrite=True)
    assert (tmp_path / "result_fr.json").read_text() == old_text
    assert run_units(Letters(), quiz_run(tmp_path), quiz_units(), Scoring(), accuracy) == old  # still served
    backend = Letters()
    new = run_units(backend, quiz_run(tmp_path), quiz_units(), new_scoring, accuracy, overwrite=True)
    assert backend.scored == ["unit1", "unit2"]  # the killed overwrite's first unit is kept
    assert new["config"]["answer_token"] == "space" and json.loads((tmp_path / "result_fr.json").read_text()) == new
    assert sorted(p.name for p in tmp_path.iterdir()) == [".crossknow.lock", "fr", "result_fr.json"]


def test_a_result_beside_records_of_other_settings_is_never_served(tmp_path):
    """A kill between the two renames of the swap: new records, the old result."""
    from crossknow.runner import Scoring, run_units

    old_dir = tmp_path / "old"
    run_units(Letters(), quiz_run(old_dir), quiz_units(), Scoring(), accuracy)
    new = run_units(Letters(), quiz_run(tmp_path), quiz_units(), Scoring(answer_token="space"), accuracy)
    (tmp_path / "result_fr.json").write_text((old_dir / "result_fr.json").read_text())
    assert run_units(Letters(), quiz_run(tmp_path), quiz_units(), Scoring(answer_token="space"), accuracy)[
        "accuracy"] == new["accuracy"]
    assert json.loads((tmp_path / "result_fr.json").read_text())["config"]["answer_token"] == "space"


def test_the_runner_refuses_a_second_writer_of_a_results_folder(tmp_path):
    from crossknow.runner import Scoring, run_units

    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; sys.path.insert(0, sys.argv[1]); "
                               "from crossknow.core.io import folder_lock\n"
                               "with folder_lock(sys.argv[2]):\n print('held', flush=True); time.sleep(60)",
                               str(ROOT), str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(CrossknowError, match=rf"{tmp_path}: in use by process {holder.pid}"):
            run_units(Letters(), quiz_run(tmp_path), quiz_units(), Scoring(), accuracy)
    finally:
        holder.kill()
        holder.wait()
    assert not (tmp_path / "fr").exists()


def test_gaps_only_between_results_on_the_same_questions():
    from crossknow.analysis.report import format_hp_table, format_table

    def mmlu(name, variant, acc, subject_n):
        config = {"name": name, "test_variant": variant, "dev_variant": variant, "test_mode": variant[:4],
                  "test_language": variant[-2:] if variant else "", "shots": 0, "infer_mode": "logits"}
        return {"task": "mmlu", "config": config, "weighted_accuracy": acc, "n": sum(subject_n.values()),
                "subject_n": subject_n}

    table = format_table({"en": mmlu("en", "", 0.5, {"anatomy": 20}), "full_fr": mmlu("full_fr", "full_fr", 0.4,
                                                                                      {"anatomy": 2}),
                          "full_de": mmlu("full_de", "full_de", 0.3, {"anatomy": 20})}, show_n=False)
    assert table.splitlines()[2].split() == ["full", "30.0", "(-20.0)", "40.0", "[n=2]"]

    def hp(lang, acc, n):
        return {"task": "hp", "config": {"language": lang, "data": {"source": "quiz"}}, "accuracy": acc, "n": n}

    rows = format_hp_table([hp("en", 0.5, 20), hp("fr", 0.25, 2), hp("de", 0.25, 20)]).splitlines()
    assert rows[2].split() == ["fr", "25.0", "[n=2]", "2"] and rows[3].split() == ["de", "25.0", "(-25.0)", "20"]
    hp_evaluate = load_script("HP/evaluate.py")
    summary = hp_evaluate.format_summary({"fr": hp("fr", 0.25, 2)}, hp("en", 0.5, 20)).splitlines()
    assert summary[1].split() == ["fr", "25.0", "other", "n", "(20)", "2"]


def test_the_hp_summary_keeps_the_languages_of_earlier_runs(tmp_path):
    hp_evaluate = load_script("HP/evaluate.py")
    path = tmp_path / "summary.json"

    def result(lang, accuracy):
        return {"accuracy": accuracy, "n": 4, "config": {"language": lang}}

    unpaired = {"paired": None, "not_paired": "no English result with records to pair with"}
    hp_evaluate.merge_summary(path, {"en": result("en", 0.5), "fr": result("fr", 0.25)})
    hp_evaluate.merge_summary(path, {"de": result("de", 0.75), "fr": result("fr", 0.5)})
    assert json.loads(path.read_text()) == {"en": {"accuracy": 0.5, "n": 4}, "fr": {"accuracy": 0.5, "n": 4, **unpaired},
                                            "de": {"accuracy": 0.75, "n": 4, **unpaired}}
    path.write_text('{"en": 0.5, "it": 0.25}')  # a summary written before n and pairing: accuracy kept
    hp_evaluate.merge_summary(path, {"de": result("de", 0.75)})
    assert json.loads(path.read_text()) == {"en": {"accuracy": 0.5}, "it": {"accuracy": 0.25},
                                            "de": {"accuracy": 0.75, "n": 4, **unpaired}}


class Killed(Flaky):
    """Upper-cases, and is killed (KeyboardInterrupt) at its ``die_at``-th batch."""

    def __init__(self, die_at: int | None = None, model: str = "v1"):
        super().__init__()
        self.die_at, self.model = die_at, model

    def translate_batch(self, texts, src, tgt):
        if self.die_at is not None and len(self.batches) == self.die_at:
            raise KeyboardInterrupt
        return super().translate_batch(texts, src, tgt)


def test_a_killed_translation_resumes_from_its_journal_without_a_cache(tmp_path, monkeypatch):
    """The lines finished before a kill are not translated again; the direction ends as an
    uninterrupted run's, and its journal is removed; a journal of another model is refused."""
    data = tmp_path / "flores"
    data.mkdir()
    (data / "en.devtest").write_text("".join(f"line {i}\n" for i in range(7)), encoding="utf-8")
    translators = []

    def run(out, die_at=None, model="flaky"):
        monkeypatch.setattr(flores_translate, "make_translator",
                            lambda *a, **k: translators.append(Killed(die_at)) or translators[-1])
        args = ["--model", model, "--languages", "fr", "--direction", "en2x", "--input_dir", str(data),
                "--output_dir", str(out), "--system_name", "sys", "--batch_size", "2"]
        return flores_translate.main(args)

    run(tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "killed", die_at=2)
    partial = tmp_path / "killed" / "sys" / ".partial-test-en-fr"
    assert [r["source"] for r in read_jsonl(partial / "records.jsonl")] == ["line 0", "line 1", "line 2", "line 3"]
    with pytest.raises(CrossknowError, match=r".partial-test-en-fr/settings.json: made with other settings "
                                             r"\(model: 'flaky' on disk, 'other' now\)"):
        run(tmp_path / "killed", model="other")
    run(tmp_path / "killed")
    assert translators[-1].batches == [["line 4", "line 5"], ["line 6"]]
    assert (tmp_path / "killed" / "sys" / "test-en-fr").read_text() == \
        (tmp_path / "whole" / "sys" / "test-en-fr").read_text() == "".join(f"LINE {i}\n" for i in range(7))
    assert not partial.exists()
