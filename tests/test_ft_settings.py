"""Fine-tuning settings through the dataclass and HfArgumentParser: every shipped config file, and the
command lines users know, resolve to the settings they resolved to before (tests/ft_settings_before.json)."""

import json

import pytest

from conftest import ROOT
from crossknow.training import settings
from crossknow.training.finetuning import ConfigError, flatten, load_config

BEFORE = json.loads((ROOT / "tests" / "ft_settings_before.json").read_text(encoding="utf-8"))


def typed(flat: dict) -> dict:
    """Values with their type: 1 and 1.0, or 0 and False, must not pass for each other."""
    return {key: (type(value).__name__, value) for key, value in flat.items()}


@pytest.mark.parametrize("path", sorted(BEFORE["configs"]))
def test_every_shipped_config_loads_to_the_same_settings(path):
    assert typed(flatten(load_config(ROOT / path, ["--train_file", "x.txt"]))) == typed(BEFORE["configs"][path])


def test_a_command_line_of_overrides_gives_the_same_settings():
    case = BEFORE["command_line"]
    assert typed(flatten(load_config(ROOT / case["config"], case["argv"]))) == typed(case["flat"])


def is_settings_file(path) -> bool:
    try:
        settings.read_yaml_config(path)
    except ConfigError:  # accelerate's launcher configs (ddp.yaml, ...) hold other keys
        return False
    return True


def test_every_shipped_config_file_is_covered():
    shipped = {path.relative_to(ROOT).as_posix() for path in (ROOT / "FT").rglob("*.yaml") if is_settings_file(path)}
    assert shipped == set(BEFORE["configs"])


def test_the_yaml_lora_block_and_flat_field_names_are_the_same_setting(tmp_path):
    nested, flat = tmp_path / "nested.yaml", tmp_path / "flat.yaml"
    nested.write_text("LoRA:\n  r: 8\n  target_modules: [q_proj, v_proj]\n")
    flat.write_text("lora_r: 8\nlora_target_modules: [q_proj, v_proj]\n")
    assert load_config(nested, ["--train_file", "x"]) == load_config(flat, ["--train_file", "x"])
    assert load_config(nested, ["--train_file", "x"])["LoRA"]["target_modules"] == ["q_proj", "v_proj"]


def test_command_line_values_read_as_before():
    config = load_config(None, ["--train_file", "x", "--deepspeed", "null", "--warmup_steps", "5",
                                "--LoRA.target_modules", "q_proj", "--LoRA.merge", "false"])
    assert (config["deepspeed"], config["warmup_steps"], config["LoRA"]["target_modules"], config["LoRA"]["merge"]) \
        == (None, 5, "q_proj", False)
    assert load_config(None, ["--train_file", "x", "--warmup_steps", "epoch"])["warmup_steps"] == "epoch"
    with pytest.raises(ConfigError, match=r"^--warmup_steps: takes an integer >= 0 or 'epoch', got 'soon'$"):
        load_config(None, ["--train_file", "x", "--warmup_steps", "soon"])


def test_no_training_text_is_a_one_line_error():
    with pytest.raises(ConfigError, match="^train_file: no training text; set it in the config or pass --train_file"):
        load_config(None, [])


def test_the_defaults_are_the_papers_hyper_parameters():
    paper = {"LoRA.r": 0, "batch_size": 2, "gradient_accumulation_steps": 8, "num_epochs": 1, "lr": 2e-5,
             "weight_decay": 0.01, "seed": 42}
    assert {key: settings.DEFAULTS[key] for key in paper} == paper
