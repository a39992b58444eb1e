"""Harry Potter quiz: golden prompts, loading and validation, variants, evaluation, WikiText-103 split."""

import json
import shutil

import pytest

from conftest import ROOT, load_script
from crossknow.core.io import read_jsonl
from crossknow.core.results import validate_result
from crossknow.data.hp import QUIZ_LANGUAGES, hp_prompt, load_quiz, variant_prompts
from crossknow.data.mmlu import DataError, Item
from crossknow.models import hf_backend

DEMO_QUIZ = ROOT / "HP" / "data" / "demo-quiz"


def load(name):
    return load_script(f"HP/{name}.py")


ITEM = Item("Q?", ("a", "b", "c", "d"), 2)


@pytest.mark.parametrize("lang,instruction", [
    ("en", "The following are multiple choice questions (with answers) about Harry Potter."),
    ("de", "Im Folgenden finden Sie Multiple-Choice-Fragen (mit Antworten) zu Harry Potter."),
    ("es", "Las siguientes son preguntas de opción múltiple (con respuestas) sobre Harry Potter."),
    ("fr", "Vous trouverez ci-dessous des questions à choix multiples (avec réponses) sur Harry Potter."),
    ("it", "Di seguito sono riportate domande a scelta multipla (con risposte) su Harry Potter."),
])
def test_golden_prompts(lang, instruction):
    assert hp_prompt(ITEM, lang).text == f"{instruction}\n\nQ?\nA. a\nB. b\nC. c\nD. d\nAnswer: "


def test_demo_quiz_loads_aligned_in_five_languages():
    quiz = load_quiz(DEMO_QUIZ, QUIZ_LANGUAGES)
    assert {lang: len(rows) for lang, rows in quiz.items()} == dict.fromkeys(QUIZ_LANGUAGES, 30)
    categories = [q.category for q in quiz["en"]]
    assert categories.count("characters") == 16 and categories.count("spells") == 14
    assert quiz["fr"][1].item.choices[3] == "Severus Rogue" and quiz["it"][1].item.choices[3] == "Severus Piton"


def write_quiz(folder, rows_by_lang, fmt="csv"):
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    names = {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian"}
    for lang, rows in rows_by_lang.items():
        frame = pd.DataFrame(rows)
        if fmt == "csv":
            frame.to_csv(folder / f"{names[lang]}.csv", index=False)
        elif fmt == "jsonl":
            frame.to_json(folder / f"{lang}.jsonl", orient="records", lines=True, force_ascii=False)
        else:
            frame.to_parquet(folder / f"{names[lang]}.parquet")


ROW = {"question": "Q", "A": "a", "B": "b", "C": "c", "D": "d", "GT": "B"}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_local_formats(tmp_path, fmt):
    write_quiz(tmp_path, {"en": [ROW, {**ROW, "GT": "D"}], "fr": [{**ROW, "question": "Q fr"}, {**ROW, "GT": "D"}]}, fmt)
    quiz = load_quiz(tmp_path, ["en", "fr"])
    assert quiz["fr"][0].item == Item("Q fr", ("a", "b", "c", "d"), 1)
    assert quiz["en"][1].item.answer == 3 and quiz["en"][0].category is None


def test_validation_errors_name_the_problem(tmp_path):
    write_quiz(tmp_path / "a", {"en": [ROW, ROW], "fr": [ROW]})
    with pytest.raises(DataError, match="not aligned: English has 2 rows, French has 1"):
        load_quiz(tmp_path / "a", ["en", "fr"])
    write_quiz(tmp_path / "b", {"en": [ROW, ROW], "de": [ROW, {**ROW, "GT": "C"}]})
    with pytest.raises(DataError, match="not aligned at row 2: GT B in English, C in German"):
        load_quiz(tmp_path / "b", ["en", "de"])
    write_quiz(tmp_path / "c", {"en": [{k: v for k, v in ROW.items() if k != "C"}]})
    with pytest.raises(DataError, match=r"English.csv: row 1: missing column\(s\) C"):
        load_quiz(tmp_path / "c", ["en"])
    write_quiz(tmp_path / "d", {"en": [{**ROW, "GT": "E"}]})
    with pytest.raises(DataError, match="English.csv: row 1: GT 'E' is not one of A, B, C, D"):
        load_quiz(tmp_path / "d", ["en"])
    with pytest.raises(DataError, match="no file for Italian"):
        load_quiz(tmp_path / "d", ["it"])


def test_variants_are_built_from_the_parallel_splits():
    quiz = load_quiz(DEMO_QUIZ, QUIZ_LANGUAGES)
    en, fr = quiz["en"][1].item, quiz["fr"][1].item
    items, prompts = variant_prompts(quiz, "question", "fr")
    assert items[1] == Item(fr.question, en.choices, en.answer)
    assert prompts[1].prefix.startswith("Vous trouverez ci-dessous")
    items, prompts = variant_prompts(quiz, "options", "fr")
    assert items[1] == Item(en.question, fr.choices, en.answer) and prompts[1].prefix.startswith("The following")
    items, _ = variant_prompts(quiz, "gt", "it")
    it = quiz["it"][1].item
    assert items[1].choices == en.choices[:3] + (it.choices[3],)
    items, prompts = variant_prompts(quiz, "mixup", "en", seed=0)
    questions = {lang: [q.item.question for q in quiz[lang]] for lang in QUIZ_LANGUAGES}
    for i, (item, prompt) in enumerate(zip(items, prompts)):
        lang = next(lang for lang in QUIZ_LANGUAGES if questions[lang][i] == item.question)
        assert prompt.prefix == hp_prompt(item, lang).prefix
        assert item.answer == quiz["en"][i].item.answer


def test_evaluation_end_to_end_resume_and_table(bpe_model_dir, tmp_path, monkeypatch, capsys):
    hp = load("evaluate")
    args = ["--model_name", str(bpe_model_dir), "--save_dir", str(tmp_path), "--batch_size", "4", "--langs", "all"]
    results = hp.main(args)
    assert list(results) == QUIZ_LANGUAGES
    out_dir = tmp_path / bpe_model_dir.name / "none"
    fr = json.loads((out_dir / "result_fr.json").read_text())
    validate_result(fr)
    assert fr["task"] == "hp" and fr["records"] == "fr"
    assert fr["n"] == 30 and set(fr["category"]) == {"characters", "spells"} and fr["category_n"]["spells"] == 14
    assert fr["config"]["language"] == "fr" and fr["config"]["variant"] == "none"
    assert fr["config"]["backend"]["dtype"] == "float32" and fr["config"]["units"] == ["fr"]
    records = read_jsonl(out_dir / "fr" / "fr.jsonl")
    assert records[0]["language"] == "fr" and "subject" not in records[0]
    assert records[0]["category"] == "characters" and records[0]["index"] == 0
    assert [r["id"] for r in records[:2]] == ["hp/0", "hp/1"]
    assert records[0]["prompt"].startswith("Vous trouverez ci-dessous") and records[0]["prompt"].endswith("Answer: ")
    summary = json.loads((out_dir / "summary.json").read_text())
    assert {k: (v["accuracy"], v["n"]) for k, v in summary.items()} == {k: (v["accuracy"], 30) for k, v in results.items()}
    en_correct = [r["correct"] for r in read_jsonl(out_dir / "en" / "en.jsonl")]
    fr_correct = [r["correct"] for r in records] + [r["correct"] for r in read_jsonl(out_dir / "fr" / "fr.jsonl")][len(records):]
    assert summary["fr"]["paired"]["n"] == 30 and summary["fr"]["paired"]["paired_by"] == "id"
    assert summary["fr"]["paired"]["gap"] == pytest.approx((sum(en_correct) - sum(fr_correct)) / 30)
    table = capsys.readouterr().out
    assert "gap to en" in table and "not the paper's quiz" in table
    # the summary pairs French with English by quiz row: the same gap, with its paired interval
    fr_line = next(line for line in table.splitlines() if line.startswith("fr "))
    gap = f"{100 * (fr['accuracy'] - results['en']['accuracy']):+.1f}"
    assert fr_line.split()[:3] == ["fr", f"{100 * fr['accuracy']:.1f}", gap] and fr_line.split()[-1] == "30"
    assert fr_line.count("[") == 1

    monkeypatch.setattr(hf_backend.HFBackend, "score_letters", lambda *a, **k: pytest.fail("finished language rescored"))
    assert hp.main(args) == results

    from crossknow.analysis.report import main as report

    report([str(tmp_path)])
    table = capsys.readouterr().out
    assert "(HP quiz accuracy %, difference to English, the language minus English [paired 95% interval])" in table
    # paired by quiz row (hp/{row}): the difference to English with its paired interval
    assert f"fr        {100 * fr['accuracy']:.1f} ({100 * (fr['accuracy'] - results['en']['accuracy']):+.1f} [" in table


def test_paper_flags_and_mixup_variant(bpe_model_dir, tmp_path):
    hp = load("evaluate")
    results = hp.main(["--model_name", str(bpe_model_dir), "--save_dir", str(tmp_path), "--lang", "de", "--limit", "5"])
    assert list(results) == ["de"] and results["de"]["n"] == 5
    assert hp.parse_args(["--langs", "fr", "it"]).languages == ["fr", "it"]
    assert hp.parse_args(["--lang", "it"]).languages == ["it"] and hp.parse_args([]).languages == QUIZ_LANGUAGES
    assert hp.parse_args(["--output_dir", "x", "--num_examples", "3"]).output_dir == "x"
    assert hp.parse_args([]).output_dir == "results/hp"
    results = hp.main(["--model_name", str(bpe_model_dir), "--save_dir", str(tmp_path), "--variant", "mixup"])
    assert list(results) == ["mixup"] and results["mixup"]["n"] == 30


def test_bad_quiz_is_refused_before_the_model_loads(bpe_model_dir, tmp_path, monkeypatch):
    data = tmp_path / "quiz"
    shutil.copytree(DEMO_QUIZ, data)
    (data / "Spanish.csv").write_text((data / "Spanish.csv").read_text().rsplit("\n", 2)[0] + "\n")
    monkeypatch.setattr(hf_backend, "load_model", lambda *a, **k: pytest.fail("model loaded before validation"))
    with pytest.raises(DataError, match="English has 30 rows, Spanish has 29"):
        load("evaluate").main(["--model_name", str(bpe_model_dir), "--data", str(data)])


def test_wikitext_split_selects_the_indexed_documents(tmp_path):
    extract = load("extract_wiki103_hp")
    lines = [" = Doc 0 = ", "", " text zero ", " = Doc 1 = ", "  ", " text one ", " = Doc 2 = "]
    corpus = tmp_path / "wiki.train.raw"
    corpus.write_text("\n".join(lines) + "\n")
    index = tmp_path / "index.json"
    index.write_text(json.dumps({"HP-related-index": [3, 1]}))
    stats = extract.main(["--input", str(corpus), "--index", str(index), "--out_dir", str(tmp_path / "out"),
                          "--expected_documents", "5"])
    assert stats == {"input": str(corpus), "documents": 5, "hp_related": 2, "hp_unrelated": 3, "index": str(index)}
    assert (tmp_path / "out" / "hp_related.txt").read_text() == " text zero \n text one \n"
    assert (tmp_path / "out" / "hp_unrelated.txt").read_text() == " = Doc 0 = \n = Doc 1 = \n = Doc 2 = \n"
    with pytest.raises(extract.CorpusError, match="the corpus has 5 documents .* the index expects 1,165,029"):
        extract.main(["--input", str(corpus), "--out_dir", str(tmp_path / "x")])
    assert len(extract.load_index()) == 4358


def test_the_hp_summary_gives_each_language_its_paired_gap_computed_by_hand(tmp_path):
    """English right on rows 0, 1, 3, French on row 0 only: gap 0.75 - 0.25 = 0.5; the two discordant
    rows are both English-only, so a resample's gap is Binomial(4, 1/2) / 4, whose 2.5th and 97.5th
    percentiles are 0 and 1 (P(0) = P(4) = 1/16 > 2.5%); McNemar b = 2, c = 0: p = 2 * (1/2)^2 = 0.5."""
    from crossknow.analysis.paired import paired_metrics
    from crossknow.analysis.paired_report import Pair

    hp_evaluate = load("evaluate")
    english = {f"hp/{i}": {"correct": c, "prediction": "A" if c else "B"} for i, c in enumerate([1, 1, 0, 1])}
    french = {f"hp/{i}": {"correct": c, "prediction": "A" if c else "C"} for i, c in enumerate([1, 0, 0, 0])}
    english = {k: {**v, "correct": bool(v["correct"])} for k, v in english.items()}
    french = {k: {**v, "correct": bool(v["correct"])} for k, v in french.items()}
    pair = Pair("m", "hp", "none_fr", "fr", "none", str(tmp_path), metrics=paired_metrics(french, english))
    results = {"en": {"accuracy": 0.75, "n": 4, "config": {"language": "en"}},
               "fr": {"accuracy": 0.25, "n": 4, "config": {"language": "fr"}}}
    summary = hp_evaluate.merge_summary(tmp_path / "summary.json", results, {"fr": pair})
    assert summary == json.loads((tmp_path / "summary.json").read_text())
    assert summary == {"en": {"accuracy": 0.75, "n": 4},
                       "fr": {"accuracy": 0.25, "n": 4, "paired": {
                           "n": 4, "accuracy_en": 0.75, "gap": 0.5, "gap_ci95": [0.0, 1.0], "mcnemar_p": 0.5,
                           "dropped": 0, "dropped_en": 0, "paired_by": "id"}}}


def test_the_hp_summary_refuses_to_pair_languages_scored_on_other_quiz_rows(bpe_model_dir, tmp_path, capsys):
    hp = load("evaluate")
    base = ["--model_name", str(bpe_model_dir), "--save_dir", str(tmp_path), "--batch_size", "8"]
    hp.main([*base, "--langs", "en"])
    hp.main([*base, "--langs", "fr", "--limit", "10"])
    summary_path = tmp_path / bpe_model_dir.name / "none" / "summary.json"
    summary = json.loads(summary_path.read_text())
    assert summary["en"]["n"] == 30 and summary["fr"]["n"] == 10 and summary["fr"]["paired"] is None
    assert summary["fr"]["not_paired"] == (
        "result_fr.json vs result_en.json: not paired with English: not the same questions: 0 of 10 target and "
        "20 of 30 reference questions have no counterpart (more than 1%); first differing id 'hp/10' (only in "
        "the reference); --allow_partial pairs the rest")
    assert "not paired: result_fr.json vs result_en.json" in capsys.readouterr().out
    hp.main([*base, "--langs", "de"])  # de is on English's rows: paired; fr, of the earlier run, still not
    summary = json.loads(summary_path.read_text())
    assert summary["de"]["paired"]["n"] == 30 and summary["fr"]["paired"] is None
