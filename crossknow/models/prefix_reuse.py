"""Shared-prefix reuse for letter scoring: the prefix runs once, each question only its own tokens.

Prompts that share a prefix (the header and demonstrations of a subject) get that prefix's
key/value cache computed once. The cached part is the longest run of tokens that every prompt of
the group shares with the tokenized prefix, so the model always sees exactly the tokens of the whole
prompt (a BPE merge across the text boundary only moves the split point earlier). Two paths:

- ``packed``: the questions of a batch run packed in one row on the single stored prefix
  (``crossknow/models/shared_prefix.py``);
- ``batched_cache``: the prefix cache is copied once per question of a batch, for models whose
  attention the packed path does not reproduce (it switches once, on ``SharedPrefixUnsupported``).
"""

from __future__ import annotations

import copy
import functools
import inspect

import torch

from crossknow.core.prompt import Prompt
from crossknow.models.batching import Batcher, pad_left
from crossknow.models.shared_prefix import SharedPrefixUnsupported, cache_tensors, packed_forward

ATTENTION_PATHS = ("packed", "batched_cache")


def common_prefix_length(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def group_by_prefix(prompts: list[Prompt]) -> dict[str, list[int]]:
    """Prompt indices per distinct prefix, in first-seen order."""
    groups: dict[str, list[int]] = {}
    for i, prompt in enumerate(prompts):
        groups.setdefault(prompt.prefix, []).append(i)
    return groups


class PrefixReuse:
    """Last-position logits of prompts, computing each shared prefix once."""

    def __init__(self, model, tokenizer, batcher: Batcher, attention: str = "packed"):
        if attention not in ATTENTION_PATHS:
            raise ValueError(f"unknown attention path {attention!r}; choose {' or '.join(ATTENTION_PATHS)}")
        self.model, self.tokenizer, self.batcher = model, tokenizer, batcher
        self.attention = attention
        self.device = next(model.parameters()).device

    def last_logits(self, prompts: list[Prompt], token_ids: list[int], whole_prompt_step,
                    desc: str) -> tuple[list[torch.Tensor], list[int]]:
        """(fp32 logits of ``token_ids`` per prompt, prefix tokens reused per prompt).
        ``whole_prompt_step`` scores a batch of whole sequences, for a group with nothing shared."""
        logits: list = [None] * len(prompts)
        reused = [0] * len(prompts)
        for prefix, members in group_by_prefix(prompts).items():
            full = [self.tokenizer(prompts[i].text).input_ids for i in members]
            prefix_ids = self.tokenizer(prefix).input_ids
            # Every prompt keeps at least one token of its own to run.
            shared = min(min(common_prefix_length(prefix_ids, f), len(f) - 1) for f in full)
            if shared < 1:  # nothing in common at the token level: score whole prompts
                rows = self.batcher.run(full, whole_prompt_step, desc)
            else:
                rows = self._score_suffixes(prefix_ids[:shared], [f[shared:] for f in full], token_ids, desc)
            for i, row in zip(members, rows):
                logits[i], reused[i] = row, max(shared, 0)
        return logits, reused

    def _score_suffixes(self, prefix_ids: list[int], suffixes: list[list[int]], token_ids: list[int], desc: str):
        cache = self._prefix_cache(prefix_ids)
        if self.attention == "packed":
            keys, values = cache_tensors(cache)

            def packed(batch: list[list[int]]) -> torch.Tensor:
                logits = packed_forward(self.model, keys, values, len(prefix_ids), batch)
                return logits[:, token_ids].float().cpu()

            try:
                return self.batcher.run(suffixes, packed, desc)
            except SharedPrefixUnsupported:
                self.attention = "batched_cache"  # this model: copy the cache per question instead
        step = functools.partial(self._after_cached_prefix, cache, len(prefix_ids), token_ids=token_ids)
        return self.batcher.run(suffixes, step, desc)

    @torch.inference_mode()
    def _prefix_cache(self, prefix_ids: list[int]):
        out = self.model(input_ids=torch.tensor([prefix_ids], device=self.device), use_cache=True,
                         logits_to_keep=1)
        return out.cache if getattr(out, "cache", None) is not None else out.past_key_values

    @torch.inference_mode()
    def _after_cached_prefix(self, cache, prefix_length: int, suffixes: list[list[int]],
                             token_ids: list[int]) -> torch.Tensor:
        """Logits for prompts = cached prefix + suffix (suffixes left-padded), the cache copied per row."""
        input_ids, suffix_mask, suffix_positions = pad_left(suffixes, self.tokenizer.pad_token_id, self.device)
        batch = len(suffixes)
        prefix_mask = torch.ones((batch, prefix_length), dtype=torch.long, device=self.device)
        attention_mask = torch.cat([prefix_mask, suffix_mask], dim=1)
        past = copy.deepcopy(cache)  # the forward pass appends to it
        past.batch_repeat_interleave(batch)
        out = self.model(input_ids=input_ids, attention_mask=attention_mask,
                         position_ids=prefix_length + suffix_positions, use_cache=True, logits_to_keep=1,
                         **{self._cache_argument: past})
        return out.logits[:, -1, token_ids].float().cpu()

    @functools.cached_property
    def _cache_argument(self) -> str:
        # transformers renamed ``past_key_values`` to ``cache`` during 5.x.
        params = inspect.signature(self.model.forward).parameters
        return "cache" if "cache" in params else "past_key_values"
