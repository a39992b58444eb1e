"""The task-agnostic runner with a contract-keeping stand-in backend: records, resume, refusal,
generation records, and the sweep's overall progress. (The MMLU and HP suites run it on real
tiny models.)"""

import json
from dataclasses import replace

import pytest

from crossknow.core.io import read_jsonl
from crossknow.core.model_spec import ModelSpec
from crossknow.core.prompt import Prompt
from crossknow.core.results import validate_result
from crossknow.data.mmlu import Item
from crossknow.models.model_api import GENERATION, LETTER_SCORES, LOGLIKELIHOOD, LetterScores
from crossknow.runner import (
    ResumeError,
    Run,
    Scoring,
    SweepProgress,
    Unit,
    complete_records,
    reusable_result,
    run_units,
)


class LengthBackend:
    """Deterministic stand-in: letter probabilities from the prompt's length; generations echo it."""

    name = "hf"
    capabilities = frozenset({LETTER_SCORES, GENERATION})

    def __init__(self):
        self.scored = []

    def describe(self):
        return {"backend": self.name, "dtype": "float32"}

    def answer_token_ids(self, labels):
        return {"paper": [1, 2, 3, 4], "space": [5, 6, 7, 8]}

    def score_letters(self, prompts, labels, desc=""):
        self.scored.append(desc)
        out = []
        for p in prompts:
            winner = len(p.text) % 4
            probs = [0.7 if i == winner else 0.1 for i in range(4)]
            out.append(LetterScores({"paper": probs, "space": probs[::-1]}, reused_prefix_tokens=len(p.prefix)))
        return out

    def generate(self, prompts, max_new_tokens, do_sample=False, seed=0, stop=None, desc=""):
        return [f"Answer: {'ABCD'[len(p.text) % 4]}\n\nQuestion: invented" for p in prompts]


def units(n_units=3, n_items=5):
    out = []
    for u in range(n_units):
        items = [Item(f"q{u}-{i}?" + "x" * i, ("a", "b", "c", "d"), (u + i) % 4) for i in range(n_items)]
        out.append(Unit(f"unit{u}", items, [Prompt("head\n\n", it.question + "\nAnswer:") for it in items],
                        [{"extra": i} for i in range(n_items)]))
    return out


def make_run(tmp_path, **config):
    return Run("hp", ModelSpec.parse("smollm2"), {"language": "fr", "variant": "none", "limit": None, **config},
               "demo-quiz", tmp_path / "result_fr.json", tmp_path / "fr", unit_field="language")


def summarize(records_by_unit):
    correct = [r["correct"] for recs in records_by_unit.values() for r in recs]
    return {"n": len(correct), "accuracy": sum(correct) / len(correct), "ci95": [0.0, 1.0],
            "category": {}, "category_n": {}}


def test_records_and_result_follow_the_schema(tmp_path):
    backend = LengthBackend()
    result = run_units(backend, make_run(tmp_path), units(), Scoring(), summarize)
    validate_result(result)
    assert result == json.loads((tmp_path / "result_fr.json").read_text())
    assert result["records"] == "fr" and result["config"]["units"] == ["unit0", "unit1", "unit2"]
    records = read_jsonl(tmp_path / "fr" / "unit1.jsonl")
    first = records[0]
    assert first["language"] == "unit1" and first["index"] == 0 and first["extra"] == 0
    assert first["prompt"] == "head\n\nq1-0?\nAnswer:" and first["label"] == "B"
    assert first["probs"] == dict(zip("ABCD", first["probs_by_answer_token"]["paper"]))
    assert first["prediction"] == "ABCD"[len(first["prompt"]) % 4] and first["reused_prefix_tokens"] == 6
    assert backend.scored == ["unit0", "unit1", "unit2"]


def test_killed_run_resumes_at_the_first_unfinished_unit_and_ends_the_same(tmp_path):
    reference = run_units(LengthBackend(), make_run(tmp_path / "ref"), units(), Scoring(), summarize)

    class DiesOnUnit2(LengthBackend):
        def score_letters(self, prompts, labels, desc=""):
            if desc == "unit2":
                raise KeyboardInterrupt
            return super().score_letters(prompts, labels, desc)

    with pytest.raises(KeyboardInterrupt):
        run_units(DiesOnUnit2(), make_run(tmp_path / "run"), units(), Scoring(), summarize)
    assert not (tmp_path / "run" / "result_fr.json").exists()
    backend = LengthBackend()
    resumed = run_units(backend, make_run(tmp_path / "run"), units(), Scoring(), summarize)
    assert backend.scored == ["unit2"]
    strip = lambda r: {**r, "environment": {**r["environment"], "date": None}}  # noqa: E731
    assert strip(resumed) == strip(reference)
    for u in ("unit0", "unit1", "unit2"):
        assert read_jsonl(tmp_path / "run" / "fr" / f"{u}.jsonl") == read_jsonl(tmp_path / "ref" / "fr" / f"{u}.jsonl")


def test_finished_runs_are_served_only_to_the_same_settings(tmp_path):
    first = run_units(LengthBackend(), make_run(tmp_path), units(), Scoring(), summarize)
    backend = LengthBackend()
    assert run_units(backend, make_run(tmp_path), units(), Scoring(), summarize) == first
    assert backend.scored == []
    with pytest.raises(ResumeError, match=r"a finished result made with other settings \(scoring.answer_token"):
        run_units(backend, make_run(tmp_path), units(), Scoring(answer_token="space"), summarize)
    changed = units()
    changed[0].items[0] = Item(changed[0].items[0].question, ("a", "b", "c", "d"), 3)
    with pytest.raises(ResumeError, match=r"\(inputs_sha256: '[0-9a-f]{64}' on disk"):
        run_units(backend, make_run(tmp_path), changed, Scoring(), summarize)
    (tmp_path / "fr" / "settings.json").unlink()
    with pytest.raises(ResumeError, match="result_fr.json exists without .*settings.json"):
        run_units(backend, make_run(tmp_path), units(), Scoring(), summarize)
    overwritten = run_units(backend, make_run(tmp_path), changed, Scoring(), summarize, overwrite=True)
    assert backend.scored == ["unit0", "unit1", "unit2"] and overwritten["config"]["data"] != first["config"]["data"]


def test_generation_keeps_the_raw_text_and_counts_unparsed(tmp_path):
    result = run_units(LengthBackend(), make_run(tmp_path), units(1), Scoring(infer_mode="generation",
                       stop=("\n\nQuestion:",)), summarize)
    record = read_jsonl(tmp_path / "fr" / "unit0.jsonl")[0]
    assert record["generated"].endswith("\n\nQuestion: invented")  # raw, as the backend returned it
    assert record["parsed"] and record["prediction"] == record["generated"][8]
    assert result["unparsed"] == 0 and result["config"]["stop"] == ["\n\nQuestion:"]
    assert "answer_token_ids" not in result["config"]


def test_the_sweep_progress_counts_settings_and_questions(tmp_path):
    progress = SweepProgress(settings=2, questions=30, enabled=False)
    run_units(LengthBackend(), make_run(tmp_path), units(), Scoring(), summarize, progress=progress)
    assert (progress.k, progress.done, progress.total) == (1, 15, 30)
    run_units(LengthBackend(), make_run(tmp_path), units(), Scoring(), summarize, progress=progress)
    assert (progress.k, progress.done, progress.total) == (2, 15, 15)  # served from disk: no time left


def test_a_unit_with_more_items_than_prompts_is_refused():
    with pytest.raises(ValueError, match="unit u: 2 items but 1 prompts"):
        Unit("u", [Item("q", ("a", "b", "c", "d"), 0)] * 2, [Prompt("", "q")])


def test_loglikelihood_mode_picks_the_likeliest_option_as_the_backend_scores_it(bpe_model_dir, tmp_path):
    from crossknow.models.hf_backend import HFBackend, load_model

    backend = HFBackend(*load_model(ModelSpec.parse(str(bpe_model_dir)), dtype="fp32", device="cpu"), batch_size=4)
    statements = [("Paris is in France.", "Paris is in Spain.", "Paris is in Italy.", "Paris is in Peru."),
                  ("Water is wet.", "Water is dry.", "Water is red.", "Water is loud.")]
    items = [Item("", options, 0) for options in statements]
    unit = Unit("trained_en", items, [Prompt("", "")] * 2)
    result = run_units(backend, make_run(tmp_path), [unit], Scoring(infer_mode="loglikelihood"), summarize)
    validate_result(result)
    direct = backend.loglikelihood([s for options in statements for s in options])
    for i, record in enumerate(read_jsonl(tmp_path / "fr" / "trained_en.jsonl")):
        own = direct[4 * i:4 * i + 4]
        assert list(record["loglikelihoods"].values()) == pytest.approx(own, abs=1e-5)
        assert record["prediction"] == "ABCD"[max(range(4), key=own.__getitem__)]
    with pytest.raises(ValueError, match="question 0 has 2 options for 4 labels"):
        run_units(backend, make_run(tmp_path / "x"), [Unit("u", [Item("", ("a", "b"), 0)], [Prompt("", "")])],
                  Scoring(infer_mode="loglikelihood"), summarize)


class LengthLoglikelihood(LengthBackend):
    """Stand-in scoring text as likelier the shorter it is."""

    capabilities = frozenset({LOGLIKELIHOOD})

    def loglikelihood(self, texts, desc=""):
        self.scored.append(desc)
        return [-float(len(t)) for t in texts]


def option_units(options=("a", "bb", "ccc", "dddd")):
    items = [Item("", options, 0), Item("", options[::-1], 3)]
    return [Unit("trained_en", items, [Prompt("", "")] * 2)]


def test_options_scored_as_text_are_part_of_what_is_resumed_and_reused(tmp_path):
    scoring, run = Scoring(infer_mode="loglikelihood"), make_run(tmp_path)
    first = run_units(LengthLoglikelihood(), run, option_units(), scoring, summarize)
    records = read_jsonl(tmp_path / "fr" / "trained_en.jsonl")
    assert records[1]["choices"] == ["dddd", "ccc", "bb", "a"] and records[1]["prediction"] == "D"
    changed = option_units(("a", "bb", "ccc", "eeee"))  # the same prompts and gold labels, other options
    assert complete_records(tmp_path / "fr" / "trained_en.jsonl", option_units()[0], scoring, "language") == records
    assert complete_records(tmp_path / "fr" / "trained_en.jsonl", changed[0], scoring, "language") is None
    with pytest.raises(ResumeError, match="inputs_sha256"):
        run_units(LengthLoglikelihood(), run, changed, scoring, summarize)
    # A task whose configuration decides the model asks before it makes the model.
    assert reusable_result(run, scoring, option_units()) == first
    assert reusable_result(replace(run, spec=ModelSpec.parse("gemma3-270m")), scoring, option_units()) == first
    assert reusable_result(run, scoring, changed) is None
    assert reusable_result(make_run(tmp_path, limit=3), scoring, option_units()) is None
    other_labels = Scoring(infer_mode="loglikelihood", labels=("1", "2", "3", "4"))
    assert reusable_result(run, other_labels, option_units()) is None
    not_its_own = {**first, "config": {**first["config"], "fingerprint_sha256": "0" * 64}}
    run.result_file.write_text(json.dumps(not_its_own))
    assert reusable_result(run, scoring, option_units()) is None
