"""vLLM backend (``--backend vllm``): letter scoring and generation on vLLM, imported lazily.

The prompt token ids are built by this project's tokenizer code, exactly as the Hugging Face
backend builds them (same BOS handling), and handed to vLLM as token ids. Letter scoring asks for
one generated token restricted to the candidate letter ids, with their log-probabilities after
that restriction (``logprobs_mode="processed_logprobs"``). Over a subset, log-probabilities differ
from logits by one constant, so their softmax over the four letters equals the paper's softmax over
the letter logits. This avoids ``prompt_logprobs``, which is slow and bypasses vLLM's automatic
prefix caching (on here, so each subject's shared header and demos are computed once).
"""

from __future__ import annotations

import math

import torch

from crossknow.core.model_spec import ModelSpec, require_spec
from crossknow.core.prompt import Prompt
from crossknow.models.loading import load_tokenizer
from crossknow.models.model_api import (
    ANSWER_TOKEN_CONVENTIONS,
    GENERATION,
    LETTER_SCORES,
    LOGLIKELIHOOD,
    LetterScores,
    letter_token_ids,
    require,
)


def _vllm():
    try:
        import vllm
    except ImportError as error:
        raise ImportError("--backend vllm needs the optional dependency vllm: pip install vllm") from error
    return vllm


class VLLMBackend:
    """The contract on vLLM: letter scores and generation (no loglikelihood)."""

    name = "vllm"
    capabilities = frozenset({LETTER_SCORES, GENERATION})

    def __init__(self, spec: ModelSpec, dtype: str = "auto", tensor_parallel_size: int = 1,
                 seed: int = 0, llm=None, tokenizer=None, sampling_params_cls=None, **engine_kwargs):
        spec = require_spec(spec, "VLLMBackend")
        if tokenizer is None:
            tokenizer = load_tokenizer(spec)
        self.tokenizer = tokenizer
        self.tensor_parallel_size, self.dtype = tensor_parallel_size, dtype
        if llm is None:
            vllm = _vllm()
            path, gguf_file = spec.location()
            tokenizer_path = spec.tokenizer_location()[0]
            llm = vllm.LLM(model=f"{path}/{gguf_file}" if gguf_file else path, tokenizer=tokenizer_path,
                           dtype={"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}.get(dtype, dtype),
                           tensor_parallel_size=tensor_parallel_size, enable_prefix_caching=True,
                           logprobs_mode="processed_logprobs", seed=seed, **engine_kwargs)
            sampling_params_cls = vllm.SamplingParams
        self.llm = llm
        self.sampling_params_cls = sampling_params_cls

    def describe(self) -> dict:
        return {"backend": self.name, "dtype": self.dtype, "tensor_parallel_size": self.tensor_parallel_size,
                "prefix_cache": True}

    def prompt_inputs(self, prompts: list[Prompt]) -> list[dict]:
        return [{"prompt_token_ids": self.tokenizer(p.text).input_ids} for p in prompts]

    def answer_token_ids(self, labels: tuple[str, ...]) -> dict[str, list[int]]:
        return {c: letter_token_ids(self.tokenizer, labels, c) for c in ANSWER_TOKEN_CONVENTIONS}

    def score_letters(self, prompts: list[Prompt], labels: tuple[str, ...], desc: str = "scoring") -> list[LetterScores]:
        ids = self.answer_token_ids(labels)
        candidates = sorted(set(ids["paper"] + ids["space"]))
        params = self.sampling_params_cls(max_tokens=1, temperature=0.0, allowed_token_ids=candidates,
                                          logprobs=len(candidates))
        outputs = self.llm.generate(self.prompt_inputs(prompts), params, use_tqdm=False)
        scores = []
        for output in outputs:
            logprobs = output.outputs[0].logprobs[0]
            value = {t: logprobs[t].logprob if t in logprobs else -math.inf for t in candidates}
            scores.append(LetterScores({
                c: torch.softmax(torch.tensor([value[t] for t in ids[c]], dtype=torch.float32), -1).tolist()
                for c in ANSWER_TOKEN_CONVENTIONS}))
        return scores

    def loglikelihood(self, texts: list[str], desc: str = "likelihood") -> list[float]:
        require(self, LOGLIKELIHOOD)

    def generate(self, prompts: list[Prompt], max_new_tokens: int, do_sample: bool = False, seed: int = 0,
                 stop: list[str] | None = None, desc: str = "generating") -> list[str]:
        params = self.sampling_params_cls(max_tokens=max_new_tokens, temperature=1.0 if do_sample else 0.0,
                                          top_p=1.0, seed=seed if do_sample else None, stop=stop or None)
        outputs = self.llm.generate(self.prompt_inputs(prompts), params, use_tqdm=False)
        return [o.outputs[0].text for o in outputs]
