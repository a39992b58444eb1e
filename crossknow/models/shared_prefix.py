"""Shared-prefix attention: many prompt suffixes, packed in one row, on top of one prefix.

k-shot prompts of a subject share their header and demonstrations. The prefix runs once and its
keys/values stay at batch size one. The questions' own tokens are then packed side by side in a
single sequence, so the linear layers see no padding at all, and each attention layer lets every
question token attend to the prefix and, causally, to its own question only. Compared with
copying the prefix cache once per question (a batched ``DynamicCache``), nothing of the prefix is
copied, concatenated or repeated per question: the attention to the prefix is one matrix product
against the single stored copy.

The attention is a function registered with transformers' ``AttentionInterface``; the model uses
it only inside ``packed_forward``. It handles the attention of Llama-family models (GQA, RoPE
through position ids, sliding windows); a model with logit soft-capping or attention sinks, or one
whose layers do not go through the interface, raises ``SharedPrefixUnsupported`` and the caller
falls back to the batched cache.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, field

import torch
from transformers import AttentionInterface

ATTENTION_NAME = "crossknow_shared_prefix"


class SharedPrefixUnsupported(RuntimeError):
    """The model's attention is not one this module reproduces exactly."""


@dataclass
class PackedBatch:
    """Where each suffix lies in the packed row, and the prefix's per-layer keys and values."""

    prefix_keys: list[torch.Tensor]  # per layer [1, kv_heads, cached, head_dim]
    prefix_values: list[torch.Tensor]
    prefix_length: int
    lengths: list[int]
    index: torch.Tensor = field(init=False)  # [batch, longest]: packed position of each token
    valid: torch.Tensor = field(init=False)  # [batch, longest]: False on right padding
    position_ids: torch.Tensor = field(init=False)  # [1, packed]: each token's place in its prompt
    layers_seen: set[int] = field(default_factory=set)
    _masks: dict = field(default_factory=dict)

    def __post_init__(self):
        device = self.prefix_keys[0].device
        longest = max(self.lengths)
        offsets = torch.tensor([0] + self.lengths[:-1], device=device).cumsum(0)
        steps = torch.arange(longest, device=device)
        self.valid = steps[None, :] < torch.tensor(self.lengths, device=device)[:, None]
        self.index = torch.where(self.valid, offsets[:, None] + steps[None, :], 0)
        self.position_ids = (self.prefix_length + steps.expand_as(self.index)[self.valid]).unsqueeze(0)

    def allowed(self, cached: int, window: int | None) -> torch.Tensor:
        """[longest, cached + longest] bool: which prefix and own keys each query may see."""
        if (cached, window) not in self._masks:
            self._masks[cached, window] = self._allowed(cached, window)
        return self._masks[cached, window]

    def _allowed(self, cached: int, window: int | None) -> torch.Tensor:
        device = self.index.device
        longest = self.index.shape[1]
        query = self.prefix_length + torch.arange(longest, device=device)[:, None]
        prefix_pos = torch.arange(self.prefix_length - cached, self.prefix_length, device=device)[None, :]
        own_pos = self.prefix_length + torch.arange(longest, device=device)[None, :]
        to_prefix = torch.ones(longest, cached, dtype=torch.bool, device=device)
        to_own = own_pos <= query
        if window is not None:
            to_prefix &= prefix_pos > query - window
            to_own &= own_pos > query - window
        return torch.cat([to_prefix, to_own], dim=1)


_ACTIVE: contextvars.ContextVar[PackedBatch | None] = contextvars.ContextVar("crossknow_packed", default=None)


def shared_prefix_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """query [1, heads, packed, d], key/value [1, kv_heads, packed, d] -> [1, packed, heads, d]."""
    batch = _ACTIVE.get()
    if batch is None:
        raise SharedPrefixUnsupported("shared-prefix attention called outside packed_forward")
    if kwargs.get("softcap") is not None or kwargs.get("s_aux") is not None:
        raise SharedPrefixUnsupported("attention logit soft-capping and attention sinks are not reproduced")
    layer = getattr(module, "layer_idx", None)
    if layer is None or layer >= len(batch.prefix_keys):
        raise SharedPrefixUnsupported("the attention module has no layer index")
    batch.layers_seen.add(layer)
    prefix_keys, prefix_values = batch.prefix_keys[layer], batch.prefix_values[layer]
    kv_heads, cached, dim = prefix_keys.shape[1:]
    heads = query.shape[1]
    groups = heads // kv_heads
    rows, longest = batch.index.shape
    scale = scaling if scaling is not None else dim ** -0.5

    # Right-padded per-question layout [rows, heads, longest, dim]; the prefix is expanded, not copied,
    # until the one concatenation with each question's own keys.
    q = query[0][:, batch.index].transpose(0, 1)
    own_keys = key[0][:, batch.index].transpose(0, 1)
    own_values = value[0][:, batch.index].transpose(0, 1)
    keys = torch.cat([prefix_keys.expand(rows, -1, -1, -1), own_keys], dim=2)
    values = torch.cat([prefix_values.expand(rows, -1, -1, -1), own_values], dim=2)
    mask = batch.allowed(cached, kwargs.get("sliding_window"))
    # With a mask, CUDA's fused kernels take no grouped-query heads (PyTorch would fall back to the
    # unfused one), so the key/value heads are repeated there; the CPU kernel takes them as they are.
    cpu = query.device.type == "cpu"
    if groups > 1 and not cpu:
        keys, values = keys.repeat_interleave(groups, dim=1), values.repeat_interleave(groups, dim=1)
    out = torch.nn.functional.scaled_dot_product_attention(q, keys, values, attn_mask=mask, scale=scale,
                                                           enable_gqa=groups > 1 and cpu)
    out = out.transpose(0, 1)[:, batch.valid]  # [heads, packed, dim]
    return out.transpose(0, 1).unsqueeze(0), None


AttentionInterface.register(ATTENTION_NAME, shared_prefix_attention)


def cache_tensors(cache) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Per-layer keys and values of a transformers ``DynamicCache`` (batch size one)."""
    layers = getattr(cache, "layers", None)
    if not layers or any(getattr(layer, "keys", None) is None for layer in layers):
        raise SharedPrefixUnsupported(f"cannot read keys/values from a {type(cache).__name__}")
    return [layer.keys for layer in layers], [layer.values for layer in layers]


@contextlib.contextmanager
def _attention_implementation(model, name: str):
    previous = model.config._attn_implementation
    model.set_attn_implementation(name)
    try:
        yield
    finally:
        model.set_attn_implementation(previous)


@torch.inference_mode()
def packed_forward(model, prefix_keys: list[torch.Tensor], prefix_values: list[torch.Tensor],
                   prefix_length: int, suffixes: list[list[int]]) -> torch.Tensor:
    """Logits at each suffix's last token, shape [len(suffixes), vocab]."""
    device = prefix_keys[0].device
    batch = PackedBatch(prefix_keys, prefix_values, prefix_length, [len(s) for s in suffixes])
    input_ids = torch.tensor([[t for s in suffixes for t in s]], device=device)
    last = torch.tensor(batch.lengths, device=device).cumsum(0) - 1
    token = _ACTIVE.set(batch)
    try:
        with _attention_implementation(model, ATTENTION_NAME):
            out = model(input_ids=input_ids, position_ids=batch.position_ids, use_cache=False,
                        logits_to_keep=last)
    finally:
        _ACTIVE.reset(token)
    if batch.layers_seen != set(range(len(prefix_keys))):
        raise SharedPrefixUnsupported("the model's layers did not all use the shared-prefix attention")
    return out.logits[0]
