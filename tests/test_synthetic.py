"""The invented-facts experiment: parallel templates, questions, and the --quick plumbing run."""

import json
import sys
from pathlib import Path

import pytest

from conftest import ROOT, load_script
from crossknow.core.errors import CrossknowError
from crossknow.core.resume import ResumeError
from crossknow.data.flores import FLORES_DIR

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


def test_quick_run_writes_every_arm_per_seed_transfer_comparisons_table_and_plot(bpe_model_dir, tmp_path, capsys):
    experiment = load_script("Synthetic/experiment.py")
    results = experiment.main(["--quick", "--model", str(bpe_model_dir), "--output_dir", str(tmp_path)])
    assert results["complete"] and list(results["seeds"]) == ["0"]
    seed = results["seeds"]["0"]
    assert list(seed["arms"]) == ["base", "facts_en", "facts_then_mixed", "facts_then_english", "mixed_then_facts",
                                  "english_then_facts", "facts_all"]
    for arm in seed["arms"].values():
        assert set(arm) == {"trained", "held_out"}
        assert set(arm["trained"]) == set(experiment.VARIANTS) and arm["trained"]["en"]["n"] == 3 * 6
        assert arm["held_out"]["fr"]["n"] == 6 and len(arm["trained"]["de"]["prediction"]) == 18
    assert [r for _, r in seed["questions"]["trained"][:6]] == F.RELATIONS
    assert set(results["arms"]["facts_en"]) == {"trained", "trained:dependent", "trained:invariant", "held_out",
                                                "held_out:dependent", "held_out:invariant"}
    assert results["arms"]["facts_en"]["trained:dependent"]["en"]["n"] == 12
    assert results["arms"]["base"]["held_out:invariant"]["it"]["n"] == 2
    cell = results["transfer"]["facts_then_mixed"]["dependent"]["others"]
    assert cell["n"] == 12 * 4 and set(results["transfer"]["base"]["invariant"]) == {"fr", "de", "es", "it", "others"}
    assert set(results["comparisons"]) == {"paper_order", "general_first", "upper_bound"}
    paper = results["comparisons"]["paper_order"]["dependent"]
    assert (paper["arm"], paper["control"]) == ("facts_then_mixed", "facts_then_english")
    assert paper["others"]["n"] == 48 and paper["en"]["n"] == 12
    assert paper["others"]["ci95_clustered"] is None and paper["others"]["transfer_seed_level"]["ci95"] is None
    work = tmp_path / "work" / "seed0"
    facts_en = (work / "facts_en" / "train.txt").read_text().splitlines()
    facts_all = (work / "facts_all" / "train.txt").read_text().splitlines()
    english_facts = experiment.corpus(F.make_facts(F.make_people(4, 0)[:3], 0), "en", 2, 0)
    assert set(facts_en) == set(english_facts) and len(english_facts) == 18 * 2  # templates 0 and 1
    assert set(facts_all) == set(experiment.corpus(F.make_facts(F.make_people(4, 0)[:3], 0), "all", 2, 0))
    assert not any(F.render_sentence(f, "en", 2) in facts_en for f in F.make_facts(F.make_people(4, 0)[:3], 0))
    assert set((work / "general_mixed+facts_en" / "train.txt").read_text().splitlines()) == set(english_facts)
    # every stage trains exactly steps x batch x block tokens; the record says how much of each corpus that is
    training, corpora = seed["training"], seed["corpora"]
    assert training["facts_en"]["train_tokens"] == training["facts_all"]["train_tokens"] == seed["steps"]["facts"] * 4 * 32
    assert corpora["facts_all"]["share_seen"] < corpora["facts_en"]["share_seen"]
    assert not list(work.glob("*/model")), "checkpoints removed"
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["complete"] and saved["comparisons"].keys() == results["comparisons"].keys()
    # Each arm's quiz is a runner result with per-question records.
    quiz = json.loads((tmp_path / seed["quiz"]["facts_then_mixed"]).read_text())
    assert quiz["task"] == "synthetic_quiz" and quiz["sets"] == seed["arms"]["facts_then_mixed"]
    assert quiz["config"]["arm"] == "facts_then_mixed" and quiz["config"]["infer_mode"] == "loglikelihood"
    assert set(quiz["training"]) == {"facts_en", "facts_en+general_mixed"}
    assert quiz["training"]["facts_en+general_mixed"]["global_step"] == seed["steps"]["general"]
    records = [json.loads(line) for line in (tmp_path / "quiz" / "seed0" / "facts_all" / "trained_de.jsonl").open()]
    assert [int(r["correct"]) for r in records] == seed["arms"]["facts_all"]["trained"]["de"]["correct"]
    assert [r["prediction"] for r in records] == seed["arms"]["facts_all"]["trained"]["de"]["prediction"]
    first = records[0]
    assert first["set"] == "trained" and first["variant"] == "de" and first["prompt"] == ""
    assert len(first["choices"]) == 4 and all(first["person"] in c for c in first["choices"])
    table = (tmp_path / "table.md").read_text()
    assert "| facts_then_mixed |" in table and "- paper_order (facts_then_mixed - facts_then_english), dependent:" in table
    assert "no interval (one seed)" in table and "nan" not in table
    from crossknow.core.results import validate_result

    validate_result(saved)  # the project's results schema
    for path in (tmp_path / "quiz" / "seed0").glob("*.json"):
        validate_result(json.loads(path.read_text()), str(path))
    assert (tmp_path / "accuracy_by_language.png").stat().st_size > 10_000
    out = capsys.readouterr().out
    assert "**trained:dependent facts**: accuracy %" in out and "no conclusion" in out and "nan" not in out


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


def test_general_text_is_flores_passages_in_article_order_mixed_per_sentence():
    import general_text as G

    units = G.parallel_units()
    assert len(units) == 100 and all(set(u) == set(G.LANGUAGES) and all(u.values()) for u in units)
    first_flores = (FLORES_DIR / "de.devtest").read_text(encoding="utf-8").splitlines()[0]
    assert units[0]["de"] == first_flores.strip()
    passages = G.passages(units)
    assert len(passages) == 20 and passages[1] == units[5:10]
    english = G.general_corpus(passages, mixed=False, seed=3)
    mixed = G.general_corpus(passages, mixed=True, seed=3)
    assert sorted(english) == sorted(" ".join(u["en"] for u in p) for p in passages)
    assert mixed == G.general_corpus(passages, mixed=True, seed=3) and len(mixed) == 20
    # the same passages in the same (shuffled) order; inside a passage, each sentence in a drawn language
    order = [next(i for i, p in enumerate(passages) if line == " ".join(u["en"] for u in p)) for line in english]
    languages = []
    for line, i in zip(mixed, order):
        rest = line
        for sentence in passages[i]:
            lang = next(lang for lang in G.LANGUAGES if rest.startswith(sentence[lang]))
            languages.append(lang)
            rest = rest[len(sentence[lang]):].lstrip()
        assert rest == ""
    assert set(languages) == set(G.LANGUAGES) and 0.1 < languages.count("en") / len(units) < 0.35
    assert len({tuple(languages[i:i + 5]) for i in range(0, 100, 5)}) > 15  # mixed within passages


def test_general_text_refuses_misaligned_translations(tmp_path):
    import general_text as G

    for lang in G.LANGUAGES:
        (tmp_path / f"{lang}.devtest").write_text("one\ntwo\n" if lang != "it" else "uno\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"not parallel .*'it': 1"):
        G.flores_units(tmp_path)


def hand_seeds() -> dict:
    """Two seeds, two arms, facts (P, pet), (Q, pet), (R, birth_year), answers in en and fr."""
    def arm(en, fr):
        return {"trained": {"en": {"correct": en, "prediction": ["A"] * 3},
                            "fr": {"correct": fr, "prediction": ["A", "B", "A"]}}}

    questions = {"trained": [["P", "pet"], ["Q", "pet"], ["R", "birth_year"]]}
    return {"0": {"questions": questions, "arms": {"a": arm([1, 1, 0], [1, 0, 0]), "b": arm([1, 1, 1], [1, 1, 0])}},
            "1": {"questions": questions, "arms": {"a": arm([1, 0, 1], [0, 0, 1]), "b": arm([0, 1, 1], [0, 1, 1])}}}


def test_transfer_comparison_and_power_by_hand():
    import analysis as A

    seeds = hand_seeds()
    a = A.transfer_cell(seeds, "a", "trained", ["fr"], ["pet"])  # pets: en 1,1,1,0 and fr 1,0,0,0 over s0P s0Q s1P s1Q
    assert (a["n"], a["accuracy"], a["accuracy_reference"], a["overall"]) == (4, 0.25, 0.75, 0.25)
    assert abs(a["transfer"] - 1 / 3) < 1e-12 and a["transfer_chance"] == 0.25
    assert A.transfer_cell(seeds, "b", "trained", ["fr"], ["pet"])["transfer"] == 1.0
    c = A.comparison(seeds, "b", "a", "trained", ["fr"], ["pet"])
    assert (c["accuracy"], c["accuracy_control"], c["accuracy_difference"]) == (0.75, 0.25, 0.5)
    assert c["mcnemar_p"] == 0.5 and c["ci95_clustered"] is not None and c["ci95"][0] <= 0.5 <= c["ci95"][1]
    assert abs(c["transfer_difference"] - 2 / 3) < 1e-12 and c["transfer_per_seed"] == [0.5, 1.0]
    level = c["transfer_seed_level"]
    half = 12.706 * 0.5 ** 0.5 / 2 / 2 ** 0.5
    assert level["k"] == 2 and abs(level["ci95"][0] - (0.75 - half)) < 1e-9 and abs(level["ci95"][1] - (0.75 + half)) < 1e-9
    assert A.seed_level([0.3]) == {"mean": 0.3, "k": 1, "sd": None, "ci95": None, "detectable_80": None}
    # both arms right in English on s0P and s0Q: fr differences 0 and 1 (sd 0.7071), half of the 4 pet facts
    assert A.fact_transfer_differences(seeds, "b", "a", ["fr"], ["pet"]) == ([0.0, 1.0], 4)
    plan = A.power_plan({"seeds": seeds}, "b", "a", ["fr"], ["pet"], planned_facts=100)
    z = 1.960 + 0.842
    assert plan["facts_needed"] == 786 == __import__("math").ceil((z * 0.5 ** 0.5 / 0.1) ** 2 / 0.5)
    assert abs(plan["detectable_80"] - z * 0.5 ** 0.5 / 50 ** 0.5) < 1e-12 and plan["share_right_in_english_both"] == 0.5
    with pytest.raises(ValueError, match="the pilot has 0 facts answered in English by both"):
        A.power_plan({"seeds": seeds}, "b", "a", ["fr"], ["hometown"], planned_facts=100)


def test_refuses_missing_matplotlib_and_other_settings_before_loading_a_model(tmp_path, monkeypatch):
    experiment = load_script("Synthetic/experiment.py")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SystemExit, match="the figure needs matplotlib .* or pass --no_plot"):
        experiment.main(["--model", "smollm2", "--output_dir", str(tmp_path)])
    (tmp_path / "results.json").write_text(json.dumps({"config": {"model": "other"}}))
    with pytest.raises(ResumeError, match=r"results.json: made under other settings \(\w+: .* on disk, .* now\); "
                                          r"use --overwrite"):
        experiment.main(["--no_plot", "--model", "smollm2", "--output_dir", str(tmp_path)])
    (tmp_path / "results.json").unlink()
    quiz = tmp_path / "quiz" / "seed1" / "facts_all" / "settings.json"
    quiz.parent.mkdir(parents=True)
    quiz.write_text(json.dumps({"config": {"settings": {"model": "other"}}}))
    with pytest.raises(ResumeError, match=r"seed1/facts_all/settings.json: a quiz made under other settings \(\w+: .* on disk"):
        experiment.main(["--no_plot", "--model", "smollm2", "--output_dir", str(tmp_path)])
    experiment.check_before_work(experiment.parse_args(["--no_plot", "--output_dir", str(tmp_path), "--overwrite"]))
    settings = {"model": "m", "seeds": [0], "work_dir": "a", "output_dir": "x"}
    assert experiment.same_settings(settings, {**settings, "work_dir": "b", "output_dir": "y", "no_plot": True})
    assert not experiment.same_settings(settings, {**settings, "seeds": [1]})
    with pytest.raises(SystemExit, match="repeated seed"):
        experiment.main(["--no_plot", "--seeds", "1", "1", "--output_dir", str(tmp_path / "new")])


TINY = ["--no_plot", "--num_people", "1", "--heldout_people", "0", "--epochs", "1", "--general_units", "5",
        "--block_size", "32", "--batch_size", "2", "--variants", *F.LANGUAGES]


def recording_finetune(experiment, monkeypatch) -> list[list[str]]:
    """Every fine-tuning call's arguments, the calls themselves made for real."""
    calls, real = [], experiment.finetune

    def recorded(argv):
        calls.append(list(argv))
        return real(argv)

    monkeypatch.setattr(experiment, "finetune", recorded)
    return calls


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_each_seed_trains_its_own_general_stage_from_its_own_base_model(bpe_model_dir, tmp_path, monkeypatch):
    experiment = load_script("Synthetic/experiment.py")
    calls = recording_finetune(experiment, monkeypatch)
    results = experiment.main(["--model", str(bpe_model_dir), "--output_dir", str(tmp_path), *TINY, "--seeds", "0", "1",
                               "--skip_base", "--arms", "english_then_facts", "facts_then_english"])
    by_stage = {(Path(option(c, "--output_dir")).parts[-3], Path(option(c, "--output_dir")).parts[-2]): c for c in calls}
    assert sorted(by_stage) == sorted((f"seed{s}", stage) for s in (0, 1) for stage in
                                      ("general_en", "general_en+facts_en", "facts_en", "facts_en+general_en"))
    for seed in ("seed0", "seed1"):
        work = tmp_path / "work" / seed
        assert option(by_stage[seed, "general_en"], "--model") == str(bpe_model_dir)  # the base model, not a shared stage
        assert option(by_stage[seed, "facts_en"], "--model") == str(bpe_model_dir)
        assert option(by_stage[seed, "general_en+facts_en"], "--model") == str(work / "general_en" / "model")
        assert option(by_stage[seed, "facts_en+general_en"], "--model") == str(work / "facts_en" / "model")
        assert option(by_stage[seed, "general_en"], "--seed") == seed.removeprefix("seed")
    assert results["seeds"]["0"]["training"]["general_en"] != results["seeds"]["1"]["training"]["general_en"]


def test_the_two_general_corpora_of_a_pair_are_trained_on_equal_token_counts(bpe_model_dir, tmp_path, monkeypatch):
    experiment = load_script("Synthetic/experiment.py")
    calls = recording_finetune(experiment, monkeypatch)
    results = experiment.main(["--model", str(bpe_model_dir), "--output_dir", str(tmp_path), *TINY, "--seeds", "2",
                               "--skip_base", "--arms", "mixed_then_facts", "english_then_facts", "facts_then_mixed",
                               "facts_then_english"])
    seed = results["seeds"]["2"]
    training, corpora, steps = seed["training"], seed["corpora"], seed["steps"]["general"]
    # the mixed passages are longer in tokens than the English ones, and both are trained on the same tokens
    assert corpora["general_mixed"]["tokens"] != corpora["general_en"]["tokens"]
    tokens = {name: training[name]["train_tokens"] for name in
              ("general_en", "general_mixed", "facts_en+general_en", "facts_en+general_mixed")}
    assert set(tokens.values()) == {steps * 2 * 32} and corpora["general_mixed"]["tokens_seen"] == steps * 2 * 32
    for name in ("general_en", "general_mixed"):
        assert corpora[name]["share_seen"] == round(steps * 2 * 32 / corpora[name]["tokens"], 4)
    work = tmp_path / "work" / "seed2"
    texts = {name: (work / name / "train.txt").read_text().splitlines() for name in ("general_en", "general_mixed")}
    import general_text as G

    passages = G.passages(G.parallel_units()[:5])
    assert set(texts["general_en"]) == set(G.general_corpus(passages, mixed=False, seed=2))
    assert set(texts["general_mixed"]) == set(G.general_corpus(passages, mixed=True, seed=2))
    general_calls = [c for c in calls if Path(option(c, "--output_dir")).parent.name.split("+")[-1].startswith("general")]
    assert len(general_calls) == 4 and {option(c, "--max_steps") for c in general_calls} == {str(steps)}


def test_shared_general_stage_is_trained_once_for_quick_looks(bpe_model_dir, tmp_path):
    experiment = load_script("Synthetic/experiment.py")
    results = experiment.main(["--model", str(bpe_model_dir), "--output_dir", str(tmp_path), *TINY, "--seeds", "0", "1",
                               "--skip_base", "--shared_general", "--arms", "facts_en", "mixed_then_facts",
                               "english_then_facts"])
    logs = {s: e["training"] for s, e in results["seeds"].items()}
    assert logs["0"]["general_mixed"] == logs["1"]["general_mixed"]  # the shared stage's one training
    assert logs["0"]["general_mixed+facts_en"] != logs["1"]["general_mixed+facts_en"]
    assert not (tmp_path / "work" / "seed1" / "general_en").exists()
    assert not (tmp_path / "work" / "shared" / "general_en" / "model").exists()
    assert results["comparisons"]["general_first"]["dependent"]["others"]["n"] == 2 * 4 * 4
    assert "held_out" not in results["arms"]["facts_en"]


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
        trained.append(Path(args[args.index("--output_dir") + 1]).parent.name)
        if len(trained) == kill_at[0]:
            raise Killed  # a kill while training facts_then_english's general stage
        return real_finetune(args)

    monkeypatch.setattr(experiment, "finetune", counted_and_killed_at_the_third_training)
    resumed_argv = [*argv, "--output_dir", str(tmp_path / "resumed"), "--score_batch_size", "3"]
    with pytest.raises(Killed):
        experiment.main(resumed_argv)
    assert trained == ["facts_en", "facts_en+general_mixed", "facts_en+general_en"]
    trained.clear()
    kill_at[0] = None
    leftover = tmp_path / "resumed" / "work" / "seed0" / "facts_en+general_mixed" / "model"  # as a kill leaves it
    leftover.mkdir()
    (leftover / "model.safetensors").write_bytes(b"0")
    resumed = experiment.main(resumed_argv)
    # base, facts_en and facts_then_mixed were quizzed before the kill: served, not trained again
    assert trained == ["facts_en", "facts_en+general_en", "general_mixed", "general_mixed+facts_en", "general_en",
                       "general_en+facts_en", "facts_all"]
    out = capsys.readouterr().out
    for arm in ("base", "facts_en", "facts_then_mixed"):
        assert f"seed0/{arm}.json: quizzed under these settings: reused" in out
    assert not list((tmp_path / "resumed" / "work").rglob("model"))  # the kill's leftover checkpoints too
    for key in ("arms", "transfer", "comparisons"):
        assert resumed[key] == whole[key], key
    assert resumed["seeds"]["0"]["arms"] == whole["seeds"]["0"]["arms"]

    def losses(r):
        return {k: v["train_loss"] for k, v in r["seeds"]["0"]["training"].items()}

    assert losses(resumed) == losses(whole) and len(losses(whole)) == 8
    trained.clear()
    assert experiment.main(resumed_argv)["arms"] == whole["arms"] and trained == []  # a finished run trains nothing
    # Other training text or other questions under the same settings: refused before any training.
    fixed_training = experiment.FIXED_TRAINING
    monkeypatch.setattr(experiment, "FIXED_TRAINING", [*fixed_training[:3], "0.5"])
    with pytest.raises(ResumeError, match=r"seed0/facts_en/settings.json: a quiz made under other settings, training "
                                         r"text or questions \(config.training_sha256: '[0-9a-f]{64}' on disk"):
        experiment.main(resumed_argv)
    monkeypatch.setattr(experiment, "FIXED_TRAINING", fixed_training)
    statements = experiment.option_statements
    monkeypatch.setattr(experiment, "option_statements", lambda *a: [s + " " for s in statements(*a)])
    with pytest.raises(ResumeError, match=r"seed0/base/settings.json: .* \(inputs_sha256: "):
        experiment.main(resumed_argv)
    assert trained == []


def test_power_from_a_pilot_is_printed_before_training_and_recorded(bpe_model_dir, tmp_path, capsys):
    experiment = load_script("Synthetic/experiment.py")
    pilot_argv = ["--model", str(bpe_model_dir), *TINY, "--num_people", "3", "--seeds", "0", "--arms",
                  "facts_then_mixed", "facts_then_english"]
    pilot = experiment.main([*pilot_argv, "--output_dir", str(tmp_path / "pilot")])
    capsys.readouterr()
    planned = ["--model", str(bpe_model_dir), *TINY, "--num_people", "10", "--seeds", "0", "1", "--output_dir",
               str(tmp_path / "plan"), "--power_from", str(tmp_path / "pilot" / "results.json")]
    differences, facts = __import__("analysis").fact_transfer_differences(
        pilot["seeds"], "facts_then_mixed", "facts_then_english", experiment.OTHER_LANGUAGES, F.LANGUAGE_DEPENDENT)
    assert facts == 12
    if len(differences) < 2:  # the tiny model answered too few facts in English in both arms to plan from
        with pytest.raises(CrossknowError, match=r"pilot/results.json: the pilot has \d facts answered"):
            experiment.main([*planned, "--plan_only"])
        return
    plan = experiment.main([*planned, "--plan_only"])["power"]
    assert plan["planned_facts"] == 10 * 4 * 2 and plan["pilot_facts"] == 12 and plan["estimated_minutes"] > 0
    out = capsys.readouterr().out
    assert out.startswith("Power (from the pilot ") and f"this design has {10 * 4 * 2}" in out
    assert not (tmp_path / "plan").exists()  # --plan_only trains nothing


def test_power_settings_are_refused_before_work(tmp_path):
    experiment = load_script("Synthetic/experiment.py")
    with pytest.raises(CrossknowError, match="--plan_only: needs --power_from"):
        experiment.main(["--no_plot", "--plan_only", "--output_dir", str(tmp_path)])
    with pytest.raises(CrossknowError, match="missing.json: no such file"):
        experiment.main(["--no_plot", "--power_from", str(tmp_path / "missing.json"), "--output_dir", str(tmp_path)])
    (tmp_path / "pilot.json").write_text(json.dumps({"complete": False, "config": {"arms": []}}))
    with pytest.raises(CrossknowError, match="pilot.json: not a complete Synthetic result with the arms"):
        experiment.main(["--no_plot", "--power_from", str(tmp_path / "pilot.json"), "--output_dir", str(tmp_path / "o")])


def readme_commands() -> list[list[str]]:
    """The arguments of every ``python Synthetic/experiment.py`` command in the README's bash blocks."""
    import re
    import shlex

    readme = (ROOT / "Synthetic" / "README.md").read_text()
    lines = [line for block in re.findall(r"```bash\n(.*?)```", readme, re.S)
             for line in block.replace("\\\n", " ").splitlines()]
    return [shlex.split(line.split("#")[0])[2:] for line in lines if line.startswith("python Synthetic/experiment.py")]


def test_no_readme_command_writes_into_the_repository():
    experiment = load_script("Synthetic/experiment.py")
    commands = readme_commands()
    assert len(commands) == 4
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "results/" in ignored and "!/Synthetic/results/" not in ignored
    for argv in commands:
        args = experiment.parse_args(argv)
        assert args.output_dir.parts[0] == "results" and args.work_dir.parts[0] == "results", argv
        if args.power_from:  # the committed pilot the plan is computed from
            assert args.power_from.parts[:2] == ("Synthetic", "measured") and (ROOT / args.power_from).is_file()


def test_the_readme_plan_is_what_the_committed_pilot_gives(tmp_path):
    experiment = load_script("Synthetic/experiment.py")
    plan_only = [argv for argv in readme_commands() if "--plan_only" in argv]
    assert len(plan_only) == 1
    # a plan writes nothing, so an earlier run's results in its folder (other settings) do not stop it
    (tmp_path / "results.json").write_text(json.dumps({"config": {"seeds": [9]}}))
    power = experiment.main([*plan_only[0], "--no_plot", "--output_dir", str(tmp_path)])["power"]
    readme = " ".join((ROOT / "Synthetic" / "README.md").read_text().split())
    assert (power["facts_needed"], power["planned_facts"]) == (85, 240)
    assert f"needs **{power['facts_needed']} language-dependent facts**" in readme
    assert f"can detect **{100 * power['detectable_80']:.1f} points at best**" in readme
    assert f"**estimated {power['estimated_minutes']} minutes**" in readme
    assert f"deviation of {100 * power['sd_per_fact']:.1f} points" in readme


@pytest.mark.parametrize("run", ["pilot", "second_design"])
def test_a_committed_run_recomputes_from_its_per_question_records_and_its_table_from_its_results(run):
    experiment = load_script("Synthetic/experiment.py")
    folder = ROOT / "Synthetic" / "measured" / run
    results = json.loads((folder / "results.json").read_text())
    summary = json.loads(json.dumps(experiment.summarize(results["seeds"], results["config"]["variants"])))
    assert summary.keys() == {"arms", "transfer", "comparisons"}
    for key, value in summary.items():
        assert value == results[key], key
    assert (folder / "table.md").read_text() == experiment.format_table(results) + "\n"
    reference = {"pilot": 0.55, "second_design": 0.5375}[run]  # facts_en, dependent facts, right in English
    assert results["transfer"]["facts_en"]["dependent"]["others"]["accuracy_reference"] == reference


def test_the_measured_run_is_the_readme_command_and_the_readme_reports_its_numbers():
    experiment = load_script("Synthetic/experiment.py")
    results = json.loads((ROOT / "Synthetic" / "measured" / "second_design" / "results.json").read_text())
    assert results["complete"] is True and sorted(results["seeds"]) == ["0", "1", "2", "3", "4"]
    measured = [argv for argv in readme_commands() if "--power_from" in argv and "--plan_only" not in argv]
    assert len(measured) == 1
    readme_config = experiment.config_of(experiment.parse_args(measured[0]))
    where = {"output_dir", "work_dir"}  # the committed run wrote into Synthetic/measured, not results/
    assert {k: v for k, v in readme_config.items() if k not in where} == {
        k: v for k, v in results["config"].items() if k not in where}

    readme = " ".join((ROOT / "Synthetic" / "README.md").read_text().split())
    paper = results["comparisons"]["paper_order"]["dependent"]["others"]
    low, high = paper["transfer_seed_level"]["ci95"]
    assert f"transfer {100 * paper['transfer_difference']:.1f} points, 95% interval [{100 * low:.1f}, {100 * high:.1f}]" in readme
    assert f"{100 * paper['transfer_difference']:.1f}** [{100 * low:.1f}, {100 * high:.1f}]" in readme
    low, high = paper["ci95_clustered"]
    assert f"**{100 * paper['accuracy_difference']:.1f}** [{100 * low:.1f}, {100 * high:.1f}]" in readme
    upper = results["comparisons"]["upper_bound"]["dependent"]["others"]
    assert f"**+{100 * upper['accuracy_difference']:.1f}** [{100 * upper['ci95_clustered'][0]:.1f}," in readme
    facts_en = results["transfer"]["facts_en"]["dependent"]["others"]
    assert f"**{100 * facts_en['transfer']:.1f}** ({100 * facts_en['transfer_chance']:.1f})" in readme
    assert f"Wall time **{results['minutes']} minutes**" in readme


def test_the_tables_print_a_zero_difference_as_0_0_never_minus_0_0():
    experiment = load_script("Synthetic/experiment.py")
    assert [experiment.pct(x) for x in (-0.0, 0.0, -0.125, None)] == ["0.0", "0.0", "-12.5", "-"]
