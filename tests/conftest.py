"""Shared fixtures and helpers: tiny random causal LMs with locally trained tokenizers, saved to
disk; the demo prompts; the paper's scoring method as the reference.

Two tokenizer families, because letter-token handling differs between them:
- byte-level BPE (GPT-2, Llama-3, SmolLM2 style): "A" and " A" are different tokens;
- SentencePiece style (Llama-2, Mistral): a metaspace prefix, BOS added, "▁A" either way.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from crossknow.core.model_spec import ModelSpec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The tests never reach the Hugging Face hub: its one reachability probe (crossknow/core/hub.py) goes to
# the loopback discard port, which refuses at once. Tests of the online path set their own endpoint.
os.environ.setdefault("HF_ENDPOINT", "http://127.0.0.1:9")

DEMO_DATA = ROOT / "MMLU" / "data" / "demo"
LABELS = ("A", "B", "C", "D")


def load_script(relative_path: str):
    """Import a task script (``MMLU/eval.py``, ...) by path: the task folders are not packages.

    As ``python MMLU/eval.py`` does, the script's own folder is first on ``sys.path`` while it loads,
    so that its sibling modules (Synthetic's ``facts``, ``analysis``, ...) import in any test order."""
    import importlib.util

    path = ROOT / relative_path
    name = relative_path.replace("/", "_").removesuffix(".py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


SHARED_DATA = ROOT.parent / "shared" / "data"


def _corpus() -> list[str]:
    """The demo's English and paper-language rows (the non-Latin demo languages would crowd the tiny vocabularies)."""
    import re

    from crossknow.data.mmlu import read_mmlu_csv

    paper_folder = re.compile(r"(dev|test)(_mixup|_.*_(fr|de|es|it))?")
    lines = []
    for path in sorted(p for p in DEMO_DATA.glob("*/*.csv") if paper_folder.fullmatch(p.parent.name)):
        for item in read_mmlu_csv(path):
            lines.append(item.question + " " + " ".join(item.choices))
    lines.append("The following are multiple choice questions (with answers) about A. B. C. D. Answer: A B C D")
    return lines


def build_tokenizer(kind: str):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if kind == "bpe":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=1200, special_tokens=["<|endoftext|>"],
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        tok.train_from_iterator(_corpus(), trainer)
        return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>")
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first")
    trainer = trainers.BpeTrainer(vocab_size=1200, special_tokens=["<unk>", "<s>", "</s>"])
    tok.train_from_iterator(_corpus(), trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>")


def build_tiny_model(tokenizer, seed: int = 0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=4096, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.eos_token_id)
    return LlamaForCausalLM(config).eval()


@pytest.fixture(scope="session", params=["bpe", "sentencepiece"])
def tiny_model_dir(request, tmp_path_factory) -> Path:
    """A tiny random Llama saved with save_pretrained, to be loaded by path like a real model."""
    tokenizer = build_tokenizer(request.param)
    model = build_tiny_model(tokenizer)
    out = tmp_path_factory.mktemp(f"tiny-{request.param}")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def bpe_model_dir(tmp_path_factory) -> Path:
    tokenizer = build_tokenizer("bpe")
    out = tmp_path_factory.mktemp("tiny-bpe-only")
    build_tiny_model(tokenizer).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def demo_prompts(k: int = 0, variant: str = "mixup"):
    """The demo slice's prompts for two subjects, as MMLU/eval.py builds them."""
    from crossknow.data.mmlu import LocalSource
    from crossknow.evaluate import Settings, load_config_data, make_config, subject_prompts

    settings = Settings(k=k, subjects=["management", "high_school_geography"])
    data = load_config_data(LocalSource(DEMO_DATA), make_config(variant), settings)
    return [p for s, d in data.items() for p in subject_prompts(s, d, settings)]


def paper_method_probs(model, tokenizer, prompt_text: str, ids: list[int]) -> list[float]:
    """The paper's scoring: batch 1, full-sequence logits, softmax over the letters' logits."""
    import torch

    input_ids = tokenizer(prompt_text, return_tensors="pt").input_ids
    with torch.no_grad():
        logits = model(input_ids=input_ids).logits[0, -1]
    return torch.softmax(logits[ids].float(), dim=0).tolist()


SMOLLM2_CHAT_SHA256 = "872be49dbb638044ad01b60388f48d469ff2980e5f0dccdc22ec907db54d0788"


def assert_scored_after_the_assistant_prefix(result: dict, record: dict) -> None:
    """A chat-template result on the embedded SmolLM2: the template's hash recorded, and the letter
    scored right after the assistant prefix, as the paper's method scores the whole text."""
    import hashlib

    from crossknow.models.hf_backend import load_model

    model, tokenizer = load_model(ModelSpec.parse("smollm2"), dtype="fp32", device="cpu")
    assert hashlib.sha256(tokenizer.chat_template.encode()).hexdigest() == SMOLLM2_CHAT_SHA256
    assert result["config"]["apply_chat_template"] is True
    assert result["config"]["chat_template_sha256"] == SMOLLM2_CHAT_SHA256
    ids = result["config"]["answer_token_ids"]["paper"]
    expected = paper_method_probs(model, tokenizer, record["prompt"], ids)
    assert record["probs"] == pytest.approx(dict(zip(LABELS, expected)), abs=1e-5)
