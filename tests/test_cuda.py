"""The engine on a CUDA GPU (skipped where there is none): the same invariants as on CPU."""

import pytest
import torch

from conftest import LABELS, demo_prompts
from crossknow.core.model_spec import ModelSpec
from crossknow.models.hf_backend import HFBackend, load_model

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")


def test_cuda_batching_and_prefix_reuse_match_batch_one_in_fp32(tiny_model_dir):
    model, tokenizer = load_model(ModelSpec.parse(str(tiny_model_dir)), dtype="fp32", device="cuda:0")
    assert next(model.parameters()).is_cuda
    prompts = demo_prompts(k=5, variant="full_fr")
    one = HFBackend(model, tokenizer, batch_size=1, prefix_cache=False).score_letters(prompts, LABELS)
    for prefix_cache, attention in ((False, None), (True, "batched_cache"), (True, "packed")):
        backend = HFBackend(model, tokenizer, batch_size=16, prefix_cache=prefix_cache,
                            attention=attention or "packed")
        many = backend.score_letters(prompts, LABELS)
        assert backend.describe()["attention"] == attention
        for a, b in zip(one, many):
            assert a.probs["paper"] == pytest.approx(b.probs["paper"], abs=1e-4)


def test_cuda_fp16_agrees_with_fp32(tiny_model_dir):
    prompts = demo_prompts(k=1)
    reference = HFBackend(*load_model(ModelSpec.parse(str(tiny_model_dir)), dtype="fp32", device="cuda:0")).score_letters(prompts, LABELS)
    half = HFBackend(*load_model(ModelSpec.parse(str(tiny_model_dir)), dtype="fp16", device="cuda:0")).score_letters(prompts, LABELS)
    for a, b in zip(reference, half):
        assert a.probs["paper"] == pytest.approx(b.probs["paper"], abs=5e-3)


def test_cuda_packed_prefix_attention_in_fp16_agrees_with_the_cache_path(tiny_model_dir):
    model, tokenizer = load_model(ModelSpec.parse(str(tiny_model_dir)), dtype="fp16", device="cuda:0")
    prompts = demo_prompts(k=5, variant="full_de")
    cached = HFBackend(model, tokenizer, batch_size=16, attention="batched_cache")
    packed = HFBackend(model, tokenizer, batch_size=16)
    for a, b in zip(cached.score_letters(prompts, LABELS), packed.score_letters(prompts, LABELS)):
        assert a.probs["paper"] == pytest.approx(b.probs["paper"], abs=5e-3)
    assert packed.describe()["attention"] == "packed"
