"""The invented-facts experiment: parallel templates, questions, and the --quick plumbing run."""

import json
import sys

import pytest

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


def test_quick_run_writes_three_arms_per_seed_the_paired_test_table_and_plot(bpe_model_dir, tmp_path, capsys):
    experiment = load_script("Synthetic/experiment.py")
    results = experiment.main(["--quick", "--model", str(bpe_model_dir), "--output_dir", str(tmp_path)])
    assert results["complete"] and list(results["seeds"]) == ["0"]
    for seed in results["seeds"].values():
        assert set(seed["arms"]) == {"base", "english", "mixed", "mixed_general"}
        for arm in seed["arms"].values():
            assert set(arm) == {"trained", "held_out"}
            assert set(arm["trained"]) == set(experiment.VARIANTS) and arm["trained"]["en"]["n"] == 12
            assert arm["held_out"]["fr"]["n"] == 4 and len(arm["trained"]["de"]["correct"]) == 12
    assert results["arms"]["english"]["trained"]["en"]["n"] == 12 and results["gaps"]["english"]["n"] == 12
    assert set(results["paired"]) == {"mixed_general_vs_english", "mixed_vs_english"}
    assert results["paired"]["mixed_general_vs_english"]["per_seed"]["k"] == 1
    work = tmp_path / "work" / "seed0"
    english = (work / "english" / "train.txt").read_text().splitlines()
    mixed = (work / "mixed" / "train.txt").read_text().splitlines()
    assert english == (work / "mixed_general" / "train.txt").read_text().splitlines()  # (a) and (c): English facts
    assert len(english) == len(mixed) == 12 * 2 and english != mixed  # templates 0 and 1; template 2 is the quiz's
    assert not any(F.render_sentence(f, "en", 2) in english for f in F.make_facts(F.make_people(4, 0)[:3], 0))
    general_en = (work / "general_en" / "train.txt").read_text().splitlines()
    general_mixed = (work / "general_mixed" / "train.txt").read_text().splitlines()
    assert len(general_en) == len(general_mixed) == 12 and general_en != general_mixed
    assert not any((work / name / "model").exists() for name in ("english", "general_en"))  # checkpoints removed
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["complete"] and saved["paired"].keys() == results["paired"].keys() and saved["arms"]["mixed"]
    # Each arm's quiz is a runner result with per-question records.
    quiz = json.loads((tmp_path / results["seeds"]["0"]["quiz"]["mixed"]).read_text())
    assert quiz["task"] == "synthetic_quiz" and quiz["sets"] == results["seeds"]["0"]["arms"]["mixed"]
    assert quiz["config"]["arm"] == "mixed" and quiz["config"]["infer_mode"] == "loglikelihood"
    assert quiz["training"]["mixed"]["global_step"] == results["seeds"]["0"]["fact_steps"]
    records = [json.loads(line) for line in (tmp_path / "quiz" / "seed0" / "mixed" / "trained_de.jsonl").open()]
    assert len(records) == 12 and [int(r["correct"]) for r in records] == quiz["sets"]["trained"]["de"]["correct"]
    first = records[0]
    assert first["set"] == "trained" and first["variant"] == "de" and first["prompt"] == ""
    assert len(first["choices"]) == 4 and all(first["person"] in c for c in first["choices"])
    table = (tmp_path / "table.md").read_text()
    assert "| mixed_general | all |" in table and "- mixed_general_vs_english: gap difference" in table
    from crossknow.results import validate_result

    validate_result(saved)  # the project's results schema
    for path in (tmp_path / "quiz" / "seed0").glob("*.json"):
        validate_result(json.loads(path.read_text()), str(path))
    assert (tmp_path / "accuracy_by_language.png").stat().st_size > 10_000
    out = capsys.readouterr().out
    assert "**trained facts**: accuracy %, chance 25" in out and "no conclusion" in out


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


def test_general_text_is_parallel_and_both_corpora_hold_every_unit_once():
    import general_text as G

    units = G.parallel_units()
    assert len(units) == 100 + 75 and all(set(u) == set(G.LANGUAGES) and all(u.values()) for u in units)
    first_flores = (ROOT / "Translation/data/flores/de.devtest").read_text(encoding="utf-8").splitlines()[0]
    assert units[0]["de"] == first_flores.strip()
    assert units[100]["fr"] == "Trouver tous les c dans Z_3 tels que Z_3[x]/(x^2 + c) soit un corps. 0 / 1 / 2 / 3"
    english = G.general_corpus(units, mixed=False, seed=3)
    mixed = G.general_corpus(units, mixed=True, seed=3)
    assert sorted(english) == sorted(u["en"] for u in units)
    assert len(mixed) == len(units) and mixed == G.general_corpus(units, mixed=True, seed=3)
    languages = [next(lang for lang in G.LANGUAGES if line in {u[lang] for u in units}) for line in mixed]
    assert set(languages) == set(G.LANGUAGES) and 0.1 < languages.count("en") / len(units) < 0.35


def test_general_text_refuses_misaligned_translations(tmp_path):
    import general_text as G

    for lang in G.LANGUAGES:
        (tmp_path / f"{lang}.devtest").write_text("one\ntwo\n" if lang != "it" else "uno\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"not parallel .*'it': 1"):
        G.flores_units(tmp_path)


def test_gap_and_paired_comparison_by_hand():
    import analysis as A

    cell = lambda correct: {"correct": correct}  # noqa: E731
    by_variant = {"en": cell([1, 1, 0]), "fr": cell([1, 0, 0]), "de": cell([0, 0, 0]), "es": cell([1, 0, 1]),
                  "it": cell([1, 0, 0])}
    assert A.fact_gaps(by_variant, "en", ["fr", "de", "es", "it"]) == [0.25, 1.0, -0.25]
    reference = {"0": [0.5, 1.0, 0.0], "1": [0.25, 0.25]}
    arm = {"0": [0.0, 0.5, 0.0], "1": [0.25, -0.75]}
    paired = A.paired_comparison(arm, reference)
    assert paired["per_seed"]["differences"] == [-1 / 3, -0.5] and paired["per_fact"]["n"] == 5
    assert abs(paired["per_fact"]["mean"] - (-0.4)) < 1e-12
    low, high = paired["per_seed"]["ci95"]
    assert abs((low + high) / 2 - (-5 / 12)) < 1e-12 and abs(high - low - 2 * 12.706 * (1 / 6 / 2 ** 0.5) / 2 ** 0.5) < 1e-9
    assert A.paired_comparison(reference, reference)["per_fact"]["p_sign_flip"] == 1.0
    assert A.sign_flip_p_value([1.0] * 12) < 0.001
    with pytest.raises(ValueError, match="seed 1: 1 facts against 2"):
        A.paired_comparison({"1": [0.0]}, {"1": [0.0, 1.0]})


def test_refuses_missing_matplotlib_and_other_settings_before_loading_a_model(tmp_path, monkeypatch):
    experiment = load_script("Synthetic/experiment.py")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SystemExit, match="the figure needs matplotlib .* or pass --no_plot"):
        experiment.main(["--model", "smollm2", "--output_dir", str(tmp_path)])
    (tmp_path / "results.json").write_text(json.dumps({"config": {"model": "other"}}))
    with pytest.raises(SystemExit, match="results.json: made under other settings; use --overwrite"):
        experiment.main(["--no_plot", "--model", "smollm2", "--output_dir", str(tmp_path)])
    (tmp_path / "results.json").unlink()
    quiz = tmp_path / "quiz" / "seed1" / "mixed" / "settings.json"
    quiz.parent.mkdir(parents=True)
    quiz.write_text(json.dumps({"config": {"settings": {"model": "other"}}}))
    with pytest.raises(SystemExit, match=r"seed1/mixed/settings.json: a quiz made under other settings"):
        experiment.main(["--no_plot", "--model", "smollm2", "--output_dir", str(tmp_path)])
    experiment.check_before_work(experiment.parse_args(["--no_plot", "--output_dir", str(tmp_path), "--overwrite"]))
    settings = {"model": "m", "seeds": [0], "work_dir": "a", "output_dir": "x"}
    assert experiment.same_settings(settings, {**settings, "work_dir": "b", "output_dir": "y", "no_plot": True})
    assert not experiment.same_settings(settings, {**settings, "seeds": [1]})
    with pytest.raises(SystemExit, match="repeated seed"):
        experiment.main(["--no_plot", "--seeds", "1", "1", "--output_dir", str(tmp_path / "new")])


def test_shared_general_stage_without_held_out_people(bpe_model_dir, tmp_path):
    experiment = load_script("Synthetic/experiment.py")
    results = experiment.main(["--model", str(bpe_model_dir), "--output_dir", str(tmp_path), "--no_plot",
                               "--num_people", "1", "--heldout_people", "0", "--epochs", "1", "--general_units", "4",
                               "--block_size", "32", "--batch_size", "4", "--seeds", "0", "1", "--skip_base",
                               "--shared_general", "--arms", "english", "mixed_general", "--variants", *F.LANGUAGES])
    assert set(results["shared_general"]) >= {"general_en", "general_mixed", "general_steps"}
    assert all(set(s["arms"]) == {"english", "mixed_general"} and set(s["arms"]["english"]) == {"trained"}
               and "general_en" not in s["training"] for s in results["seeds"].values())
    assert not (tmp_path / "work" / "seed1" / "general_en").exists()
    assert not (tmp_path / "work" / "shared" / "general_en" / "model").exists()
    assert results["paired"]["mixed_general_vs_english"]["per_fact"]["n"] == 8
    assert "held-out" not in (tmp_path / "table.md").read_text()


def test_a_killed_run_resumes_without_retraining_finished_arms_and_ends_as_an_uninterrupted_run(
        bpe_model_dir, tmp_path, monkeypatch, capsys):
    experiment = load_script("Synthetic/experiment.py")
    argv = ["--quick", "--no_plot", "--model", str(bpe_model_dir), "--heldout_people", "0",
            "--variants", *F.LANGUAGES]
    whole = experiment.main([*argv, "--output_dir", str(tmp_path / "whole")])
    real_finetune, trained, kill_at = experiment.finetune, [], [3]

    class Killed(Exception):
        pass

    def counted_and_killed_at_the_third_training(args):
        trained.append(args[args.index("--output_dir") + 1])
        if len(trained) == kill_at[0]:
            raise Killed  # a kill while training arm (b)
        return real_finetune(args)

    monkeypatch.setattr(experiment, "finetune", counted_and_killed_at_the_third_training)
    resumed_argv = [*argv, "--output_dir", str(tmp_path / "resumed"), "--score_batch_size", "3"]
    with pytest.raises(Killed):
        experiment.main(resumed_argv)
    assert [p.split("/")[-2] for p in trained] == ["general_en", "english", "mixed"]
    trained.clear()
    kill_at[0] = None
    leftover = tmp_path / "resumed" / "work" / "seed0" / "english" / "model"  # as a kill before its deletion leaves it
    leftover.mkdir()
    (leftover / "model.safetensors").write_bytes(b"0")
    resumed = experiment.main(resumed_argv)
    # base and (a) were quizzed before the kill: served, not trained again; (b) and (c) are made now
    assert [p.split("/")[-2] for p in trained] == ["general_en", "mixed", "general_mixed", "mixed_general"]
    out = capsys.readouterr().out
    assert "seed0/base.json: quizzed under these settings: reused" in out
    assert "seed0/english.json: quizzed under these settings: reused" in out
    assert not list((tmp_path / "resumed" / "work").rglob("model"))  # the kill's leftover checkpoints too
    for key in ("arms", "gaps", "paired"):
        assert resumed[key] == whole[key], key
    assert resumed["seeds"]["0"]["arms"] == whole["seeds"]["0"]["arms"]
    def losses(r):
        return {k: v["train_loss"] for k, v in r["seeds"]["0"]["training"].items() if k != "general_steps"}

    assert losses(resumed) == losses(whole) and set(losses(whole)) == {"general_en", "general_mixed", "english",
                                                                        "mixed", "mixed_general"}
    trained.clear()
    assert experiment.main(resumed_argv)["arms"] == whole["arms"] and trained == []  # a finished run trains nothing
    # Other training text or other questions under the same settings: refused before any training.
    fixed_training = experiment.FIXED_TRAINING
    monkeypatch.setattr(experiment, "FIXED_TRAINING", [*fixed_training[:3], "0.5"])
    with pytest.raises(SystemExit, match=r"seed0/english/settings.json: a quiz made under other settings, training "
                                         r"text or questions \(config.training_sha256: '[0-9a-f]{64}' on disk"):
        experiment.main(resumed_argv)
    monkeypatch.setattr(experiment, "FIXED_TRAINING", fixed_training)
    statements = experiment.option_statements
    monkeypatch.setattr(experiment, "option_statements", lambda *a: [s + " " for s in statements(*a)])
    with pytest.raises(SystemExit, match=r"seed0/base/settings.json: .* \(inputs_sha256: "):
        experiment.main(resumed_argv)
    assert trained == []
