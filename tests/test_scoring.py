"""Letter scoring on tiny models: batch invariance, agreement with the paper's method, token ids."""

import pytest
import torch

from conftest import DEMO_DATA
from crossknow.evaluate import Settings, load_config_data, make_config, subject_prompts
from crossknow.hf_backend import HFBackend, letter_token_ids, load_model
from crossknow.mmlu import LocalSource

LABELS = ("A", "B", "C", "D")


def demo_prompts(k: int = 0, variant: str = "mixup"):
    settings = Settings(k=k, subjects=["management", "high_school_geography"])
    data = load_config_data(LocalSource(DEMO_DATA), make_config(variant), settings)
    return [p for s, d in data.items() for p in subject_prompts(s, d, settings)]


def paper_method_probs(model, tokenizer, prompt_text: str, ids: list[int]) -> list[float]:
    """The paper's scoring: batch 1, full-sequence logits, softmax over the letters' logits."""
    input_ids = tokenizer(prompt_text, return_tensors="pt").input_ids
    with torch.no_grad():
        logits = model(input_ids=input_ids).logits[0, -1]
    return torch.softmax(logits[ids].float(), dim=0).tolist()


@pytest.mark.parametrize("prefix_cache", [False, True])
def test_batch_size_does_not_change_predictions(tiny_model_dir, prefix_cache):
    model, tokenizer = load_model(str(tiny_model_dir), dtype="fp32", device="cpu")
    prompts = demo_prompts(k=2)
    one = HFBackend(model, tokenizer, batch_size=1, prefix_cache=prefix_cache).score(prompts, LABELS)
    many = HFBackend(model, tokenizer, batch_size=7, prefix_cache=prefix_cache).score(prompts, LABELS)
    for a, b in zip(one, many):
        for convention in ("paper", "space"):
            assert a.probs[convention] == pytest.approx(b.probs[convention], abs=1e-4)
            argmax = max(range(4), key=a.probs[convention].__getitem__)
            assert argmax == max(range(4), key=b.probs[convention].__getitem__)


def test_engine_equals_the_paper_method(tiny_model_dir):
    model, tokenizer = load_model(str(tiny_model_dir), dtype="fp32", device="cpu")
    prompts = demo_prompts()[:8]
    ids = letter_token_ids(tokenizer, LABELS, "paper")
    scores = HFBackend(model, tokenizer, batch_size=4).score(prompts, LABELS)
    for prompt, score in zip(prompts, scores):
        assert score.probs["paper"] == pytest.approx(paper_method_probs(model, tokenizer, prompt.text, ids), abs=1e-4)


def test_letter_token_conventions(tiny_model_dir):
    _, tokenizer = load_model(str(tiny_model_dir), dtype="fp32", device="cpu")
    paper = letter_token_ids(tokenizer, LABELS, "paper")
    space = letter_token_ids(tokenizer, LABELS, "space")
    assert [tokenizer.convert_ids_to_tokens(i) for i in paper] != [None] * 4
    if tokenizer.bos_token == "<s>":  # SentencePiece style: "▁A" either way
        assert paper == space
        assert tokenizer.convert_ids_to_tokens(paper) == ["▁A", "▁B", "▁C", "▁D"]
    else:  # byte-level BPE: "A" vs "ĠA"
        assert tokenizer.convert_ids_to_tokens(paper) == ["A", "B", "C", "D"]
        assert tokenizer.convert_ids_to_tokens(space) == ["ĠA", "ĠB", "ĠC", "ĠD"]


class OOMOnLargeBatches(torch.nn.Module):
    """Wraps a model and raises CUDA-style out-of-memory for batches above a size."""

    def __init__(self, model, max_batch: int):
        super().__init__()
        self.inner, self.max_batch, self.seen = model, max_batch, []

    def forward(self, input_ids, **kwargs):
        self.seen.append(input_ids.shape[0])
        if input_ids.shape[0] > self.max_batch:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return self.inner(input_ids=input_ids, **kwargs)


def test_auto_batch_size_backs_off_on_out_of_memory(bpe_model_dir):
    model, tokenizer = load_model(str(bpe_model_dir), dtype="fp32", device="cpu")
    prompts = demo_prompts()[:20]
    reference = HFBackend(model, tokenizer, batch_size=1).score(prompts, LABELS)
    wrapped = OOMOnLargeBatches(model, max_batch=5)
    backend = HFBackend(wrapped, tokenizer, batch_size="auto", prefix_cache=False)
    backend.max_auto_batch_size = 16
    backend.min_batch_fill = 0.0
    scores = backend.score(prompts, LABELS)
    assert wrapped.seen[:3] == [16, 8, 4] and backend.batch_size_used == 4
    for a, b in zip(reference, scores):
        assert a.probs["paper"] == pytest.approx(b.probs["paper"], abs=1e-4)


def test_a_real_error_is_not_swallowed(bpe_model_dir):
    model, tokenizer = load_model(str(bpe_model_dir), dtype="fp32", device="cpu")
    wrapped = OOMOnLargeBatches(model, max_batch=0)
    with pytest.raises(torch.OutOfMemoryError):
        HFBackend(wrapped, tokenizer, batch_size=2).score(demo_prompts()[:2], LABELS)


def test_generation_is_batch_invariant_and_one_output_per_prompt(bpe_model_dir):
    model, tokenizer = load_model(str(bpe_model_dir), dtype="fp32", device="cpu")
    prompts = demo_prompts()[:6]
    one = HFBackend(model, tokenizer, batch_size=1).generate(prompts, max_new_tokens=5)
    many = HFBackend(model, tokenizer, batch_size=6).generate(prompts, max_new_tokens=5)
    assert len(one) == 6 and one == many


@pytest.mark.parametrize("k", [0, 5])
def test_prefix_reuse_equals_scoring_whole_prompts(tiny_model_dir, k):
    model, tokenizer = load_model(str(tiny_model_dir), dtype="fp32", device="cpu")
    prompts = demo_prompts(k=k, variant="full_de")
    whole = HFBackend(model, tokenizer, batch_size=8, prefix_cache=False).score(prompts, LABELS)
    reused = HFBackend(model, tokenizer, batch_size=8, prefix_cache=True).score(prompts, LABELS)
    for prompt, a, b in zip(prompts, whole, reused):
        for convention in ("paper", "space"):
            assert a.probs[convention] == pytest.approx(b.probs[convention], abs=1e-4)
        assert a.reused_prefix_tokens == 0
        prefix_tokens = len(tokenizer(prompt.prefix).input_ids)
        # The split point is at most the prefix's own tokens, and never far before them.
        assert prefix_tokens - 3 <= b.reused_prefix_tokens <= prefix_tokens
        full = tokenizer(prompt.text).input_ids
        assert full[: b.reused_prefix_tokens] == tokenizer(prompt.prefix).input_ids[: b.reused_prefix_tokens]


def test_prefix_reuse_falls_back_when_no_token_is_shared(bpe_model_dir):
    from crossknow.prompts import Prompt

    model, tokenizer = load_model(str(bpe_model_dir), dtype="fp32", device="cpu")
    prompts = [Prompt("", p.text) for p in demo_prompts()[:4]]  # BPE adds no BOS: nothing shared
    whole = HFBackend(model, tokenizer, batch_size=4, prefix_cache=False).score(prompts, LABELS)
    reused = HFBackend(model, tokenizer, batch_size=4, prefix_cache=True).score(prompts, LABELS)
    assert [s.reused_prefix_tokens for s in reused] == [0, 0, 0, 0]
    for a, b in zip(whole, reused):
        assert a.probs == b.probs


def test_loglikelihood_is_batch_invariant_and_matches_a_direct_computation(bpe_model_dir):
    model, tokenizer = load_model(str(bpe_model_dir), dtype="fp32", device="cpu")
    texts = ["What is a normative perspective?", "The way things should be.", "A. B. C."]
    many = HFBackend(model, tokenizer, batch_size=3).loglikelihood(texts)
    one = HFBackend(model, tokenizer, batch_size=1).loglikelihood(texts)
    assert many == pytest.approx(one, abs=1e-4)
    ids = torch.tensor([tokenizer(texts[0]).input_ids])
    with torch.no_grad():
        logprobs = torch.log_softmax(model(ids).logits[0, :-1], -1)
    assert one[0] == pytest.approx(logprobs.gather(-1, ids[0, 1:, None]).sum().item(), abs=1e-4)
