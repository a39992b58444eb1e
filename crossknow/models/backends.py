"""The model options every task script shares, and the backend registry that serves them.

A backend registers the model-spec kinds it serves (``register_backend``); ``make_backend`` finds
the one for a parsed model in one lookup and builds it. ``backend_options`` is the one place that
reads the backend's parameters from parsed arguments.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass

from crossknow.core.cli import (
    add_batch_size_argument,
    add_device_argument,
    add_dtype_argument,
    add_model_argument,
    add_seed_argument,
    model_name,
    positive_int,
)
from crossknow.core.model_spec import DEFAULT_MODEL, KINDS, LOCAL_KINDS, ModelSpec, require_spec
from crossknow.models.model_api import Backend

DEFAULT_BACKEND = "hf"
DTYPE_CHOICES = ("auto", "fp32", "fp16", "bf16", "float32", "float16", "bfloat16")
ATTENTION_CHOICES = ("eager", "sdpa", "flash_attention_2", "flex_attention")
# --model_args keys (lm-evaluation-harness style) and the flag each must not be given with.
MODEL_ARG_KEYS = ("revision", "dtype", "attn_implementation", "trust_remote_code")
FLAG_OF_MODEL_ARG = {"dtype": "--dtype", "device": "--device", "batch_size": "--batch_size",
                     "pretrained": "--model", "tokenizer": "--arch", "backend": "--backend"}


@dataclass(frozen=True)
class BackendEntry:
    """One registered backend: its name, the model-spec kinds it serves, where its class lives
    (``module:Class``, imported only when asked) and how to build it from a spec and the options."""

    name: str
    kinds: tuple[str, ...]
    class_path: str
    build: Callable[..., Backend]

    def backend_class(self) -> type:
        module, _, name = self.class_path.partition(":")
        return getattr(importlib.import_module(module), name)


_REGISTRY: dict[str, dict[str, BackendEntry]] = {}  # model-spec kind -> backend name -> entry


def register_backend(name: str, kinds: tuple[str, ...], class_path: str):
    """Register the decorated builder, ``build(spec, **options) -> Backend``, as backend ``name``
    for each model-spec kind in ``kinds``."""
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        raise ValueError(f"backend {name}: unknown model kind(s) {', '.join(unknown)}; known: {', '.join(KINDS)}")

    def decorator(build: Callable[..., Backend]) -> Callable[..., Backend]:
        entry = BackendEntry(name, tuple(kinds), class_path, build)
        for kind in kinds:
            _REGISTRY.setdefault(kind, {})[name] = entry
        return build

    return decorator


def backend_entry(spec: ModelSpec, backend: str = DEFAULT_BACKEND) -> BackendEntry:
    """The registered backend that serves ``spec`` under the ``--backend`` choice; a kind served by
    one backend only (an API model) takes it under the default choice."""
    served = _REGISTRY.get(require_spec(spec, "make_backend").kind)
    if not served:
        raise ValueError(f"no backend serves {spec.name} (model kind {spec.kind!r}); "
                         f"kinds served: {', '.join(_REGISTRY)}")
    if backend in served:
        return served[backend]
    if backend == DEFAULT_BACKEND and len(served) == 1:
        return next(iter(served.values()))
    if backend not in registered_backends():
        raise ValueError(f"unknown backend {backend!r}; choose {' or '.join(local_backends())}")
    raise ValueError(f"--backend {backend}: {spec.name} is served by {' or '.join(served)} ({spec.kind} model)")


def registered_backends() -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for served in _REGISTRY.values() for name in served))


def local_backends() -> tuple[str, ...]:
    """The ``--backend`` choices: the backends that load weights."""
    return tuple(dict.fromkeys(name for kind in LOCAL_KINDS for name in _REGISTRY.get(kind, {})))


@register_backend("openai", ("openai",), "crossknow.models.openai_backend:OpenAIChatBackend")
def _openai_backend(spec: ModelSpec, api_base: str | None = None, **_options) -> Backend:
    from crossknow.models.openai_backend import OpenAIChatBackend

    return OpenAIChatBackend(spec, base_url=api_base)


@register_backend("hf", LOCAL_KINDS, "crossknow.models.hf_backend:HFBackend")
def _hf_backend(spec: ModelSpec, dtype: str = "auto", gpu_dtype: str = "fp16", device: str | None = None,
                batch_size: int | str = "auto", prefix_cache: bool = True, show_progress: bool = True,
                loader_options: dict | None = None, **_options) -> Backend:
    from crossknow.models import hf_backend  # looked up at call time: tests replace load_model

    model, tokenizer = hf_backend.load_model(spec, dtype=dtype, device=device or hf_backend.default_device(),
                                             gpu_dtype=gpu_dtype, **(loader_options or {}))
    return hf_backend.HFBackend(model, tokenizer, batch_size, prefix_cache=prefix_cache, show_progress=show_progress)


@register_backend("vllm", LOCAL_KINDS, "crossknow.models.vllm_backend:VLLMBackend")
def _vllm_backend(spec: ModelSpec, dtype: str = "auto", tensor_parallel_size: int = 1, seed: int = 0,
                  **_options) -> Backend:
    from crossknow.models.vllm_backend import VLLMBackend

    return VLLMBackend(spec, dtype, tensor_parallel_size, seed=seed)


BACKENDS = local_backends()


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
    try:
        spec = ModelSpec.parse(args.model, tokenizer=args.arch, tag=args.model_tag)
    except ValueError as error:
        p.error(f"--model: {error}")
    try:
        entry = backend_entry(spec, args.backend)
    except ValueError as error:
        p.error(str(error))
    if options and entry.name != "hf":
        p.error(f"--model_args {','.join(options)}: only for models loaded with transformers (--backend hf)")
    if args.batch_size != "auto" and not (args.batch_size.isdigit() and int(args.batch_size) > 0):
        p.error(f"--batch_size must be a positive integer or auto, got {args.batch_size!r}")
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




def backend_class(spec: ModelSpec, backend: str = DEFAULT_BACKEND) -> type:
    """The class that would serve ``spec``, to check its capabilities before loading anything."""
    return backend_entry(spec, backend).backend_class()


def make_backend(spec: ModelSpec, backend: str = DEFAULT_BACKEND, dtype: str = "auto", gpu_dtype: str = "fp16",
                 device: str | None = None, batch_size: int | str = "auto", prefix_cache: bool = True,
                 tensor_parallel_size: int = 1, api_base: str | None = None, seed: int = 0,
                 show_progress: bool = True, loader_options: dict | None = None) -> Backend:
    """The registered backend that serves ``spec`` (``backend_entry``), built with these options."""
    return backend_entry(spec, backend).build(
        spec, dtype=dtype, gpu_dtype=gpu_dtype, device=device, batch_size=batch_size, prefix_cache=prefix_cache,
        tensor_parallel_size=tensor_parallel_size, api_base=api_base, seed=seed, show_progress=show_progress,
        loader_options=loader_options)
