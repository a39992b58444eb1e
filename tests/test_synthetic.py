"""The invented-facts experiment: parallel templates, questions, and the --quick plumbing run."""

import json
import sys

from conftest import ROOT, load_script

sys.path.insert(0, str(ROOT / "Synthetic"))
import facts as F  # noqa: E402


def test_facts_render_in_every_language_without_placeholders():
    people = F.make_people(30, seed=1)
    assert len(set(people)) == 30 and F.make_people(30, seed=1) == people
    for fact in F.make_facts(people, seed=1):
        for lang in F.LANGUAGES:
            for t in range(3):
                sentence = F.render_sentence(fact, lang, t)
                assert fact.person in sentence and "{" not in sentence
                if fact.relation in ("birth_year", "hometown"):
                    assert fact.value in sentence


def test_several_templates_per_relation_and_language():
    for relation, by_lang in F.SENTENCES.items():
        assert set(by_lang) == set(F.LANGUAGES)
        assert all(len(set(templates)) == 3 for templates in by_lang.values()), relation


def test_questions_share_the_answer_letter_and_draw_distractors_from_the_relation():
    facts = F.make_facts(F.make_people(12, seed=0), seed=0)
    letters = set()
    for fact in facts:
        q = F.make_question(fact, seed=0)
        assert q.options[q.answer] == fact.value and len(set(q.options)) == 4
        assert all(v in F.value_pool(fact.relation) for v in q.options)
        letters.add(q.answer)
        texts = {lang: F.render_question(q, [lang] * 5) for lang in F.LANGUAGES}
        for lang, text in texts.items():
            answer_line = text.splitlines()[1 + q.answer]
            assert answer_line == f"{'ABCD'[q.answer]}. {F.surface(fact.relation, fact.value, lang, True)}"
    assert letters == {0, 1, 2, 3}
    q = F.make_question(facts[3], seed=0)
    assert F.render_question(q, ["de"] * 5) == (
        "Welches Haustier hat " + facts[3].person + "?\n" + "\n".join(
            f"{'ABCD'[i]}. {F.PETS[v]['de'][1]}" for i, v in enumerate(q.options)) + "\nAnswer:")


def test_quick_run_writes_results_table_and_plot(bpe_model_dir, tmp_path, capsys):
    experiment = load_script("Synthetic/experiment.py")
    results = experiment.main(["--quick", "--model", str(bpe_model_dir), "--output_dir", str(tmp_path)])
    assert set(results["arms"]) == {"base", "english", "mixed"}
    for arm in results["arms"].values():
        assert set(arm) == {"trained", "held_out"}
        assert set(arm["trained"]) == set(experiment.VARIANTS) and arm["trained"]["en"]["n"] == 16
    assert results["config"]["tokens_per_arm"] == results["config"]["max_steps"] * 4 * 32
    english = (tmp_path / "english" / "train.txt").read_text().splitlines()
    mixed = (tmp_path / "mixed" / "train.txt").read_text().splitlines()
    assert len(english) == len(mixed) == 16 * 2  # templates 0 and 1; template 2 is the quiz's
    assert not any(F.render_sentence(f, "en", 2) in english for f in F.make_facts(F.make_people(8, 0)[:4], 0))
    assert json.loads((tmp_path / "results.json").read_text())["arms"].keys() == results["arms"].keys()
    from crossknow.results import validate_result

    validate_result(results)  # the project's results schema
    assert (tmp_path / "accuracy_by_language.png").stat().st_size > 10_000
    out = capsys.readouterr().out
    assert "[trained facts: accuracy %, chance 25]" in out and "no conclusion" in out


def test_option_statements_use_the_held_out_template_and_mix_languages_in_mixup():
    experiment = load_script("Synthetic/experiment.py")
    fact = F.Fact("Orrin Quistad", "pet", "parrot")
    q = F.make_question(fact, seed=0)
    german = experiment.option_statements(q, "de", 2, seed=0, row=0)
    assert german[q.answer] == "Orrin Quistad hat einen Papagei als Haustier."
    assert all(s.startswith("Orrin Quistad hat ") and s.endswith(" als Haustier.") for s in german)
    mixed = experiment.option_statements(q, "mixup", 2, seed=0, row=0)
    template_lang, value_lang = __import__("random").Random("mixup:0:0").sample(F.LANGUAGES, 2)
    assert mixed[q.answer] == F.render_sentence(fact, template_lang, 2, value_lang) and template_lang != value_lang
