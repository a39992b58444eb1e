"""How close a scoring run comes to the hardware: model FLOPs of the work run, the device's dense
peak for the dtype, and model FLOP utilisation (MFU); plus a profile summary by kind of work.

FLOPs are counted for the work a method really runs, after prefix reuse (Kaplan et al. 2020,
"Scaling Laws for Neural Language Models", section 2.1, with the attention term written out):

    forward FLOPs = 2 * N * T                      (every weight matrix but the embeddings, per token run)
                  + 2 * V * H * P                  (the vocabulary projection, at the P positions whose
                                                    logits are computed: one per question for the
                                                    engine, every token for the paper's method)
                  + 4 * L * D * sum(keys attended)  (QK^T and AV: 2 * D multiply-adds each, per layer,
                                                    per (query, key) pair under the causal mask)

with N the non-embedding parameters (without the vocabulary projection), T the tokens run, V the
vocabulary, H the hidden size, L the layers and D = heads x head dimension. A run of t tokens after
c tokens already in the cache attends to sum(c + i for i in 1..t) = t*c + t*(t+1)/2 keys. Padding is
not counted: it is waste, not work.

MFU = achieved FLOP/s / the device's dense peak for the dtype (no structured sparsity). The peaks
are the vendors' data-sheet figures; a CPU has no table entry, and ``measured_matmul_tflops`` times
a large matrix product in the dtype instead (stated as measured wherever it is used).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

# Dense peak TFLOP/s by dtype from the vendors' data sheets (tensor cores for fp16/bf16; fp32 without
# TF32, PyTorch's default for matrix products). Each model name must stand in the device name as a
# whole word ("L4" is not "L40S", "A10" not "A10G"); the first match wins, so the more specific names
# come first. A GPU that is not listed gets no MFU unless --peak_tflops gives its peak.
PEAK_TFLOPS: list[tuple[str, dict[str, float]]] = [
    ("H200 NVL", {"fp16": 835.0, "bf16": 835.0, "fp32": 60.0}),
    ("H200", {"fp16": 989.4, "bf16": 989.4, "fp32": 66.9}),
    ("H100 PCIe", {"fp16": 756.0, "bf16": 756.0, "fp32": 51.2}),
    ("H100 NVL", {"fp16": 835.0, "bf16": 835.0, "fp32": 60.0}),
    ("H100", {"fp16": 989.4, "bf16": 989.4, "fp32": 66.9}),  # SXM, e.g. "NVIDIA H100 80GB HBM3"
    ("A100", {"fp16": 312.0, "bf16": 312.0, "fp32": 19.5}),
    ("L40S", {"fp16": 362.1, "bf16": 362.1, "fp32": 91.6}),
    ("L40", {"fp16": 181.0, "bf16": 181.0, "fp32": 90.5}),
    ("L4", {"fp16": 121.0, "bf16": 121.0, "fp32": 30.3}),
    ("A10", {"fp16": 125.0, "bf16": 125.0, "fp32": 31.2}),
    ("V100", {"fp16": 125.0, "fp32": 15.7}),
]

DTYPE_NAMES = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}


def dtype_name(dtype) -> str:
    """``fp32``, ``fp16`` or ``bf16`` for a torch dtype or its name."""
    text = str(dtype).removeprefix("torch.")
    return DTYPE_NAMES.get(text, text)


def table_peak_tflops(device_name: str, dtype) -> tuple[str, float] | None:
    """(table entry, dense peak TFLOP/s) of a GPU for the dtype, or None when not in the table."""
    name = dtype_name(dtype)
    for pattern, peaks in PEAK_TFLOPS:
        if re.search(rf"(?<![A-Za-z0-9]){re.escape(pattern)}(?![A-Za-z0-9])", device_name):
            return (pattern, peaks[name]) if name in peaks else None
    return None


def measured_matmul_tflops(dtype, device: str = "cpu", size: int = 2048, seconds: float = 1.0) -> float:
    """TFLOP/s of repeated square matrix products in ``dtype``: the practical peak of a CPU."""
    import torch

    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    torch.matmul(a, b)  # warm-up
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or runs < 2:
        torch.matmul(a, b)
        runs += 1
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return 2 * size**3 * runs / (time.perf_counter() - start) / 1e12


@dataclass(frozen=True)
class ModelShape:
    non_embedding_params: int  # every weight but the input embedding and the vocabulary projection
    vocab_size: int
    hidden_size: int
    layers: int
    attention_dim: int  # heads x head dimension (the query width)


def model_shape(model) -> ModelShape:
    """The numbers the FLOP formula needs, from a Hugging Face causal LM."""
    config = model.config
    embed = model.get_input_embeddings().weight
    head = model.get_output_embeddings().weight
    total = sum(p.numel() for p in model.parameters())  # a tied head is counted once
    tied = head.data_ptr() == embed.data_ptr()
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    return ModelShape(non_embedding_params=total - embed.numel() - (0 if tied else head.numel()),
                      vocab_size=head.shape[0], hidden_size=head.shape[1],
                      layers=config.num_hidden_layers, attention_dim=heads * head_dim)


@dataclass(frozen=True)
class Forward:
    """``tokens`` run after ``context`` tokens already cached, with logits at ``logit_positions``."""

    tokens: int
    context: int = 0
    logit_positions: int = 1


def forward_flops(shape: ModelShape, forwards: list[Forward]) -> float:
    """Model FLOPs of the forwards (the formula in the module docstring)."""
    total = 0.0
    for f in forwards:
        keys = f.tokens * f.context + f.tokens * (f.tokens + 1) / 2
        total += (2 * shape.non_embedding_params * f.tokens
                  + 2 * shape.vocab_size * shape.hidden_size * f.logit_positions
                  + 4 * shape.layers * shape.attention_dim * keys)
    return total


FLOP_FORMULA = ("2*N*tokens_run + 2*V*H*logit_positions + 4*L*D*keys_attended "
                "(N non-embedding params, V*H the vocabulary projection, L layers, D heads*head_dim)")

# Kinds of work in a profile, by the names of operators and kernels (first match wins).
PROFILE_KINDS = (
    ("attention", ("attention", "attn", "sdpa", "flash", "fmha", "softmax", "bmm")),
    ("matmul", ("gemm", "matmul", "addmm", "aten::mm", "linear", "cutlass", "xmma", "cublas")),
)


def profile_kind(name: str) -> str:
    lowered = name.lower()
    for kind, patterns in PROFILE_KINDS:
        if any(p in lowered for p in patterns):
            return kind
    return "other"


def profile_summary(events, wall_seconds: float, on_cuda: bool) -> dict:
    """Shares of device time (CUDA) or CPU self time by kind of work, and the idle share of the wall.

    ``events`` is ``torch.profiler.profile(...).key_averages()``. On CUDA the busy time is the sum
    of kernel self times; what is left of the wall clock is the device waiting on the host.
    """
    attribute = "self_device_time_total" if on_cuda else "self_cpu_time_total"
    by_kind: dict[str, float] = {}
    for event in events:
        micros = getattr(event, attribute, 0) or 0
        if micros > 0:
            kind = profile_kind(event.key)
            by_kind[kind] = by_kind.get(kind, 0.0) + micros / 1e6
    busy = sum(by_kind.values())
    return {"seconds_by_kind": by_kind, "busy_seconds": busy, "wall_seconds": wall_seconds,
            "share_by_kind": {k: v / busy for k, v in by_kind.items()} if busy else {},
            "idle_share": max(0.0, 1 - busy / wall_seconds) if on_cuda and wall_seconds else None,
            "time_measured": "device kernels" if on_cuda else "CPU operators (self time)"}
