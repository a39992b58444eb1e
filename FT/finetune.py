"""Fine-tune a causal LM on a (mixed-language) text corpus: full or LoRA, on one or many GPUs.

Driven by a YAML config (FT/ft_config.yaml holds the paper's hyper-parameters); any key can be
overridden from the command line (``--lr 1e-4``, ``--LoRA.r 8``). Text is packed into blocks of
``block_size`` tokens. Saves the model, the tokenizer and the resolved config; an interrupted run
resumes from its last checkpoint. Logs loss and training tokens per second.

    python FT/finetune.py --config FT/ft_config.yaml --model meta-llama/Meta-Llama-3-8B \\
        --train_file data/wiki2-sentence/mixed.txt --output_dir checkpoints/llama3-wiki2-sentence
    accelerate launch --config_file FT/configs/fsdp.yaml FT/finetune.py --config FT/ft_config.yaml ...
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from crossknow.cli import run  # noqa: E402

DEFAULT_CONFIG = Path(__file__).resolve().parent / "ft_config.yaml"


class ConfigError(ValueError):
    pass


def flatten(config: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def merge_overrides(config: dict, overrides: list[str]) -> dict:
    """Apply ``--key value`` pairs (values parsed as YAML) to a nested config; unknown keys are errors."""
    known = flatten(config)
    if len(overrides) % 2:
        raise ConfigError(f"overrides come in --key value pairs, got {overrides}")
    merged = json.loads(json.dumps(config))
    for flag, raw in zip(overrides[::2], overrides[1::2]):
        key = flag.removeprefix("--")
        if not flag.startswith("--") or key not in known:
            raise ConfigError(f"unknown setting {flag!r}; known: {', '.join('--' + k for k in known)}")
        node = merged
        *parents, leaf = key.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = parse_value(raw, known[key], flag)
    return merged


def parse_value(raw: str, current, flag: str):
    """YAML, except that numbers such as ``1e-4`` (a string to YAML 1.1) become numbers."""
    value = yaml.safe_load(raw)
    if isinstance(value, str) and (isinstance(current, float) or current is None):
        try:
            return float(value)
        except ValueError:
            return value
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(current, bool) and not isinstance(value, bool):
        raise ConfigError(f"{flag} takes true or false, got {raw!r}")
    return value


def load_config(path: Path, overrides: list[str]) -> dict:
    config = merge_overrides(yaml.safe_load(Path(path).read_text()), overrides)
    if not config.get("train_file"):
        raise ConfigError("no training text: set train_file (in the config or --train_file PATH)")
    files = config["train_file"] if isinstance(config["train_file"], list) else [config["train_file"]]
    missing = [f for f in files if not Path(f).is_file()]
    if missing:
        raise ConfigError(f"train_file not found: {', '.join(missing)}")
    config["train_file"] = files
    return config


def read_documents(files: list[str]) -> list[str]:
    """Non-empty lines are the documents (WikiText's paragraphs and headings)."""
    docs = []
    for path in files:
        docs += [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return docs


def pack(token_lists: list[list[int]], block_size: int, eos_id: int | None) -> list[list[int]]:
    """Concatenate the documents (EOS between them) and cut fixed blocks; the remainder is dropped."""
    stream = []
    for ids in token_lists:
        stream += ids + ([eos_id] if eos_id is not None else [])
    return [stream[i:i + block_size] for i in range(0, len(stream) - block_size + 1, block_size)]


def build_dataset(tokenizer, config: dict):
    import torch

    docs = read_documents(config["train_file"])
    token_lists = tokenizer(docs, add_special_tokens=False)["input_ids"]
    if config["packing"]:
        examples = pack(token_lists, config["block_size"], tokenizer.eos_token_id)
    else:
        examples = [ids[: config["block_size"]] for ids in token_lists if ids]
    if not examples:
        raise ConfigError(f"the training text has fewer than block_size={config['block_size']} tokens")
    return [{"input_ids": torch.tensor(ids)} for ids in examples]


class Collator:
    """Pads a batch (right), masks padding out of the loss, and counts the real tokens seen."""

    def __init__(self, pad_id: int):
        self.pad_id, self.tokens = pad_id, 0

    def __call__(self, features):
        import torch

        width = max(len(f["input_ids"]) for f in features)
        input_ids = torch.full((len(features), width), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros_like(input_ids)
        for row, f in enumerate(features):
            n = len(f["input_ids"])
            input_ids[row, :n], attention_mask[row, :n] = f["input_ids"], 1
        labels = input_ids.masked_fill(attention_mask == 0, -100)
        self.tokens += int(attention_mask.sum())
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def precision_flags(precision: str) -> dict:
    import torch

    if precision == "auto":
        if not torch.cuda.is_available():
            return {}
        return {"bf16": True} if torch.cuda.is_bf16_supported() else {"fp16": True}
    return {"bf16": precision == "bf16", "fp16": precision == "fp16"}


def load_for_training(config: dict):
    import torch
    from transformers import AutoModelForCausalLM

    from crossknow.hf_backend import load_tokenizer, resolve_model_path

    path, gguf_file = resolve_model_path(config["model"])
    model = AutoModelForCausalLM.from_pretrained(path, gguf_file=gguf_file, dtype=torch.float32)
    tokenizer = load_tokenizer(config["model"], config.get("arch"))
    tokenizer.padding_side = "right"
    if config["LoRA"]["r"] > 0:
        from peft import LoraConfig, get_peft_model

        lora = config["LoRA"]
        model = get_peft_model(model, LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"],
                                                 target_modules=lora["target_modules"], task_type="CAUSAL_LM"))
    return model, tokenizer


def main(argv: list[str] | None = None) -> dict:
    from transformers import Trainer, TrainerCallback, TrainingArguments
    from transformers.trainer_utils import get_last_checkpoint

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    p.add_argument("--restart", action="store_true", help="ignore checkpoints in output_dir and start over")
    args, overrides = p.parse_known_args(argv)
    config = load_config(args.config, overrides)
    output_dir = Path(config["output_dir"])

    model, tokenizer = load_for_training(config)
    dataset = build_dataset(tokenizer, config)
    collator = Collator(tokenizer.pad_token_id)
    training_args = TrainingArguments(
        output_dir=str(output_dir), per_device_train_batch_size=config["batch_size"],
        gradient_accumulation_steps=config["gradient_accumulation_steps"], num_train_epochs=config["num_epochs"],
        max_steps=config["max_steps"], learning_rate=config["lr"], weight_decay=config["weight_decay"],
        warmup_steps=float(config["warmup_ratio"]), lr_scheduler_type=config["lr_scheduler_type"], seed=config["seed"],
        gradient_checkpointing=config["gradient_checkpointing"], logging_steps=config["logging_steps"],
        save_steps=config["save_steps"], save_total_limit=config["save_total_limit"], report_to=[],
        remove_unused_columns=False, dataloader_drop_last=False, **precision_flags(config["precision"]))

    class Throughput(TrainerCallback):
        def __init__(self):
            self.start, self.tokens = time.perf_counter(), 0

        def on_log(self, _args, state, control, logs=None, **kwargs):
            if logs is not None and "loss" in logs:
                elapsed = time.perf_counter() - self.start
                logs["tokens_per_second"] = round((collator.tokens - self.tokens) / max(elapsed, 1e-9), 1)
                self.start, self.tokens = time.perf_counter(), collator.tokens

    trainer = Trainer(model=model, args=training_args, train_dataset=dataset, data_collator=collator,
                      callbacks=[Throughput()])
    last = None if args.restart or not output_dir.is_dir() else get_last_checkpoint(str(output_dir))
    if last:
        print(f"resuming from {last}")
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=last)
    seconds = time.perf_counter() - start

    if trainer.is_world_process_zero():
        save(trainer, model, tokenizer, config, output_dir)
    summary = {"train_loss": result.training_loss, "global_step": result.global_step, "examples": len(dataset),
               "train_tokens_seen": collator.tokens, "seconds": round(seconds, 2),
               "tokens_per_second": round(collator.tokens / seconds, 1) if seconds else math.nan,
               "resumed_from": last}
    print(json.dumps(summary, indent=2))
    return summary


def save(trainer, model, tokenizer, config: dict, output_dir: Path) -> None:
    """The model (LoRA: the adapter, plus the merged model when LoRA.merge), tokenizer, config."""
    if config["LoRA"]["r"] > 0:
        model.save_pretrained(output_dir / "adapter")
        if config["LoRA"]["merge"]:
            model.merge_and_unload().save_pretrained(output_dir)
    else:
        trainer.save_model(str(output_dir))
    tokenizer.save_pretrained(output_dir)
    (output_dir / "ft_config.resolved.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


if __name__ == "__main__":
    run(main)
