"""Fine-tuning settings: one dataclass, read from a YAML file and then the command line.

``FinetuneSettings`` holds every setting as a flat field; ``transformers.HfArgumentParser`` turns the
fields into flags (``--lr 1e-4``, ``--lora_r 8``). The paper's config files nest the LoRA settings in
a ``LoRA:`` block; those keys (``LoRA.r``, ...) map onto the ``lora_*`` fields, and ``--LoRA.r 8`` is
an alias of ``--lora_r 8``. A YAML value is checked against its field's kind with an error naming the
file and key; the file's values become the parser's defaults, so a flag given on the command line
wins. ``load_config`` returns the nested dict the trainer, the run fingerprint and the saved
``ft_config.resolved.yaml`` use, with the key names of the paper's files (``LoRA: {r: ...}``).
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from transformers import HfArgumentParser

from crossknow.core.model_spec import PAPER_FINETUNE_MODEL
from crossknow.data.tofu_examples import check_tofu_settings

PRECISIONS = ("auto", "bf16", "fp16", "fp32")
LORA_BLOCK = "LoRA"
YAML_NULLS = ("~", "null", "Null", "NULL")  # a command-line value that YAML reads as "no value"


class ConfigError(ValueError):
    """A setting, the corpus or the output folder is not usable; the message names which."""


def setting(default, help: str, lora_key: str | None = None):
    """A field and its flag's help; a field of the paper's ``LoRA:`` block also takes ``--LoRA.<key>``."""
    aliases = [f"--{LORA_BLOCK}.{lora_key}"] if lora_key else []
    return field(default=default, metadata={"help": help, "aliases": aliases})


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The description as written; each flag's default in force (the config file's, once read)."""


@dataclass
class FinetuneSettings:
    """Every fine-tuning setting; the defaults are the paper's hyper-parameters (FT/ft_config.yaml)."""

    lora_r: int = setting(0, "0: full fine-tuning; > 0: LoRA rank (peft)", lora_key="r")
    lora_alpha: int = setting(32, "LoRA alpha", lora_key="alpha")
    lora_dropout: float = setting(0.05, "LoRA dropout", lora_key="dropout")
    # A name, all-linear, or a list: in YAML a list, on the command line a YAML list such as "[q_proj, v_proj]".
    lora_target_modules: str = setting("all-linear", "modules LoRA adapts (a name or a list)", lora_key="target_modules")
    lora_merge: bool = setting(True, "also save the merged model, loadable like any checkpoint", lora_key="merge")
    batch_size: int = setting(2, "examples per device per step")
    gradient_accumulation_steps: int = setting(8, "micro-batches per optimizer step")
    num_epochs: int = setting(1, "passes over the corpus")
    lr: float = setting(2e-5, "peak learning rate")
    weight_decay: float = setting(0.01, "AdamW weight decay")
    seed: int = setting(42, "seed of the data order and initialisation")
    model: str = setting(PAPER_FINETUNE_MODEL, "hub name, local folder, .gguf file or smollm2")
    arch: str | None = setting(None, "tokenizer source when it differs from the model")
    train_file: list[str] | None = setting(None, "one or more text files (one document per non-empty line)")
    output_dir: str = setting("checkpoints/ft", "where checkpoints and the final model go")
    block_size: int = setting(1024, "tokens per packed training sequence")
    packing: bool = setting(True, "false: one example per document, padded per batch (slower)")
    tofu_examples: bool = setting(False, "true: TOFU's loader (BOS, each line cut at max_length, one EOS; "
                                         "needs packing false)")
    max_length: int = setting(500, "tokens per example with tofu_examples (TOFU's finetune.py: 500)")
    max_steps: int = setting(-1, "> 0 stops after this many optimizer steps")
    warmup_ratio: float = setting(0.0, "share of the steps spent warming up the learning rate")
    # Text on the command line: an integer or 'epoch' (read into an int or 'epoch').
    warmup_steps: str = setting(0, "warm-up steps, or 'epoch': total steps / num_epochs (the paper's)")
    lr_scheduler_type: str = setting("linear", "transformers scheduler name")
    optim: str = setting("adamw_torch_fused", "transformers optimizer name; paged_adamw_32bit needs bitsandbytes")
    deepspeed: str | None = setting(None, "DeepSpeed JSON config (needs the deepspeed package)")
    precision: Literal["auto", "bf16", "fp16", "fp32"] = setting(
        "auto", "auto (bf16 where the GPU supports it, else fp16; fp32 on CPU), bf16, fp16, fp32")
    gradient_checkpointing: bool = setting(False, "recompute activations to save memory")
    logging_steps: int = setting(10, "log loss and tokens per second every N steps")
    save_steps: int = setting(500, "checkpoint every N steps")
    save_total_limit: int = setting(2, "checkpoints kept")


FIELDS = {f.name: f for f in dataclasses.fields(FinetuneSettings)}


def key_of(name: str) -> str:
    """A field's key in the config files: ``lora_r`` is ``LoRA.r``; the others are their own name."""
    return f"{LORA_BLOCK}.{name.removeprefix('lora_')}" if name.startswith("lora_") else name


FIELD_OF_KEY = {key_of(name): name for name in FIELDS}
DEFAULTS = {key_of(name): f.default for name, f in FIELDS.items()}


def default_config() -> dict:
    return unflatten(dict(DEFAULTS))


def flatten(config: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def unflatten(flat: dict) -> dict:
    config: dict = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = config
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return config


def kind_of(key: str) -> str:
    default = DEFAULTS[key]
    if key == "warmup_steps":
        return "an integer >= 0 or 'epoch'"
    if key == "precision":
        return " or ".join(PRECISIONS)
    return {bool: "true or false", float: "a number", int: "an integer", str: "text"}.get(type(default), "a value")


def coerce(key: str, value, where: str):
    """``value`` as the kind of ``key``'s default; ``where`` names the file or flag in errors."""
    default = DEFAULTS[key]
    wrong = ConfigError(f"{where}: takes {kind_of(key)}, got {value!r}")
    if key == "warmup_steps":
        if value == "epoch" or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            return value
        raise wrong
    if key == "precision" and value not in PRECISIONS:
        raise wrong
    if default is None:
        return value
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise wrong
    if isinstance(default, float):
        if isinstance(value, str):  # YAML 1.1 reads 1e-4 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                raise wrong from None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise wrong
    if isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise wrong
    if isinstance(value, str) or (key == "LoRA.target_modules" and isinstance(value, list)):
        return value
    raise wrong


def read_yaml_config(path: Path) -> dict:
    """A YAML config as field names and checked values; every key must be a known setting."""
    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not a readable YAML file ({str(error).splitlines()[0]})") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(loaded).__name__}")
    values = {}
    for key, value in flatten(loaded).items():
        key = key_of(key) if key in FIELDS else key  # a flat field name (lora_r) is taken too
        if key not in FIELD_OF_KEY:
            raise ConfigError(f"{path}: unknown setting {key!r}; known: {', '.join(DEFAULTS)}")
        values[FIELD_OF_KEY[key]] = coerce(key, value, f"{path}: {key}")
    return values


def settings_parser(description: str | None = None, default_config: Path | None = None,
                    shown_config: str | Path | None = None) -> HfArgumentParser:
    """The settings' flags, plus ``--config`` (the YAML file read first) and ``--restart``."""
    parser = HfArgumentParser(FinetuneSettings, description=description, allow_abbrev=False,
                              formatter_class=HelpFormatter)
    parser.add_argument("--config", type=Path, default=default_config,
                        help=f"YAML file of settings, read before the flags (default: "
                             f"{shown_config or default_config or 'the built-in defaults'})")
    parser.add_argument("--restart", action="store_true",
                        help="delete the checkpoints in output_dir and start over (also after a config change)")
    return parser


def config_file(parser: argparse.ArgumentParser, argv: list[str] | None) -> Path | None:
    """The ``--config`` given in ``argv``, else the parser's default."""
    first = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    first.add_argument("--config", type=Path, default=parser.get_default("config"))
    return first.parse_known_args(argv)[0].config


def parse_settings(parser: HfArgumentParser, argv: list[str] | None) -> tuple[dict, argparse.Namespace]:
    """(the resolved config, the other arguments): defaults, the YAML file, then the flags."""
    path = config_file(parser, argv)
    if path is not None:
        parser.set_defaults(**read_yaml_config(path))
    settings, others, unknown = parser.parse_args_into_dataclasses(argv, return_remaining_strings=True,
                                                                   look_for_args_file=False)
    if unknown:
        known = ", ".join(f"--{key}" for key in DEFAULTS)
        raise ConfigError(f"unknown setting {unknown[0]!r}; known: {known}")
    return resolved_config(settings), others


def from_command_line(name: str, value):
    """A flag's text as the value it means: YAML null, an integer warm-up, a YAML list of files or modules."""
    if isinstance(value, str) and value in YAML_NULLS and name in ("arch", "deepspeed"):
        return None
    if name == "warmup_steps" and isinstance(value, str) and value.isdigit():
        return int(value)
    if name == "lora_target_modules" and isinstance(value, str) and value.startswith("["):
        return yaml.safe_load(value)
    if name == "train_file" and isinstance(value, list) and len(value) == 1 and value[0].startswith("["):
        return yaml.safe_load(value[0])
    return value


def resolved_config(settings: FinetuneSettings) -> dict:
    """The nested config (``LoRA: {...}``), each value checked; ``train_file`` always a list."""
    flat = {}
    for name in FIELDS:
        key = key_of(name)
        flat[key] = coerce(key, from_command_line(name, getattr(settings, name)), f"--{key}")
    check_ranges(flat)
    if not flat["train_file"]:
        raise ConfigError("train_file: no training text; set it in the config or pass --train_file PATH")
    files = flat["train_file"] if isinstance(flat["train_file"], list) else [flat["train_file"]]
    flat["train_file"] = [str(f) for f in files]
    return unflatten(flat)


def load_config(path: Path | None, argv: list[str], description: str | None = None) -> dict:
    """Defaults, then the YAML file (when given), then the flags in ``argv``; checked and resolved."""
    return parse_settings(settings_parser(description, default_config=path), argv)[0]


def check_ranges(config: dict) -> None:
    """Values each setting's kind allows but training does not (``config``: flat or nested keys)."""
    positive = ["batch_size", "gradient_accumulation_steps", "block_size", "logging_steps", "save_steps",
                "lr", "num_epochs"]
    for key in positive:
        if config[key] <= 0:
            raise ConfigError(f"{key}: must be > 0, got {config[key]}")
    if config["block_size"] < 2:
        raise ConfigError(f"block_size: must be at least 2 tokens, got {config['block_size']}")
    if config["max_steps"] == 0 or config["max_steps"] < -1:
        raise ConfigError(f"max_steps: must be at least 1 (or -1: train num_epochs), got {config['max_steps']}")
    if config["warmup_ratio"] and config["warmup_steps"]:
        raise ConfigError("warmup_steps and warmup_ratio: set one of them, not both")
    if not 0 <= config["warmup_ratio"] < 1:
        raise ConfigError(f"warmup_ratio: must be in [0, 1), got {config['warmup_ratio']}")
    problem = check_tofu_settings(config)
    if problem:
        raise ConfigError(problem)

