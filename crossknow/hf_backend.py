"""Hugging Face causal LMs: loading, batched letter scoring and batched generation.

Letter scoring follows the paper: one forward pass, the logits at the last prompt position,
softmax in fp32 over the candidate letters' logits, argmax. Two conventions for a letter's
token id are read from the same logits:

- ``paper``: the last id of ``tokenizer(letter)`` (the paper's code);
- ``space``: the token of `` A`` as it follows ``Answer:`` (lm-evaluation-harness).

On SentencePiece tokenizers they agree; on byte-level BPE (Llama-3, GPT-2, SmolLM2) they do not.

Shared-prefix reuse: prompts that share a prefix (the header and demonstrations of a subject) get
that prefix's key/value cache computed once; each question then runs only its own tokens on top
of it. The cached part is the longest run of tokens that every prompt of the group shares with the
tokenized prefix, so the model always sees exactly the tokens of the whole prompt (a BPE merge
across the text boundary only moves the split point earlier). The questions of a batch run packed
in one row on the single stored prefix (``crossknow/shared_prefix.py``); models whose attention
that module does not reproduce get the prefix cache copied once per question instead.
"""

from __future__ import annotations

import copy
import functools
import inspect
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from crossknow.embedded import EMBEDDED_ALIASES, GEMMA_ALIASES, embedded_model_path
from crossknow.prompts import Prompt
from crossknow.shared_prefix import SharedPrefixUnsupported, cache_tensors, packed_forward

ANSWER_TOKEN_CONVENTIONS = ("paper", "space")
DTYPES = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16,
          "fp16": torch.float16, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}


def resolve_model_path(model: str) -> tuple[str, str | None]:
    """(folder or hub name, gguf file name or None) for a model argument."""
    if model.lower() in EMBEDDED_ALIASES | GEMMA_ALIASES:
        return str(embedded_model_path(model)), None
    if model.endswith(".gguf"):
        path = Path(model)
        if not path.is_file():
            raise FileNotFoundError(f"{model}: GGUF file not found")
        return str(path.parent), path.name
    return model, None


def resolve_dtype(dtype: str, device: str) -> torch.dtype:
    """``auto`` is fp16 on GPU (the paper's setting) and fp32 on CPU."""
    if dtype == "auto":
        return torch.float16 if device.startswith("cuda") else torch.float32
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose auto or one of {', '.join(DTYPES)}")
    return DTYPES[dtype]


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_tokenizer(model: str, arch: str | None = None):
    """The tokenizer of ``arch`` when given (fine-tuned checkpoints), else of ``model``."""
    from transformers import AutoTokenizer

    path, gguf_file = resolve_model_path(arch or model)
    tokenizer = AutoTokenizer.from_pretrained(path, gguf_file=gguf_file)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(model: str, arch: str | None = None, dtype: str = "auto", device: str | None = None):
    """(model, tokenizer) from a hub name, a local folder, a ``.gguf`` file or ``smollm2``."""
    from transformers import AutoModelForCausalLM

    device = device or default_device()
    path, gguf_file = resolve_model_path(model)
    kwargs = {"dtype": resolve_dtype(dtype, device), "gguf_file": gguf_file}
    if device.startswith("cuda"):
        # "cuda" spreads a large model over every visible GPU; "cuda:N" (one data-parallel
        # process) keeps it on that GPU.
        kwargs["device_map"] = "auto" if device == "cuda" else {"": device}
    hf_model = AutoModelForCausalLM.from_pretrained(path, **kwargs).eval()
    if not device.startswith("cuda"):
        hf_model.to(device)
    return hf_model, load_tokenizer(model, arch)


def letter_token_ids(tokenizer, labels: tuple[str, ...], convention: str) -> list[int]:
    if convention == "paper":
        return [tokenizer(label).input_ids[-1] for label in labels]
    if convention == "space":
        context = tokenizer("Answer:", add_special_tokens=False).input_ids
        ids = []
        for label in labels:
            full = tokenizer(f"Answer: {label}", add_special_tokens=False).input_ids
            ids.append(full[len(context)] if full[: len(context)] == context else full[-1])
        return ids
    raise ValueError(f"unknown answer token convention {convention!r}; choose paper or space")


@dataclass
class LetterScores:
    """Probabilities of the candidate letters under both token conventions."""

    probs: dict[str, list[float]]
    reused_prefix_tokens: int = 0


def common_prefix_length(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class FirstLineDone:
    """A stopping criterion: a sequence is done once its generated text has a line break after
    some non-blank text (a leading blank line does not end it)."""

    def __init__(self, tokenizer, prompt_length: int):
        self.tokenizer, self.prompt_length = tokenizer, prompt_length

    def __call__(self, input_ids: torch.Tensor, scores, **kwargs) -> torch.Tensor:
        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_length:], skip_special_tokens=True)
        return torch.tensor([t.lstrip().find("\n") > 0 for t in texts], device=input_ids.device)


def is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, torch.OutOfMemoryError) or "out of memory" in str(error).lower()


class HFBackend:
    """Batched letter scoring and generation on a Hugging Face causal LM."""

    name = "hf"
    max_auto_batch_size = 64
    # A batch stops growing at a prompt shorter than this share of its longest one: padding is
    # wasted work, most of all on CPU where a larger batch buys little.
    min_batch_fill = 0.75

    def __init__(self, model, tokenizer, batch_size: int | str = "auto", prefix_cache: bool = True):
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.prefix_cache = prefix_cache
        self.packed_attention = True
        self.show_progress = True
        self.device = next(model.parameters()).device

    def encode(self, prompts: list[Prompt]) -> list[list[int]]:
        return [self.tokenizer(p.text).input_ids for p in prompts]

    def _pad_left(self, sequences: list[list[int]]):
        width = max(len(s) for s in sequences)
        pad_id = self.tokenizer.pad_token_id
        input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, seq in enumerate(sequences):
            input_ids[row, width - len(seq):] = torch.tensor(seq)
            attention_mask[row, width - len(seq):] = 1
        return input_ids.to(self.device), attention_mask.to(self.device)

    @torch.inference_mode()
    def last_logits(self, sequences: list[list[int]], token_ids: list[int]) -> torch.Tensor:
        """fp32 logits of ``token_ids`` at each sequence's last position, shape [batch, ids]."""
        input_ids, attention_mask = self._pad_left(sequences)
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        out = self.model(input_ids=input_ids, attention_mask=attention_mask,
                         position_ids=position_ids, logits_to_keep=1, use_cache=False)
        return out.logits[:, -1, token_ids].float().cpu()

    @torch.inference_mode()
    def last_logits_after_prefix(self, cache, prefix_length: int, suffixes: list[list[int]],
                                 token_ids: list[int]) -> torch.Tensor:
        """Like ``last_logits`` for prompts = cached prefix + suffix (suffixes left-padded)."""
        input_ids, suffix_mask = self._pad_left(suffixes)
        batch = len(suffixes)
        prefix_mask = torch.ones((batch, prefix_length), dtype=torch.long, device=self.device)
        attention_mask = torch.cat([prefix_mask, suffix_mask], dim=1)
        position_ids = prefix_length + (suffix_mask.cumsum(-1) - 1).clamp(min=0)
        past = copy.deepcopy(cache)  # the forward pass appends to it
        past.batch_repeat_interleave(batch)
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                         use_cache=True, logits_to_keep=1, **{self._cache_argument: past})
        return out.logits[:, -1, token_ids].float().cpu()

    @functools.cached_property
    def _cache_argument(self) -> str:
        # transformers renamed ``past_key_values`` to ``cache`` during 5.x.
        params = inspect.signature(self.model.forward).parameters
        return "cache" if "cache" in params else "past_key_values"

    @torch.inference_mode()
    def prefix_kv_cache(self, prefix_ids: list[int]):
        out = self.model(input_ids=torch.tensor([prefix_ids], device=self.device), use_cache=True,
                         logits_to_keep=1)
        return out.cache if getattr(out, "cache", None) is not None else out.past_key_values

    def score(self, prompts: list[Prompt], labels: tuple[str, ...], desc: str = "scoring") -> list[LetterScores]:
        ids = {c: letter_token_ids(self.tokenizer, labels, c) for c in ANSWER_TOKEN_CONVENTIONS}
        union = ids["paper"] + ids["space"]
        if self.prefix_cache:
            logits, reused = self._logits_with_prefix_reuse(prompts, union, desc)
        else:
            logits = self._run_batched(self.encode(prompts), lambda b: self.last_logits(b, union), desc)
            reused = [0] * len(prompts)
        n = len(labels)
        return [
            LetterScores({"paper": torch.softmax(row[:n], -1).tolist(),
                          "space": torch.softmax(row[n:], -1).tolist()}, shared)
            for row, shared in zip(logits, reused)
        ]

    def _logits_with_prefix_reuse(self, prompts: list[Prompt], token_ids: list[int], desc: str):
        groups: dict[str, list[int]] = {}
        for i, prompt in enumerate(prompts):
            groups.setdefault(prompt.prefix, []).append(i)
        logits: list = [None] * len(prompts)
        reused = [0] * len(prompts)
        for prefix, members in groups.items():
            full = [self.tokenizer(prompts[i].text).input_ids for i in members]
            prefix_ids = self.tokenizer(prefix).input_ids
            # Every prompt keeps at least one token of its own to run.
            shared = min(min(common_prefix_length(prefix_ids, f), len(f) - 1) for f in full)
            if shared < 1:  # nothing in common at the token level: score whole prompts
                rows = self._run_batched(full, lambda b: self.last_logits(b, token_ids), desc)
            else:
                rows = self._score_suffixes(prefix_ids[:shared], [f[shared:] for f in full], token_ids, desc)
            for i, row in zip(members, rows):
                logits[i], reused[i] = row, max(shared, 0)
        return logits, reused

    def _score_suffixes(self, prefix_ids: list[int], suffixes: list[list[int]], token_ids: list[int], desc: str):
        cache = self.prefix_kv_cache(prefix_ids)
        if self.packed_attention:
            keys, values = cache_tensors(cache)

            def packed(batch: list[list[int]]) -> torch.Tensor:
                logits = packed_forward(self.model, keys, values, len(prefix_ids), batch)
                return logits[:, token_ids].float().cpu()

            try:
                return self._run_batched(suffixes, packed, desc)
            except SharedPrefixUnsupported:
                self.packed_attention = False  # this model: copy the cache per question instead
        step = functools.partial(self.last_logits_after_prefix, cache, len(prefix_ids), token_ids=token_ids)
        return self._run_batched(suffixes, step, desc)

    def _run_batched(self, sequences: list[list[int]], step, desc: str) -> list:
        """Run ``step`` on length-sorted batches (longest first); back off on out-of-memory."""
        order = sorted(range(len(sequences)), key=lambda i: -len(sequences[i]))
        auto = self.batch_size == "auto"
        batch_size = min(self.max_auto_batch_size, len(order)) if auto else int(self.batch_size)
        results: list = [None] * len(sequences)
        start = 0
        with tqdm(total=len(order), desc=desc, leave=False, disable=len(order) < 2 or not self.show_progress) as bar:
            while start < len(order):
                batch = order[start:start + batch_size]
                longest = len(sequences[batch[0]])
                batch = [i for i in batch if len(sequences[i]) >= self.min_batch_fill * longest]
                try:
                    outputs = step([sequences[i] for i in batch])
                except (RuntimeError, torch.OutOfMemoryError) as error:
                    if not (auto and is_out_of_memory(error) and batch_size > 1):
                        raise
                    batch_size = max(1, batch_size // 2)
                    if torch.cuda.is_available():
                        torch.cuda.empty_cache()
                    continue
                for i, out in zip(batch, outputs):
                    results[i] = out
                start += len(batch)
                bar.update(len(batch))
        if auto:
            self.batch_size_used = batch_size
        return results

    @torch.inference_mode()
    def loglikelihood(self, texts: list[str], desc: str = "likelihood") -> list[float]:
        """The summed log-probability of each text's tokens (after the first), batched."""

        def step(batch: list[list[int]]) -> list[float]:
            input_ids, attention_mask = self._pad_left(batch)
            position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
            logits = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                position_ids=position_ids, use_cache=False).logits.float()
            logprobs = torch.log_softmax(logits[:, :-1], -1).gather(-1, input_ids[:, 1:, None])[..., 0]
            scored = attention_mask[:, 1:] * attention_mask[:, :-1]  # not the first token: no context
            return (logprobs * scored).sum(-1).cpu().tolist()

        return self._run_batched([self.tokenizer(t).input_ids for t in texts], step, desc)

    @torch.inference_mode()
    def generate(self, prompts: list[Prompt], max_new_tokens: int, do_sample: bool = False,
                 seed: int = 0, desc: str = "generating", first_line_only: bool = False,
                 num_beams: int = 1) -> list[str]:
        """Batched generation; ``first_line_only`` stops a sequence once it has a non-empty line."""
        if do_sample:
            torch.manual_seed(seed)

        def step(batch: list[list[int]]) -> list[str]:
            input_ids, attention_mask = self._pad_left(batch)
            stop = [FirstLineDone(self.tokenizer, input_ids.shape[1])] if first_line_only else []
            out = self.model.generate(
                input_ids=input_ids, attention_mask=attention_mask, max_new_tokens=max_new_tokens,
                do_sample=do_sample, pad_token_id=self.tokenizer.pad_token_id, num_beams=num_beams,
                **({"stopping_criteria": stop} if stop else {}),
                **({} if do_sample else {"temperature": None, "top_p": None, "top_k": None}),
            )
            return self.tokenizer.batch_decode(out[:, input_ids.shape[1]:], skip_special_tokens=True)

        return self._run_batched(self.encode(prompts), step, desc)

