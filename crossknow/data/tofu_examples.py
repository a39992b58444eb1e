"""Training examples as TOFU's loader makes them (``FT/configs/paper_tofu_per_example.yaml``).

The paper fine-tuned with TOFU's ``finetune.py`` (locuslab/tofu). Its data module tokenises each
example on its own with the tokenizer's special tokens (``add_special_tokens=True``: BOS for Llama
and Gemma), truncates it to ``max_length`` tokens (500 in TOFU's ``finetune.py``), pads it with EOS
under a zero attention mask and trains on the tokens plus one EOS after them (no EOS when the
example was cut). Nothing is packed. Here an example is one non-empty line of the corpus: for
WikiText, one paragraph or one heading (the way the paper's notebook splits WikiText-103 into
documents). Padding is per batch rather than to ``max_length``: right padding is masked out of
attention and loss, so the loss is the same, with less work.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Truncation:
    """What cutting the examples at ``max_length`` dropped."""

    examples: int
    truncated_examples: int
    tokens: int  # every example's tokens, special tokens included, before truncation
    dropped_tokens: int

    @property
    def dropped_share(self) -> float:
        return self.dropped_tokens / self.tokens if self.tokens else 0.0

    def note(self, max_length: int) -> str:
        return (f"note: per-example training (TOFU's loader): {self.examples:,} examples (non-empty lines), "
                f"{self.truncated_examples:,} longer than max_length {max_length}; truncation drops "
                f"{self.dropped_tokens:,} of {self.tokens:,} tokens ({100 * self.dropped_share:.2f}%)")

    def as_dict(self) -> dict:
        return {"examples": self.examples, "truncated_examples": self.truncated_examples, "tokens": self.tokens,
                "dropped_tokens": self.dropped_tokens, "dropped_share": round(self.dropped_share, 6)}


def tofu_example(ids: list[int], max_length: int, eos_id: int | None) -> list[int]:
    """One example's trained tokens: ``ids`` (special tokens included) cut at ``max_length``, plus
    EOS when it was not cut (TOFU's label row: the tokens, one EOS, then -100)."""
    kept = ids[:max_length]
    if len(ids) < max_length and eos_id is not None:
        kept = kept + [eos_id]
    return kept


def tofu_examples(tokenizer, docs: list[str], max_length: int) -> tuple[list[list[int]], Truncation]:
    """Every document as one TOFU example, and what truncation dropped."""
    full = tokenizer(docs, add_special_tokens=True)["input_ids"]
    examples = [tofu_example(ids, max_length, tokenizer.eos_token_id) for ids in full if ids]
    truncation = Truncation(
        examples=len(examples), truncated_examples=sum(len(ids) > max_length for ids in full),
        tokens=sum(len(ids) for ids in full), dropped_tokens=sum(max(len(ids) - max_length, 0) for ids in full))
    return examples, truncation


def check_tofu_settings(config: dict) -> str | None:
    """The problem with the per-example settings, or None: TOFU's loader does not pack."""
    if config["max_length"] < 2:
        return f"max_length: must be at least 2 tokens, got {config['max_length']}"
    if config["tofu_examples"] and config["packing"]:
        return "tofu_examples: true trains one example per line (TOFU's loader), which needs packing: false"
    return None
