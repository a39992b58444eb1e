"""Fine-tune a causal LM on a (mixed-language) text corpus: full or LoRA, on one or many GPUs.

The settings are a dataclass (``crossknow/training/settings.py``): a YAML config and then the
command-line flags (``--lr 1e-4``, ``--LoRA.r 8``) are applied over the defaults; an unknown key or a
value of the wrong kind is an error naming the file or flag. Before the model loads, the corpus is
checked (exists, UTF-8, not empty, at least one block of tokens) and the output folder is compared
with the run: the resolved config and the corpus checksums are saved at the start and in every
checkpoint, and a resume under other settings is refused (``--restart`` starts over). A checkpoint
is used only once this module has marked it complete, so one cut short by a kill is skipped.

    python FT/finetune.py --config FT/ft_config.yaml --model meta-llama/Meta-Llama-3-8B \\
        --train_file data/wiki2-sentence/mixed.txt --output_dir checkpoints/llama3-wiki2-sentence
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import os
import re
import shutil
import time
from pathlib import Path

import yaml

from crossknow.core.io import atomic_write_text
from crossknow.core.model_spec import ModelSpec, is_gguf_name
from crossknow.core.results import SCHEMA_VERSION, write_result
from crossknow.core.resume import ResumeError, check_same
from crossknow.data.tofu_examples import tofu_examples
from crossknow.training.settings import (  # noqa: F401 - ConfigError, load_config, flatten: this module's API
    ConfigError,
    flatten,
    load_config,
    parse_settings,
    settings_parser,
)

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINT_MARK = "crossknow_checkpoint.json"
SUMMARY_FILE = "train_summary.json"  # written last: its presence means the run ended  # written after the Trainer finished saving a checkpoint
RUN_FILE = "ft_run.json"  # the run's config and corpus checksums, written before training starts
# Settings that do not change the trained weights: a resume may change them.
NOT_COMPARED = {"output_dir", "logging_steps", "save_steps", "save_total_limit"}


def read_corpus(files: list[str]) -> tuple[list[str], dict[str, str]]:
    """(documents, SHA-256 per file). Every file must exist, be UTF-8 and hold a non-empty line."""
    docs, checksums = [], {}
    for path in files:
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"train_file: {path}: no such file") from None
        except IsADirectoryError:
            raise ConfigError(f"train_file: {path}: is a folder, not a text file") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise ConfigError(f"train_file: {path}: line {line}: not UTF-8 text (byte {error.start})") from None
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            raise ConfigError(f"train_file: {path}: empty (no non-blank line)")
        docs += lines
        checksums[path] = hashlib.sha256(data).hexdigest()
    return docs, checksums


def read_documents(files: list[str]) -> list[str]:
    """Non-empty lines are the documents (WikiText's paragraphs and headings)."""
    return read_corpus(files)[0]


def pack(token_lists: list[list[int]], block_size: int, eos_id: int | None) -> list[list[int]]:
    """Concatenate the documents (EOS between them) and cut fixed blocks; the remainder is dropped."""
    stream = []
    for ids in token_lists:
        stream += ids + ([eos_id] if eos_id is not None else [])
    return [stream[i:i + block_size] for i in range(0, len(stream) - block_size + 1, block_size)]


def build_dataset(tokenizer, docs: list[str], config: dict) -> list[dict]:
    import torch

    if config["tofu_examples"]:
        return build_tofu_dataset(tokenizer, docs, config)[0]
    token_lists = tokenizer(docs, add_special_tokens=False)["input_ids"]
    if config["packing"]:
        examples = pack(token_lists, config["block_size"], tokenizer.eos_token_id)
    else:
        examples = [ids[: config["block_size"]] for ids in token_lists if ids]
    if not examples:
        total = sum(len(ids) for ids in token_lists)
        raise ConfigError(f"train_file: {', '.join(config['train_file'])}: {total} tokens, fewer than "
                          f"block_size={config['block_size']}")
    return [{"input_ids": torch.tensor(ids)} for ids in examples]


def build_tofu_dataset(tokenizer, docs: list[str], config: dict) -> tuple[list[dict], dict]:
    """(one example per document as TOFU's loader makes it, what truncation dropped); prints the latter."""
    import torch

    examples, truncation = tofu_examples(tokenizer, docs, config["max_length"])
    print(truncation.note(config["max_length"]))
    return [{"input_ids": torch.tensor(ids)} for ids in examples], truncation.as_dict()


class Collator:
    """Pads a batch (right) and masks padding out of the loss."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, features):
        import torch

        width = max(len(f["input_ids"]) for f in features)
        input_ids = torch.full((len(features), width), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros_like(input_ids)
        for row, f in enumerate(features):
            n = len(f["input_ids"])
            input_ids[row, :n], attention_mask[row, :n] = f["input_ids"], 1
        labels = input_ids.masked_fill(attention_mask == 0, -100)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def precision_used(precision: str) -> str:
    """The precision training will run in: ``auto`` resolved on this device; one the device cannot
    train in (fp16 without a CUDA GPU, bf16 on a GPU without it) is refused, never recorded as used."""
    import torch

    cuda = torch.cuda.is_available()
    if precision == "auto":
        return "fp32" if not cuda else "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if precision == "fp16" and not cuda:
        raise ConfigError("precision: fp16 needs a CUDA GPU, and there is none here; use fp32 (or auto, bf16)")
    if precision == "bf16" and cuda and not torch.cuda.is_bf16_supported():
        raise ConfigError("precision: bf16 is not supported by this GPU; use fp16 or fp32 (or auto)")
    return precision


def choose_optimizer(name: str) -> tuple[str, str | None]:
    """(optimizer to use, note). bitsandbytes optimizers fall back to AdamW where they cannot run."""
    if not any(part in name for part in ("paged", "bnb", "8bit")):
        return name, None
    import torch

    if importlib.util.find_spec("bitsandbytes") is None:
        reason = "bitsandbytes is not installed"
    elif not torch.cuda.is_available():
        reason = "no CUDA GPU"
    else:
        return name, None
    return "adamw_torch", (f"optim {name} needs bitsandbytes on a CUDA GPU ({reason}): training with "
                           "adamw_torch instead (the same update without paging optimizer memory)")


def resolve_deepspeed(path: str | None) -> str | None:
    if path is None:
        return None
    found = next((p for p in (Path(path), ROOT / path) if p.is_file()), None)
    if found is None:
        raise ConfigError(f"deepspeed: {path}: no such file")
    if importlib.util.find_spec("deepspeed") is None:
        raise ConfigError(f"deepspeed: {path}: the deepspeed package is not installed "
                          "(pip install deepspeed), or pass --deepspeed null to train without it")
    return str(found)


def check_trainer_names(config: dict) -> None:
    """``optim`` and ``lr_scheduler_type`` must be names transformers knows."""
    from transformers.trainer_utils import SchedulerType
    from transformers.training_args import OptimizerNames

    for key, names in (("optim", OptimizerNames), ("lr_scheduler_type", SchedulerType)):
        known = [name.value for name in names]
        if config[key] not in known:
            raise ConfigError(f"{key}: {config[key]}: not a transformers name; known: {', '.join(known)}")


def check_local_path(key: str, value: str | None) -> None:
    """A model given as a path (``/``, ``./``, ``../``, ``~``, ``.gguf``) must exist: never a hub lookup."""
    if value and (value.startswith(("/", "./", "../", "~")) or is_gguf_name(value)):
        if not Path(value).expanduser().exists():
            raise ConfigError(f"{key}: {value}: no such file or folder")


def total_optimizer_steps(n_examples: int, config: dict, world_size: int) -> int:
    """The optimizer steps the Trainer will run (its own arithmetic: no batch is dropped)."""
    if config["max_steps"] > 0:
        return config["max_steps"]
    batches = math.ceil(n_examples / (config["batch_size"] * world_size))
    per_epoch = max(math.ceil(batches / config["gradient_accumulation_steps"]), 1)
    return math.ceil(config["num_epochs"] * per_epoch)


def warmup_steps(n_examples: int, config: dict, world_size: int) -> float:
    """Warm-up as TrainingArguments takes it: steps (>= 1) or a ratio (< 1).

    ``epoch`` is the schedule of TOFU's finetune.py, which the paper used: total steps / epochs,
    so with one epoch the learning rate rises over the whole run."""
    if config["warmup_steps"] == "epoch":
        total = total_optimizer_steps(n_examples, config, world_size)
        return max(1, int(total // config["num_epochs"]))
    return config["warmup_steps"] or float(config["warmup_ratio"])


def fingerprint(config: dict, checksums: dict[str, str]) -> dict:
    """What a run's weights depend on: every setting but NOT_COMPARED, and the corpus checksums."""
    compared = {k: v for k, v in flatten(config).items() if k not in NOT_COMPARED}
    return {"config": compared, "corpus_sha256": checksums}


def compared_run(run: dict, reference: dict | None = None) -> dict:
    """The parts of a run file that decide its weights. A run file from before the optimizer was
    recorded is taken to have used ``reference``'s."""
    optim = run.get("optim_used", (reference or {}).get("optim_used"))
    return {"config": run.get("config", {}), "corpus_sha256": run.get("corpus_sha256"), "optim_used": optim}


def refuse_if_changed(where: Path, saved: dict, current: dict) -> None:
    """A folder saved under other settings, another corpus or another optimizer is refused, naming
    the first difference (``crossknow.core.resume``)."""
    try:
        check_same(where, compared_run(saved, current), compared_run(current),
                   "rerun with the same settings, or pass --restart to start over (deletes its checkpoints)",
                   "saved under another configuration")
    except ResumeError as error:
        raise ConfigError(str(error)) from None


def checkpoints(output_dir: Path) -> list[Path]:
    """``checkpoint-N`` folders, newest first."""
    found = [p for p in output_dir.glob("checkpoint-*") if p.is_dir() and re.fullmatch(r"checkpoint-\d+", p.name)]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]), reverse=True)


def find_resume_point(output_dir: Path, current: dict) -> Path | None:
    """The newest complete checkpoint, after checking that the folder was made by this same run.

    Incomplete checkpoints (no mark: the process died while saving) are skipped with a note."""
    if not output_dir.is_dir():
        return None
    run_file = output_dir / RUN_FILE
    if run_file.is_file():
        saved = read_json(run_file)
        if saved is None:
            raise ConfigError(f"{run_file}: not readable JSON; pass --restart to start over")
        refuse_if_changed(run_file, saved, current)
    for checkpoint in checkpoints(output_dir):
        mark = read_json(checkpoint / CHECKPOINT_MARK)
        if mark is None:
            print(f"note: skipping {checkpoint}: incomplete (no readable {CHECKPOINT_MARK}; cut short while saving?)")
            continue
        refuse_if_changed(checkpoint / CHECKPOINT_MARK, mark, current)
        damage = damaged_file(checkpoint)
        if damage:
            print(f"note: skipping {checkpoint}: marked complete but {damage}; falling back to an older checkpoint")
            continue
        return checkpoint
    return None


def damaged_file(checkpoint: Path) -> str | None:
    """What is wrong with a checkpoint's saved files, or None: a safetensors file shorter than its
    header says, a torch ``.pt``/``.bin`` archive that does not open (cut short), no weights at all."""
    weights = sorted(checkpoint.glob("*.safetensors")) + sorted(checkpoint.glob("*.bin"))
    if not weights:
        return "it holds no weights file (*.safetensors, *.bin)"
    for path in weights + sorted(checkpoint.glob("*.pt")):
        problem = safetensors_problem(path) if path.suffix == ".safetensors" else archive_problem(path)
        if problem:
            return f"{path.name} is damaged ({problem})"
    return None


def safetensors_problem(path: Path) -> str | None:
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        header_length = int.from_bytes(head, "little") if len(head) == 8 else None
        if header_length is None or header_length > size - 8:
            return f"{size} bytes, too short for its header"
        try:
            header = json.loads(f.read(header_length))
        except ValueError:
            return "unreadable header"
    end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"), default=0)
    return None if size >= 8 + header_length + end else f"{size} bytes, its header needs {8 + header_length + end}"


def archive_problem(path: Path) -> str | None:
    import zipfile

    if not zipfile.is_zipfile(path):  # torch.save writes a zip archive; a cut one has no central directory
        return f"{path.stat().st_size} bytes, not a complete torch archive"
    return None


def finished_summary(output_dir: Path) -> dict | None:
    """The summary of a run that ended (it is written last, after the model), or None. Called after
    ``find_resume_point`` has checked that the folder's run file has the current settings."""
    return read_json(output_dir / SUMMARY_FILE) if (output_dir / RUN_FILE).is_file() else None


def read_json(path: Path) -> dict | None:
    """The JSON object in ``path``, or None when it is missing or unreadable."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def start_output_dir(output_dir: Path, config: dict, run: dict, restart: bool) -> None:
    """Main process: on --restart delete the old checkpoints; save the resolved config and run file."""
    if restart:
        (output_dir / SUMMARY_FILE).unlink(missing_ok=True)  # the run is no longer finished
        for checkpoint in checkpoints(output_dir):
            shutil.rmtree(checkpoint)
    atomic_write_text(output_dir / "ft_config.resolved.yaml", yaml.safe_dump(config, sort_keys=False))
    write_result(output_dir / RUN_FILE, run, "finetuning_run")


def model_spec(config: dict) -> ModelSpec:
    """The parsed ``model`` setting, with ``arch``'s tokenizer when given."""
    return ModelSpec.parse(config["model"], tokenizer=config.get("arch"))


def load_tokenizer_for_training(config: dict):
    from crossknow.models.hf_backend import load_tokenizer

    tokenizer = load_tokenizer(model_spec(config))
    tokenizer.padding_side = "right"
    return tokenizer


def load_model_for_training(config: dict):
    import torch
    from transformers import AutoModelForCausalLM

    path, gguf_file = model_spec(config).location()
    model = AutoModelForCausalLM.from_pretrained(path, gguf_file=gguf_file, dtype=torch.float32)
    if config["LoRA"]["r"] > 0:
        from peft import LoraConfig, get_peft_model

        lora = config["LoRA"]
        model = get_peft_model(model, LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"],
                                                 target_modules=lora["target_modules"], task_type="CAUSAL_LM"))
    return model


def build_parser(description: str | None = None, default_config: Path | None = None) -> argparse.ArgumentParser:
    """The command line: every setting as a flag (``--lr``, ``--LoRA.r``), ``--config`` and ``--restart``."""
    shown = default_config.relative_to(ROOT) if default_config and default_config.is_relative_to(ROOT) else default_config
    return settings_parser(description or __doc__, default_config, shown)


def main(argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None) -> dict:
    """Parse, check everything cheap, then load the model and train. Returns the run's summary."""
    config, args = parse_settings(parser or build_parser(), argv)
    check_trainer_names(config)
    docs, checksums = read_corpus(config["train_file"])
    optim, optim_note = choose_optimizer(config["optim"])
    run = {"schema_version": SCHEMA_VERSION, **fingerprint(config, checksums), "optim_used": optim,
           "optim_note": optim_note}
    output_dir = Path(config["output_dir"])
    run["precision_used"] = precision_used(config["precision"])
    resume = None if args.restart else find_resume_point(output_dir, run)
    finished = None if args.restart else finished_summary(output_dir)
    if finished is not None:
        print(f"note: {output_dir} holds a finished run of these settings ({SUMMARY_FILE}): left alone; "
              "pass --restart to train again")
        return finished
    deepspeed = resolve_deepspeed(config["deepspeed"])
    for key in ("model", "arch"):
        check_local_path(key, config[key])
    tokenizer = load_tokenizer_for_training(config)
    if config["tofu_examples"]:
        dataset, run["truncation"] = build_tofu_dataset(tokenizer, docs, config)
    else:
        dataset = build_dataset(tokenizer, docs, config)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    warmup = warmup_steps(len(dataset), config, world_size)
    if optim_note:
        print(f"note: {optim_note}")
    run["warmup_steps_used"] = warmup
    return train(config, args.restart, resume, run, tokenizer, dataset, deepspeed)


def training_arguments(config: dict, run: dict, deepspeed: str | None):
    """The Trainer's arguments; a value transformers refuses (optim, scheduler, precision) is a ConfigError."""
    from transformers import TrainingArguments

    try:
        return TrainingArguments(
            output_dir=config["output_dir"], per_device_train_batch_size=config["batch_size"],
            gradient_accumulation_steps=config["gradient_accumulation_steps"], num_train_epochs=config["num_epochs"],
            max_steps=config["max_steps"], learning_rate=config["lr"], weight_decay=config["weight_decay"],
            warmup_steps=run["warmup_steps_used"], lr_scheduler_type=config["lr_scheduler_type"],
            optim=run["optim_used"], deepspeed=deepspeed, seed=config["seed"],
            logging_steps=config["logging_steps"],
            save_steps=config["save_steps"], save_total_limit=config["save_total_limit"], report_to=[],
            include_num_input_tokens_seen="non_padding", remove_unused_columns=False, dataloader_drop_last=False,
            bf16=run["precision_used"] == "bf16", fp16=run["precision_used"] == "fp16",
            # passed only when on: transformers 5 warns about the name whenever it is given
            **({"gradient_checkpointing": True} if config["gradient_checkpointing"] else {}))
    except ValueError as error:
        raise ConfigError(f"training arguments: {str(error).splitlines()[0]}") from None


def train(config: dict, restart: bool, resume: Path | None, run: dict, tokenizer, dataset, deepspeed) -> dict:
    from transformers import Trainer, TrainerCallback

    output_dir = Path(config["output_dir"])
    # Built before the model loads: with DeepSpeed ZeRO-3 the arguments must exist at load time.
    training_args = training_arguments(config, run, deepspeed)
    with training_args.main_process_first(local=False, desc="preparing the output folder"):
        if training_args.process_index == 0:
            start_output_dir(output_dir, config, run, restart)
    model = load_model_for_training(config)

    class MarkCheckpoints(TrainerCallback):
        """Marks a checkpoint complete (with the run's fingerprint) once the Trainer has saved it."""

        def on_save(self, args, trainer_state, control, **kwargs):
            if trainer_state.is_world_process_zero:
                folder = output_dir / f"checkpoint-{trainer_state.global_step}"
                atomic_write_text(folder / "ft_config.resolved.yaml", yaml.safe_dump(config, sort_keys=False))
                write_result(folder / CHECKPOINT_MARK, run, "finetuning_run")

    class Throughput(TrainerCallback):
        def on_train_begin(self, _args, trainer_state, control, **kwargs):
            self.start, self.tokens = time.perf_counter(), trainer_state.num_input_tokens_seen

        def on_log(self, _args, trainer_state, control, logs=None, **kwargs):
            if logs is not None and "loss" in logs:
                seen, elapsed = trainer_state.num_input_tokens_seen, time.perf_counter() - self.start
                logs["tokens_per_second"] = round((seen - self.tokens) / max(elapsed, 1e-9), 1)
                self.start, self.tokens = time.perf_counter(), seen

    trainer = Trainer(model=model, args=training_args, train_dataset=dataset, data_collator=Collator(tokenizer.pad_token_id),
                      callbacks=[MarkCheckpoints(), Throughput()])
    if resume:
        print(f"resuming from {resume}")
    tokens_before = json.loads((resume / "trainer_state.json").read_text())["num_input_tokens_seen"] if resume else 0
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    seconds = time.perf_counter() - start
    tokens = trainer.state.num_input_tokens_seen
    summary = {"schema_version": SCHEMA_VERSION, "train_loss": result.training_loss,
               "global_step": result.global_step, "examples": len(dataset),
               "train_tokens": tokens, "train_tokens_this_run": tokens - tokens_before,
               "seconds": round(seconds, 2),
               "tokens_per_second": round((tokens - tokens_before) / seconds, 1) if seconds else math.nan,
               "resumed_from": str(resume) if resume else None, "optim_used": run["optim_used"],
               "optim_note": run["optim_note"], "warmup_steps_used": run["warmup_steps_used"],
               "precision_used": run["precision_used"]}
    save(trainer, model, tokenizer, config, output_dir, summary)
    print(json.dumps(summary, indent=2))
    return summary


def save(trainer, model, tokenizer, config: dict, output_dir: Path, summary: dict) -> None:
    """The model (LoRA: the adapter, plus the merged model when LoRA.merge), tokenizer, summary.

    ``trainer.save_model`` runs on every process: sharded engines gather the weights there."""
    if config["LoRA"]["r"] == 0:
        trainer.save_model(str(output_dir))
    if not trainer.is_world_process_zero():
        return
    if config["LoRA"]["r"] > 0:
        model.save_pretrained(output_dir / "adapter")
        if config["LoRA"]["merge"]:
            model.merge_and_unload().save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    write_result(output_dir / SUMMARY_FILE, summary, "finetuning_summary")
