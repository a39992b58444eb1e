"""The model options every task script shares, and the backend they select.

``make_backend`` takes explicit parameters; ``backend_options`` is the one place that reads them
from parsed arguments.
"""

from __future__ import annotations

import argparse

from crossknow.core.cli import (
    add_batch_size_argument,
    add_device_argument,
    add_dtype_argument,
    add_model_argument,
    add_seed_argument,
    model_name,
    positive_int,
)
from crossknow.core.model_spec import DEFAULT_MODEL, ModelSpec
from crossknow.models.model_api import Backend

BACKENDS = ("hf", "vllm")
DTYPE_CHOICES = ("auto", "fp32", "fp16", "bf16", "float32", "float16", "bfloat16")
ATTENTION_CHOICES = ("eager", "sdpa", "flash_attention_2", "flex_attention")
# --model_args keys (lm-evaluation-harness style) and the flag each must not be given with.
MODEL_ARG_KEYS = ("revision", "dtype", "attn_implementation", "trust_remote_code")
FLAG_OF_MODEL_ARG = {"dtype": "--dtype", "device": "--device", "batch_size": "--batch_size",
                     "pretrained": "--model", "tokenizer": "--arch", "backend": "--backend"}


def add_model_arguments(p: argparse.ArgumentParser, gpu_dtype: str = "fp16") -> argparse._ArgumentGroup:
    """``--model`` and the backend options; ``--dtype auto`` is ``gpu_dtype`` on GPU, fp32 on CPU."""
    g = p.add_argument_group("model")
    add_model_argument(g, DEFAULT_MODEL,
                       f"hub name, local folder, .gguf file, openai/<name>, or {DEFAULT_MODEL} (embedded default)")
    g.add_argument("--arch", default=None, type=model_name, help="model whose tokenizer to use (fine-tuned checkpoints)")
    g.add_argument("--model_tag", default=None, help="name of the results folder (default: from --model)")
    g.add_argument("--backend", default="hf", choices=BACKENDS,
                   help="hf (transformers) or vllm (optional dependency, GPU); openai/ models use the API")
    g.add_argument("--tensor_parallel_size", type=positive_int, default=1, help="GPUs per model with --backend vllm")
    add_batch_size_argument(g, "auto", "N or auto (largest that fits, backs off on OOM)")
    g.add_argument("--no_prefix_cache", action="store_true",
                   help="score whole prompts instead of reusing each shared prefix's KV cache")
    add_dtype_argument(g, f"auto (the default) is {gpu_dtype} on GPU and fp32 on CPU", choices=DTYPE_CHOICES)
    g.add_argument("--model_args", default=None, type=model_args,
                   help="loader options as key=value,key=value: revision, dtype (not with --dtype), "
                        f"attn_implementation ({'/'.join(ATTENTION_CHOICES)}), trust_remote_code "
                        "(true/false, default false)")
    add_device_argument(g)
    g.add_argument("--api_base", default=None, help="base URL of an OpenAI-compatible API")
    add_seed_argument(g)
    g.add_argument("--verbose", action="store_true", help="a progress bar per subject under the overall one")
    p.set_defaults(gpu_dtype=gpu_dtype)
    return g


def model_args(value: str) -> dict:
    """``key=value,key=value`` into loader options, each key known and each value checked."""
    options: dict = {}
    for pair in filter(None, (part.strip() for part in value.split(","))):
        key, sep, text = pair.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key or not text:
            raise argparse.ArgumentTypeError(f"expected key=value, got {pair!r}")
        if key in FLAG_OF_MODEL_ARG and key not in MODEL_ARG_KEYS:
            raise argparse.ArgumentTypeError(f"{key}: set it with {FLAG_OF_MODEL_ARG[key]}")
        if key not in MODEL_ARG_KEYS:
            raise argparse.ArgumentTypeError(f"unknown key {key!r}; known: {', '.join(MODEL_ARG_KEYS)}")
        if key in options:
            raise argparse.ArgumentTypeError(f"{key} given twice")
        options[key] = _model_arg_value(key, text)
    if not options:
        raise argparse.ArgumentTypeError("expected key=value, got nothing")
    return options


def _model_arg_value(key: str, text: str) -> str | bool:
    choices = {"dtype": DTYPE_CHOICES, "attn_implementation": ATTENTION_CHOICES,
               "trust_remote_code": ("true", "false")}.get(key)
    value = text.lower() if key == "trust_remote_code" else text
    if choices and value not in choices:
        raise argparse.ArgumentTypeError(f"{key}={text}: choose one of {', '.join(choices)}")
    return value == "true" if key == "trust_remote_code" else value


def check_model_arguments(p: argparse.ArgumentParser, args: argparse.Namespace) -> ModelSpec:
    """Validate the model options (``--model_args`` against the flags); the parsed model spec."""
    options = dict(args.model_args or {})
    if "dtype" in options and args.dtype is not None:
        p.error(f"--model_args dtype={options['dtype']} conflicts with --dtype {args.dtype}: give one of them")
    args.dtype = options.pop("dtype", None) or args.dtype or "auto"
    args.loader_options = options
    if options and (args.model.startswith("openai/") or args.backend != "hf"):
        p.error(f"--model_args {','.join(options)}: only for models loaded with transformers (--backend hf)")
    if args.batch_size != "auto" and not (args.batch_size.isdigit() and int(args.batch_size) > 0):
        p.error(f"--batch_size must be a positive integer or auto, got {args.batch_size!r}")
    try:
        spec = ModelSpec.parse(args.model, tokenizer=args.arch, tag=args.model_tag)
    except ValueError as error:
        p.error(f"--model: {error}")
    if spec.is_api and args.backend != "hf":
        p.error(f"--backend {args.backend}: {args.model} is served by its API")
    return spec


def backend_options(args: argparse.Namespace, workers=None) -> dict:
    """The keyword arguments of ``make_backend`` from parsed arguments (and the data-parallel worker)."""
    return {"backend": args.backend, "dtype": args.dtype, "gpu_dtype": args.gpu_dtype,
            "device": (workers.device if workers else None) or args.device,
            "batch_size": "auto" if args.batch_size == "auto" else int(args.batch_size),
            "prefix_cache": not args.no_prefix_cache, "tensor_parallel_size": args.tensor_parallel_size,
            "api_base": args.api_base, "seed": args.seed,
            "show_progress": args.verbose and (workers.is_main if workers else True),
            "loader_options": args.loader_options}


def backend_class(spec: ModelSpec, backend: str = "hf") -> type:
    """The class that would serve ``spec``, to check its capabilities before loading anything."""
    if spec.is_api:
        from crossknow.models.openai_backend import OpenAIChatBackend

        return OpenAIChatBackend
    if backend == "vllm":
        from crossknow.models.vllm_backend import VLLMBackend

        return VLLMBackend
    from crossknow.models.hf_backend import HFBackend

    return HFBackend


def make_backend(spec: ModelSpec, backend: str = "hf", dtype: str = "auto", gpu_dtype: str = "fp16",
                 device: str | None = None, batch_size: int | str = "auto", prefix_cache: bool = True,
                 tensor_parallel_size: int = 1, api_base: str | None = None, seed: int = 0,
                 show_progress: bool = True, loader_options: dict | None = None) -> Backend:
    """The backend that serves ``spec``: the API for openai/ models, else vLLM or transformers."""
    if spec.is_api:
        from crossknow.models.openai_backend import OpenAIChatBackend

        return OpenAIChatBackend(spec.path, base_url=api_base)
    if backend == "vllm":
        from crossknow.models.vllm_backend import VLLMBackend

        return VLLMBackend(spec, dtype, tensor_parallel_size, seed=seed)
    if backend != "hf":
        raise ValueError(f"unknown backend {backend!r}; choose {' or '.join(BACKENDS)}")
    from crossknow.models.hf_backend import HFBackend, default_device, load_model

    model, tokenizer = load_model(spec, dtype=dtype, device=device or default_device(), gpu_dtype=gpu_dtype,
                                  **(loader_options or {}))
    return HFBackend(model, tokenizer, batch_size, prefix_cache=prefix_cache, show_progress=show_progress)
