"""One command-line vocabulary: every script spells a shared concept with the same flag, and the old
spellings (the paper's, older scripts') still parse to the same setting.

Each script's ``main`` runs up to its argument parsing, which is stopped there: no work starts.
"""

from __future__ import annotations

import argparse
import functools

import pytest

from conftest import DEMO_DATA, load_script

CANONICAL = ("--model", "--languages", "--limit", "--output_dir", "--overwrite", "--seed", "--batch_size",
             "--device", "--dtype")
EVERYTHING = frozenset(CANONICAL)

# The canonical flags of the concepts each script has.
CONCEPTS = {
    "MMLU/eval.py": EVERYTHING,
    "HP/evaluate.py": EVERYTHING,
    "MMLU/translate.py": {"--model", "--languages", "--limit", "--output_dir", "--overwrite", "--seed", "--batch_size"},
    "MMLU/bench.py": {"--model", "--limit", "--batch_size", "--device", "--dtype"},
    "MMLU/bench_translate.py": {"--model", "--limit", "--batch_size"},
    "MMLU/bench_report.py": {"--output_dir"},
    "MMLU/build_variants.py": {"--languages", "--seed", "--overwrite"},
    "MMLU/fetch_data.py": {"--output_dir", "--overwrite"},
    "HP/extract_wiki103_hp.py": {"--output_dir"},
    "FT/make_mixed_corpus.py": {"--model", "--languages", "--seed", "--batch_size", "--output_dir"},
    "FT/finetune.py": {"--model", "--output_dir", "--seed"},
    "Translation/translate.py": {"--model", "--languages", "--limit", "--output_dir", "--overwrite", "--batch_size"},
    "Translation/evaluate.py": {"--limit", "--output_dir"},
    "Translation/embedding_analysis.py": {"--model", "--languages", "--limit", "--output_dir", "--seed",
                                          "--batch_size"},
    "Synthetic/experiment.py": {"--model", "--output_dir", "--overwrite", "--seed", "--batch_size"},
}

# What each script needs to parse at all (its required flags).
REQUIRED = {
    "HP/extract_wiki103_hp.py": ["--output_dir", "out"],
    "FT/make_mixed_corpus.py": ["--output_dir", "out"],
    "Translation/evaluate.py": ["--output_dir", "out"],
    "Translation/embedding_analysis.py": ["--output_dir", "out"],
    "MMLU/build_variants.py": ["--data_dir", "."],
    "MMLU/translate.py": ["--data_dir", str(DEMO_DATA)],  # its default, MMLU/data/full, is fetched
}

# (script, old spelling, canonical spelling): both must give the same parsed settings.
ALIASES = [
    ("MMLU/eval.py", ["--save_dir", "out"], ["--output_dir", "out"]),
    ("MMLU/eval.py", ["--out_dir", "out"], ["--output_dir", "out"]),
    ("MMLU/eval.py", ["--num_examples", "3"], ["--limit", "3"]),
    ("MMLU/eval.py", ["-n", "3"], ["--limit", "3"]),
    ("MMLU/eval.py", ["--langs", "fr", "de"], ["--languages", "fr", "de"]),
    ("MMLU/eval.py", ["--lang", "fr"], ["--languages", "fr"]),
    ("MMLU/eval.py", ["-m", "gpt2"], ["--model", "gpt2"]),
    ("MMLU/eval.py", ["--data", "."], ["--data_dir", "."]),
    ("HP/evaluate.py", ["--model_name", "gpt2"], ["--model", "gpt2"]),
    ("HP/evaluate.py", ["--save_dir", "out"], ["--output_dir", "out"]),
    ("HP/evaluate.py", ["--langs", "all"], ["--languages", "all"]),
    ("HP/evaluate.py", ["--num_examples", "2"], ["--limit", "2"]),
    ("MMLU/translate.py", ["--out_dir", "out"], ["--output_dir", "out"]),
    ("MMLU/fetch_data.py", ["--out_dir", "out"], ["--output_dir", "out"]),
    ("MMLU/bench_report.py", ["--out", "out"], ["--output_dir", "out"]),
    ("MMLU/bench.py", ["--num_examples", "4"], ["--limit", "4"]),
    ("MMLU/bench_translate.py", ["-n", "4"], ["--limit", "4"]),
    ("HP/extract_wiki103_hp.py", ["--out_dir", "x"], ["--output_dir", "x"]),
    ("FT/make_mixed_corpus.py", ["--out_dir", "x"], ["--output_dir", "x"]),
    ("Translation/translate.py", ["--num_examples", "5"], ["--limit", "5"]),
    ("Translation/evaluate.py", ["--outputs_dir", "a", "b"], ["--output_dir", "a", "b"]),
    ("Translation/evaluate.py", ["--num_examples", "5"], ["--limit", "5"]),
    ("Translation/embedding_analysis.py", ["--num_examples", "5"], ["--limit", "5"]),
    ("Synthetic/experiment.py", ["--seeds", "3"], ["--seed", "3"]),
    ("FT/finetune.py", ["--LoRA.r", "8"], ["--lora_r", "8"]),
    ("FT/finetune.py", ["--LoRA.target_modules", "q_proj"], ["--lora_target_modules", "q_proj"]),
]


class Parsed(Exception):
    """Raised in place of the parse's return: carries the parser and what it parsed."""

    def __init__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace):
        super().__init__("parsed")
        self.parser, self.namespace = parser, namespace


@functools.cache
def script(path: str):
    return load_script(path)


@pytest.fixture
def parse(monkeypatch):
    """``parse(script, argv)``: the script's parser and its parsed arguments, before any work."""
    real = argparse.ArgumentParser.parse_known_args

    def stop_after_parsing(self, args=None, namespace=None):
        namespace, rest = real(self, args, namespace)
        if not self.add_help:  # a first pass for one flag (FT's --config): not the script's parser
            return namespace, rest
        raise Parsed(self, namespace)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_known_args", stop_after_parsing)

    def run(path: str, argv: list[str]) -> Parsed:
        with pytest.raises(Parsed) as caught:
            script(path).main(REQUIRED.get(path, []) + argv)
        return caught.value

    return run


@pytest.mark.parametrize("path", sorted(CONCEPTS))
def test_each_script_has_the_canonical_flag_of_each_concept_it_has(path, parse):
    flags = set(parse(path, []).parser._option_string_actions)
    assert CONCEPTS[path] <= flags, f"missing: {sorted(CONCEPTS[path] - flags)}"


@pytest.mark.parametrize("path", sorted(CONCEPTS))
def test_the_help_shows_the_canonical_flags(path, parse, capsys):
    with pytest.raises(SystemExit) as exit_:
        script(path).main(["--help"])
    assert exit_.value.code == 0
    shown = capsys.readouterr().out
    for flag in CONCEPTS[path]:
        assert f"{flag} " in shown or f"{flag}," in shown or f"{flag}\n" in shown, flag


@pytest.mark.parametrize("path, old, canonical", ALIASES, ids=[f"{p}:{o[0]}" for p, o, _ in ALIASES])
def test_old_spellings_parse_to_the_same_setting(path, old, canonical, parse):
    assert vars(parse(path, old).namespace) == vars(parse(path, canonical).namespace)
    assert vars(parse(path, old).namespace) != vars(parse(path, []).namespace)  # the flag did set something


def test_a_canonical_flag_takes_the_same_values_everywhere(parse):
    for path in ("MMLU/eval.py", "HP/evaluate.py", "MMLU/translate.py", "Translation/translate.py"):
        args = parse(path, ["--limit", "7", "--languages", "fr"]).namespace
        assert (args.limit, args.languages) == (7, ["fr"]), path
