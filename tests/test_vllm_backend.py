"""The vLLM backend's requests, against a stand-in engine that answers with a tiny HF model."""

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
import torch

from conftest import LABELS, demo_prompts
from crossknow.core.model_spec import ModelSpec
from crossknow.models.hf_backend import HFBackend, load_model
from crossknow.models.model_api import cut_at_stop, letter_token_ids
from crossknow.models.vllm_backend import VLLMBackend


@dataclass
class FakeSamplingParams:
    max_tokens: int = 16
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] | None = None
    logprobs: int | None = None
    allowed_token_ids: list[int] = field(default_factory=list)


class FakeLLM:
    """Answers like vLLM would: processed log-probs over the allowed ids, or greedy text."""

    def __init__(self, model, tokenizer):
        self.model, self.tokenizer, self.calls = model, tokenizer, []

    @torch.no_grad()
    def generate(self, inputs, params, use_tqdm=True):
        self.calls.append((inputs, params))
        outputs = []
        for item in inputs:
            ids = torch.tensor([item["prompt_token_ids"]])
            if params.allowed_token_ids:
                logits = self.model(ids).logits[0, -1, params.allowed_token_ids]
                logprobs = torch.log_softmax(logits.float(), -1).tolist()
                top = {t: SimpleNamespace(logprob=lp) for t, lp in zip(params.allowed_token_ids, logprobs)}
                outputs.append(SimpleNamespace(outputs=[SimpleNamespace(text="", logprobs=[top])]))
            else:
                out = self.model.generate(ids, max_new_tokens=params.max_tokens, do_sample=False,
                                          pad_token_id=self.tokenizer.pad_token_id)
                text = cut_at_stop(self.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True), params.stop)
                outputs.append(SimpleNamespace(outputs=[SimpleNamespace(text=text, logprobs=None)]))
        return outputs


@pytest.fixture
def backends(tiny_model_dir):
    model, tokenizer = load_model(ModelSpec.parse(str(tiny_model_dir)), dtype="fp32", device="cpu")
    fake = FakeLLM(model, tokenizer)
    vllm = VLLMBackend(ModelSpec.parse(str(tiny_model_dir)), llm=fake, tokenizer=tokenizer, sampling_params_cls=FakeSamplingParams)
    return HFBackend(model, tokenizer, batch_size=4), vllm, fake


def test_letter_scoring_requests_and_agreement_with_hf(backends):
    hf, vllm, fake = backends
    prompts = demo_prompts(k=1)[:6]
    expected = hf.score_letters(prompts, LABELS)
    got = vllm.score_letters(prompts, LABELS)
    inputs, params = fake.calls[-1]
    tokenizer = hf.tokenizer
    assert [i["prompt_token_ids"] for i in inputs] == [tokenizer(p.text).input_ids for p in prompts]
    candidates = sorted(set(letter_token_ids(tokenizer, LABELS, "paper") + letter_token_ids(tokenizer, LABELS, "space")))
    assert params.max_tokens == 1 and params.temperature == 0.0
    assert params.allowed_token_ids == candidates and params.logprobs == len(candidates)
    for a, b in zip(expected, got):
        for convention in ("paper", "space"):
            assert a.probs[convention] == pytest.approx(b.probs[convention], abs=1e-4)


def test_generation_requests(backends):
    hf, vllm, fake = backends
    prompts = demo_prompts()[:3]
    texts = vllm.generate(prompts, max_new_tokens=4)
    _, params = fake.calls[-1]
    assert params.max_tokens == 4 and params.temperature == 0.0 and params.seed is None
    assert texts == hf.generate(prompts, max_new_tokens=4)
    vllm.generate(prompts, max_new_tokens=4, do_sample=True, seed=7)
    _, params = fake.calls[-1]
    assert params.temperature == 1.0 and params.seed == 7
    vllm.generate(prompts, max_new_tokens=4, stop=["\n\n"])
    assert fake.calls[-1][1].stop == ["\n\n"]


def test_the_backend_declares_what_it_offers(backends):
    from crossknow.models.model_api import GENERATION, LETTER_SCORES, UnsupportedOperation

    _, vllm, _ = backends
    assert vllm.capabilities == {LETTER_SCORES, GENERATION}
    with pytest.raises(UnsupportedOperation, match="the vllm backend cannot give loglikelihood"):
        vllm.loglikelihood(["text"])
    assert vllm.describe() == {"backend": "vllm", "dtype": "auto", "tensor_parallel_size": 1, "prefix_cache": True}


def test_missing_vllm_is_a_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_vllm(name, *args, **kwargs):
        if name == "vllm":
            raise ImportError("No module named 'vllm'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_vllm)
    from crossknow.models.vllm_backend import _vllm

    with pytest.raises(ImportError, match="pip install vllm"):
        _vllm()
