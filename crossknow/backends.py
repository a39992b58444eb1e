"""Command-line model options shared by the task scripts, and the backend they select."""

from __future__ import annotations

import argparse
from pathlib import Path

from crossknow.cli import batch_size, model_name, non_negative_int, positive_int
from crossknow.embedded import EMBEDDED_ALIASES, GEMMA_ALIASES

DEFAULT_MODEL = "smollm2"


def add_model_arguments(p: argparse.ArgumentParser, default_dtype: str = "auto") -> None:
    p.add_argument("--model", "-m", default=DEFAULT_MODEL, type=model_name,
                   help="hub name, local folder, .gguf file, openai/<name>, or smollm2 (embedded default)")
    p.add_argument("--arch", default=None, help="model whose tokenizer to use (fine-tuned checkpoints)")
    p.add_argument("--backend", default="hf", choices=["hf", "vllm"],
                   help="hf (transformers) or vllm (optional dependency, GPU); openai/ models use the API")
    p.add_argument("--tensor_parallel_size", type=positive_int, default=1, help="GPUs per model with --backend vllm")
    p.add_argument("--batch_size", default="auto", type=batch_size, help="N or auto (largest that fits, backs off on OOM)")
    p.add_argument("--no_prefix_cache", action="store_true",
                   help="score whole prompts instead of reusing each shared prefix's KV cache")
    p.add_argument("--dtype", default=default_dtype, help="auto (fp16 on GPU, fp32 on CPU), fp32, fp16, bf16")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--api_base", default=None, help="base URL of an OpenAI-compatible API")
    p.add_argument("--seed", type=non_negative_int, default=0)


def check_model_arguments(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.batch_size != "auto" and not args.batch_size.isdigit():
        p.error(f"--batch_size must be a positive integer or auto, got {args.batch_size!r}")


def model_tag(model: str) -> str:
    """The results folder name for a model: the hub name, or the folder's name for a local path."""
    if model.lower() in EMBEDDED_ALIASES:
        return "SmolLM2-135M-Instruct"
    if model.lower() in GEMMA_ALIASES:
        return "gemma-3-270m"
    path = Path(model)
    if path.exists():
        return path.name.removesuffix(".gguf")
    return model.removeprefix("openai/")


def make_backend(args: argparse.Namespace, labels: tuple[str, ...], workers=None):
    """The backend for ``args`` and what the results' config block records about it."""
    if args.model.startswith("openai/"):
        from crossknow.openai_backend import OpenAIChatBackend

        generation = getattr(args, "infer_mode", "logits") == "generation"
        backend = OpenAIChatBackend(args.model, max_tokens=args.max_token if generation else 1,
                                    base_url=args.api_base)
        return backend, {"backend": "openai", **backend.settings()}
    from crossknow.hf_backend import ANSWER_TOKEN_CONVENTIONS, HFBackend, default_device, letter_token_ids, load_model

    if args.backend == "vllm":
        from crossknow.vllm_backend import VLLMBackend

        backend = VLLMBackend(args.model, args.arch, args.dtype, args.tensor_parallel_size, seed=args.seed)
        tokenizer, info = backend.tokenizer, {"backend": "vllm", "tensor_parallel_size": args.tensor_parallel_size,
                                              "prefix_cache": True}
    else:
        device = (workers.device if workers else None) or args.device or default_device()
        model, tokenizer = load_model(args.model, args.arch, args.dtype, device)
        backend = HFBackend(model, tokenizer, args.batch_size, prefix_cache=not args.no_prefix_cache)
        backend.show_progress = workers.is_main if workers else True
        info = {"backend": "hf", "device": device, "dtype": str(model.dtype).removeprefix("torch."),
                "batch_size": args.batch_size, "prefix_cache": not args.no_prefix_cache}
    info["answer_token_ids"] = {c: letter_token_ids(tokenizer, labels, c) for c in ANSWER_TOKEN_CONVENTIONS}
    return backend, info
