"""Shared-prefix attention: packed suffixes on one prefix equal whole prompts, on several attention kinds."""

import pytest
import torch

from conftest import LABELS, build_tokenizer, demo_prompts
from crossknow.core.model_spec import ModelSpec
from crossknow.models.hf_backend import HFBackend, load_model
from crossknow.models.shared_prefix import SharedPrefixUnsupported, cache_tensors, packed_forward


def tiny(config_class, model_class, tokenizer, **extra):
    torch.manual_seed(0)
    config = config_class(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=4096,
                          pad_token_id=tokenizer.eos_token_id, **extra)
    return model_class(config).eval()


def whole_prompt_logits(model, ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids])).logits[0, -1]


def packed_logits(model, prefix: list[int], suffixes: list[list[int]]) -> torch.Tensor:
    with torch.no_grad():
        out = model(input_ids=torch.tensor([prefix]), use_cache=True)
    cache = out.cache if getattr(out, "cache", None) is not None else out.past_key_values
    keys, values = cache_tensors(cache)
    return packed_forward(model, keys, values, len(prefix), suffixes)


SUFFIXES = [" Answer: A", " B. C. D. Answer: B C D A B", " A. B. Answer:"]


def family_model(family: str, tokenizer):
    """Tiny models of the attention kinds the packed path reproduces."""
    import transformers as tf

    if family == "llama":
        return tiny(tf.LlamaConfig, tf.LlamaForCausalLM, tokenizer)
    if family.startswith("mistral"):  # sliding windows shorter and longer than the prompts
        window = int(family.split("-")[1])
        return tiny(tf.MistralConfig, tf.MistralForCausalLM, tokenizer, sliding_window=window)
    if family == "qwen2":
        return tiny(tf.Qwen2Config, tf.Qwen2ForCausalLM, tokenizer)
    # Gemma 3: a sliding layer then a full one; its cache keeps only the window's last keys.
    return tiny(tf.Gemma3TextConfig, tf.Gemma3ForCausalLM, tokenizer, sliding_window=6,
                layer_types=["sliding_attention", "full_attention"])


@pytest.mark.parametrize("family", ["llama", "mistral-6", "mistral-40", "qwen2", "gemma3"])
def test_packed_suffixes_equal_whole_prompts(family):
    tokenizer = build_tokenizer("bpe")
    model = family_model(family, tokenizer)
    prefix = tokenizer("The following are multiple choice questions (with answers) about A. B. C. D.").input_ids
    suffixes = [tokenizer(s).input_ids for s in SUFFIXES]
    assert len(prefix) > 6
    got = packed_logits(model, prefix, suffixes)
    assert got.shape[0] == len(suffixes)
    for row, suffix in zip(got, suffixes):
        torch.testing.assert_close(row, whole_prompt_logits(model, prefix + suffix), atol=1e-4, rtol=0)
    assert model.config._attn_implementation == "sdpa"  # the model's own attention is back


def test_one_question_never_sees_another():
    """Changing one packed suffix leaves the other suffixes' logits unchanged."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer("bpe")
    model = tiny(LlamaConfig, LlamaForCausalLM, tokenizer)
    prefix = tokenizer("The following are").input_ids
    suffixes = [tokenizer(s).input_ids for s in SUFFIXES]
    a = packed_logits(model, prefix, suffixes)
    b = packed_logits(model, prefix, [suffixes[0], tokenizer(" D. D. D. D. D. D. D.").input_ids, suffixes[2]])
    torch.testing.assert_close(a[[0, 2]], b[[0, 2]], atol=1e-5, rtol=0)
    assert not torch.allclose(a[1], b[1])


def test_soft_capped_attention_is_refused():
    from transformers import Gemma2Config, Gemma2ForCausalLM

    tokenizer = build_tokenizer("bpe")
    model = tiny(Gemma2Config, Gemma2ForCausalLM, tokenizer, attn_logit_softcapping=50.0, sliding_window=64)
    model.set_attn_implementation("eager")
    prefix = tokenizer("The following are").input_ids
    with pytest.raises(SharedPrefixUnsupported, match="soft-capping"):
        packed_logits(model, prefix, [tokenizer(" Answer:").input_ids])
    assert model.config._attn_implementation == "eager"


@pytest.mark.parametrize("packed", [True, False])
def test_backend_uses_packed_attention_and_the_cache_fallback_alike(tiny_model_dir, packed):
    model, tokenizer = load_model(ModelSpec.parse(str(tiny_model_dir)), dtype="fp32", device="cpu")
    prompts = demo_prompts(k=3, variant="question_fr")
    whole = HFBackend(model, tokenizer, batch_size=6, prefix_cache=False).score_letters(prompts, LABELS)
    attention = "packed" if packed else "batched_cache"
    backend = HFBackend(model, tokenizer, batch_size=6, attention=attention)
    reused = backend.score_letters(prompts, LABELS)
    assert backend.describe()["attention"] == attention  # the packed path ran without falling back
    for a, b in zip(whole, reused):
        assert b.reused_prefix_tokens > 0
        for convention in ("paper", "space"):
            assert a.probs[convention] == pytest.approx(b.probs[convention], abs=1e-4)


def test_backend_falls_back_to_the_cache_on_an_unsupported_model():
    from transformers import Gemma2Config, Gemma2ForCausalLM

    tokenizer = build_tokenizer("bpe")
    model = tiny(Gemma2Config, Gemma2ForCausalLM, tokenizer, attn_logit_softcapping=50.0, sliding_window=4096)
    model.set_attn_implementation("eager")
    tokenizer.pad_token = tokenizer.eos_token
    prompts = demo_prompts(k=2)[:6]
    whole = HFBackend(model, tokenizer, batch_size=3, prefix_cache=False).score_letters(prompts, LABELS)
    backend = HFBackend(model, tokenizer, batch_size=3)
    reused = backend.score_letters(prompts, LABELS)
    assert backend.describe()["attention"] == "batched_cache"
    for a, b in zip(whole, reused):
        assert b.reused_prefix_tokens > 0
        assert a.probs["paper"] == pytest.approx(b.probs["paper"], abs=1e-4)
