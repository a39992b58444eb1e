"""The contract every model backend keeps, and the types the tasks and backends share.

In the style of lm-evaluation-harness's ``LM``: a backend declares what it can do in
``capabilities`` and implements those operations; ``require`` turns a request for anything else
into a clear error before any work, never into a silent switch of mode.

- ``LETTER_SCORES``: the probabilities of the candidate answer letters at the end of each prompt
  (the paper's logits mode), under both answer-token conventions (below), and the token ids that
  stand for the letters (``answer_token_ids``);
- ``LOGLIKELIHOOD``: the summed log-probability of each text;
- ``GENERATION``: free text after each prompt, optionally ended at stop strings.

``describe()`` returns what the backend wants recorded in a result's config block.

Answer-token conventions, read from the same logits:

- ``paper``: the last id of ``tokenizer(letter)`` (the paper's code);
- ``space``: the token of `` A`` as it follows ``Answer:`` (lm-evaluation-harness).

On SentencePiece tokenizers they agree; on byte-level BPE (Llama-3, GPT-2, SmolLM2) they do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from crossknow.core.errors import CrossknowError
from crossknow.core.prompt import Prompt

LETTER_SCORES = "letter_scores"
LOGLIKELIHOOD = "loglikelihood"
GENERATION = "generation"
CAPABILITIES = (LETTER_SCORES, LOGLIKELIHOOD, GENERATION)
ANSWER_TOKEN_CONVENTIONS = ("paper", "space")


class UnsupportedOperation(CrossknowError, RuntimeError):  # a user error: one line from crossknow.core.cli.run
    """A backend was asked for an operation it does not declare."""


@dataclass
class LetterScores:
    """Probabilities of the candidate letters under both token conventions."""

    probs: dict[str, list[float]]
    reused_prefix_tokens: int = 0


@runtime_checkable
class Backend(Protocol):
    """What the runner and the tasks may call. Operations outside ``capabilities`` raise
    ``UnsupportedOperation``."""

    name: str
    capabilities: frozenset[str]

    def describe(self) -> dict: ...

    def answer_token_ids(self, labels: tuple[str, ...]) -> dict[str, list[int]]: ...

    def score_letters(self, prompts: list[Prompt], labels: tuple[str, ...],
                      desc: str = "scoring") -> list[LetterScores]: ...

    def loglikelihood(self, texts: list[str], desc: str = "likelihood") -> list[float]: ...

    def generate(self, prompts: list[Prompt], max_new_tokens: int, do_sample: bool = False, seed: int = 0,
                 stop: list[str] | None = None, desc: str = "generating") -> list[str]: ...


def require(backend, capability: str) -> None:
    """Refuse, with the backend's name and what it offers, an operation it does not declare."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}; known: {', '.join(CAPABILITIES)}")
    if capability not in backend.capabilities:
        offered = ", ".join(c for c in CAPABILITIES if c in backend.capabilities) or "nothing"
        raise UnsupportedOperation(
            f"the {backend.name} backend cannot give {capability.replace('_', ' ')}; it offers: {offered}")


def letter_token_ids(tokenizer, labels: tuple[str, ...], convention: str) -> list[int]:
    """The token id that stands for each label under an answer-token convention."""
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


def cut_at_stop(text: str, stop: list[str] | None) -> str:
    """The text before the first stop string (as OpenAI and vLLM return it)."""
    cut = len(text)
    for s in stop or []:
        found = text.find(s)
        if s and found != -1:
            cut = min(cut, found)
    return text[:cut]
