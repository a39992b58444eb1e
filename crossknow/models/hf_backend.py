"""Hugging Face causal LMs: loading, and the backend that scores letters, likelihoods and generates.

Letter scoring follows the paper: one forward pass, the logits at the last prompt position,
softmax in fp32 over the candidate letters' logits, argmax, under both answer-token conventions
(``crossknow/models/model_api.py``). Batching lives in ``crossknow/models/batching.py``, shared-prefix reuse in
``crossknow/models/prefix_reuse.py``, the tokenizer and device in ``crossknow/models/loading.py``
(re-exported here); this module loads the model and keeps the contract.
"""

from __future__ import annotations

import hashlib

import torch
from tqdm.auto import tqdm

from crossknow.core.model_spec import ModelSpec, require_spec
from crossknow.core.prompt import Prompt
from crossknow.models.batching import Batcher, pad_left
from crossknow.models.loading import default_device, load_tokenizer, local_only
from crossknow.models.model_api import (
    ANSWER_TOKEN_CONVENTIONS,
    GENERATION,
    LETTER_SCORES,
    LOGLIKELIHOOD,
    LetterScores,
    cut_at_stop,
    letter_token_ids,
)
from crossknow.models.prefix_reuse import PrefixReuse

DTYPES = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16,
          "fp16": torch.float16, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}


def resolve_dtype(dtype: str, device: str, gpu_default: str = "fp16") -> torch.dtype:
    """``auto`` is ``gpu_default`` on GPU (fp16, the paper's MMLU setting) and fp32 on CPU."""
    if dtype == "auto":
        return DTYPES[gpu_default] if device.startswith("cuda") else torch.float32
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose auto or one of {', '.join(DTYPES)}")
    return DTYPES[dtype]


def load_model(spec: ModelSpec, dtype: str = "auto", device: str | None = None, gpu_dtype: str = "fp16",
               revision: str | None = None, attn_implementation: str | None = None,
               trust_remote_code: bool = False):
    """(model, tokenizer) for a parsed model: a hub name, a local folder, a ``.gguf`` file or an
    embedded alias; the keyword options are ``--model_args``'s (remote code is never trusted unless
    asked)."""
    from transformers import AutoModelForCausalLM

    spec = require_spec(spec, "load_model")
    device = device or default_device()
    path, gguf_file = spec.location()
    kwargs = {"dtype": resolve_dtype(dtype, device, gpu_dtype), "gguf_file": gguf_file,
              "trust_remote_code": trust_remote_code, **local_only(spec)}
    if revision:
        kwargs["revision"] = revision
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if device.startswith("cuda"):
        # "cuda" spreads a large model over every visible GPU; "cuda:N" (one data-parallel
        # process) keeps it on that GPU.
        kwargs["device_map"] = "auto" if device == "cuda" else {"": device}
    hf_model = AutoModelForCausalLM.from_pretrained(path, **kwargs).eval()
    if not device.startswith("cuda"):
        hf_model.to(device)
    return hf_model, load_tokenizer(spec, revision=revision, trust_remote_code=trust_remote_code)


# transformers' values for sampling settings a model's generation config leaves unset
# (GenerationConfig._get_default_generation_params in transformers 5).
SAMPLING_DEFAULTS = {"temperature": 1.0, "top_p": 1.0, "top_k": 50}


class FirstLineDone:
    """A stopping criterion: a sequence is done once its generated text has a line break after
    some non-blank text (a leading blank line does not end it)."""

    def __init__(self, tokenizer, prompt_length: int):
        self.tokenizer, self.prompt_length = tokenizer, prompt_length

    def __call__(self, input_ids: torch.Tensor, scores, **kwargs) -> torch.Tensor:
        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_length:], skip_special_tokens=True)
        return torch.tensor([t.lstrip().find("\n") > 0 for t in texts], device=input_ids.device)


class HFBackend:
    """The contract on a Hugging Face causal LM: letter scores, loglikelihood, generation."""

    name = "hf"
    capabilities = frozenset({LETTER_SCORES, LOGLIKELIHOOD, GENERATION})

    def __init__(self, model, tokenizer, batch_size: int | str = "auto", prefix_cache: bool = True,
                 attention: str = "packed", show_progress: bool = True, max_auto_batch_size: int = 64,
                 min_batch_fill: float = 0.75, max_batch_tokens: int | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.device = next(model.parameters()).device
        self.batcher = Batcher(batch_size, max_auto_batch_size, min_batch_fill, show_progress, max_batch_tokens)
        self.prefix_reuse = PrefixReuse(model, tokenizer, self.batcher, attention) if prefix_cache else None

    def describe(self) -> dict:
        return {"backend": self.name, "device": str(self.device),
                "dtype": str(self.model.dtype).removeprefix("torch."), "batch_size": self.batcher.batch_size,
                "prefix_cache": self.prefix_reuse is not None,
                "attention": self.prefix_reuse.attention if self.prefix_reuse else None,
                "sampling": self.sampling_settings()}

    def sampling_settings(self) -> dict:
        """What sampled generation draws with: the model's own generation config, as generate() uses
        it (a value the model leaves unset takes transformers' default)."""
        config = self.model.generation_config
        return {key: default if getattr(config, key, None) is None else getattr(config, key)
                for key, default in SAMPLING_DEFAULTS.items()}

    def encode(self, prompts: list[Prompt]) -> list[list[int]]:
        return [self.tokenizer(p.text).input_ids for p in prompts]

    def context_length(self) -> int | None:
        """The most tokens the model takes (its position table), or None when its config does not say."""
        config = self.model.config
        return getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """How many tokens each text is, as the model is given it."""
        return [len(ids) for ids in self.tokenizer(texts).input_ids]

    def _pad_left(self, sequences: list[list[int]]):
        return pad_left(sequences, self.tokenizer.pad_token_id, self.device)

    @torch.inference_mode()
    def last_logits(self, sequences: list[list[int]], token_ids: list[int]) -> torch.Tensor:
        """fp32 logits of ``token_ids`` at each sequence's last position, shape [batch, ids]."""
        input_ids, attention_mask, position_ids = self._pad_left(sequences)
        out = self.model(input_ids=input_ids, attention_mask=attention_mask,
                         position_ids=position_ids, logits_to_keep=1, use_cache=False)
        return out.logits[:, -1, token_ids].float().cpu()

    def answer_token_ids(self, labels: tuple[str, ...]) -> dict[str, list[int]]:
        return {c: letter_token_ids(self.tokenizer, labels, c) for c in ANSWER_TOKEN_CONVENTIONS}

    def score_letters(self, prompts: list[Prompt], labels: tuple[str, ...],
                      desc: str = "scoring") -> list[LetterScores]:
        ids = self.answer_token_ids(labels)
        union = ids["paper"] + ids["space"]

        def whole(batch: list[list[int]]) -> torch.Tensor:
            return self.last_logits(batch, union)

        if self.prefix_reuse is not None:
            logits, reused = self.prefix_reuse.last_logits(prompts, union, whole, desc)
        else:
            logits, reused = self.batcher.run(self.encode(prompts), whole, desc), [0] * len(prompts)
        n = len(labels)
        return [
            LetterScores({"paper": torch.softmax(row[:n], -1).tolist(),
                          "space": torch.softmax(row[n:], -1).tolist()}, shared)
            for row, shared in zip(logits, reused)
        ]

    @torch.inference_mode()
    def loglikelihood(self, texts: list[str], desc: str = "likelihood") -> list[float]:
        """The summed log-probability of each text's tokens (after the first), batched."""

        def step(batch: list[list[int]]) -> list[float]:
            input_ids, attention_mask, position_ids = self._pad_left(batch)
            logits = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                position_ids=position_ids, use_cache=False).logits.float()
            logprobs = torch.log_softmax(logits[:, :-1], -1).gather(-1, input_ids[:, 1:, None])[..., 0]
            scored = attention_mask[:, 1:] * attention_mask[:, :-1]  # not the first token: no context
            return (logprobs * scored).sum(-1).cpu().tolist()

        return self.batcher.run([self.tokenizer(t).input_ids for t in texts], step, desc)

    @torch.inference_mode()
    def generate(self, prompts: list[Prompt], max_new_tokens: int, do_sample: bool = False,
                 seed: int = 0, stop: list[str] | None = None, desc: str = "generating",
                 first_line_only: bool = False, num_beams: int = 1) -> list[str]:
        """Batched generation, each text ending before its first ``stop`` string;
        ``first_line_only`` stops a sequence once it has a non-empty line. Sampled generation draws
        each prompt alone, seeded from (``seed``, the prompt's tokens): its text does not depend on the
        batch size, the order of the prompts or a resumed run."""

        def step(batch: list[list[int]]) -> list[str]:
            input_ids, attention_mask, _ = self._pad_left(batch)
            criteria = [FirstLineDone(self.tokenizer, input_ids.shape[1])] if first_line_only else []
            out = self.model.generate(
                input_ids=input_ids, attention_mask=attention_mask, max_new_tokens=max_new_tokens,
                do_sample=do_sample, pad_token_id=self.tokenizer.pad_token_id, num_beams=num_beams,
                **({"stopping_criteria": criteria} if criteria else {}),
                **({"stop_strings": stop, "tokenizer": self.tokenizer} if stop else {}),
                **({} if do_sample else {"temperature": None, "top_p": None, "top_k": None}),
            )
            texts = self.tokenizer.batch_decode(out[:, input_ids.shape[1]:], skip_special_tokens=True)
            return [cut_at_stop(t, stop) for t in texts]

        if do_sample:
            return [self._seeded(step, ids, seed) for ids in tqdm(self.encode(prompts), desc=desc, leave=False,
                                                               disable=len(prompts) < 2 or not self.batcher.show_progress)]
        return self.batcher.run(self.encode(prompts), step, desc)

    @staticmethod
    def _seeded(step, ids: list[int], seed: int) -> str:
        digest = hashlib.sha256(f"{seed}:{','.join(map(str, ids))}".encode()).digest()
        torch.manual_seed(int.from_bytes(digest[:8], "big"))
        return step([ids])[0]
