"""What every locally loaded backend needs, whichever engine runs the weights: the device and the
tokenizer. The Hugging Face and vLLM backends both import it (they do not import each other)."""

from __future__ import annotations

from crossknow.core.hub import hub_files_only
from crossknow.core.model_spec import ModelSpec, require_spec


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def local_only(spec: ModelSpec) -> dict:
    """``local_files_only`` for a hub model when the hub cannot be reached (crossknow/core/hub.py)."""
    return {"local_files_only": True} if spec.kind == "hub" and hub_files_only(spec.path) else {}


def load_tokenizer(spec: ModelSpec, revision: str | None = None, trust_remote_code: bool = False):
    """The tokenizer of the spec's ``tokenizer`` (``--arch`` for fine-tuned checkpoints), padding on
    the left; ``revision`` applies to the model's own tokenizer only."""
    from transformers import AutoTokenizer

    spec = require_spec(spec, "load_tokenizer")
    source = spec.tokenizer_spec()
    path, gguf_file = source.location()
    own = {"revision": revision} if revision and source is spec else {}
    tokenizer = AutoTokenizer.from_pretrained(path, gguf_file=gguf_file, trust_remote_code=trust_remote_code,
                                              **own, **local_only(source))
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer
