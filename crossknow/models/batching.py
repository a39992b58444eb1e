"""Batching token sequences for a causal LM: left padding with true position ids, length-sorted
batches, and an automatic batch size that backs off on out-of-memory.

Left padding keeps every sequence's last token in the last column; the position ids count only a
sequence's own tokens, so a padded row computes what the same sequence alone would.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from tqdm.auto import tqdm


def pad_left(sequences: list[list[int]], pad_id: int, device=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask, position_ids), each [batch, longest], padded on the left."""
    width = max(len(s) for s in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        input_ids[row, width - len(seq):] = torch.tensor(seq, dtype=torch.long)
        attention_mask[row, width - len(seq):] = 1
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    return input_ids.to(device), attention_mask.to(device), position_ids.to(device)


def is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, torch.OutOfMemoryError) or "out of memory" in str(error).lower()


class Batcher:
    """Runs a step on length-sorted batches (longest first) and returns outputs in input order.

    ``batch_size`` is a number or ``auto``: start at ``max_auto_batch_size`` and halve on
    out-of-memory (any other error propagates). A batch also stops growing at a sequence shorter
    than ``min_batch_fill`` of its longest one: padding is wasted work, most of all on CPU.
    ``max_batch_tokens`` (optional) also caps a batch's padded size, rows x longest sequence, so
    that batches of short prompts hold more rows than batches of long ones (one row always runs).
    """

    def __init__(self, batch_size: int | str = "auto", max_auto_batch_size: int = 64,
                 min_batch_fill: float = 0.75, show_progress: bool = True, max_batch_tokens: int | None = None):
        if batch_size != "auto" and int(batch_size) < 1:
            raise ValueError(f"batch size must be a positive integer or auto, got {batch_size!r}")
        if max_batch_tokens is not None and max_batch_tokens < 1:
            raise ValueError(f"max_batch_tokens must be a positive integer, got {max_batch_tokens!r}")
        self.max_batch_tokens = max_batch_tokens
        self.batch_size = batch_size
        self.max_auto_batch_size = max_auto_batch_size
        self.min_batch_fill = min_batch_fill
        self.show_progress = show_progress
        self.batch_size_used: int | None = None

    def run(self, sequences: list[list[int]], step: Callable[[list[list[int]]], list], desc: str = "") -> list:
        order = sorted(range(len(sequences)), key=lambda i: -len(sequences[i]))
        auto = self.batch_size == "auto"
        batch_size = min(self.max_auto_batch_size, len(order)) if auto else int(self.batch_size)
        results: list = [None] * len(sequences)
        start = 0
        disable = len(order) < 2 or not self.show_progress
        with tqdm(total=len(order), desc=desc, leave=False, disable=disable) as bar:
            while start < len(order):
                batch = order[start:start + batch_size]
                longest = len(sequences[batch[0]])
                batch = [i for i in batch if len(sequences[i]) >= self.min_batch_fill * longest]
                if self.max_batch_tokens is not None:
                    batch = batch[:max(1, self.max_batch_tokens // longest)]
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
