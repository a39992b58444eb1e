"""The MMLU, HP and Translation launchers, run with `python` and `accelerate` stubbed on PATH.

Each stub records the command it was given instead of running it, so these tests read exactly
what a launcher would run on a GPU machine: the model comes from `model=` on its first line and
MODEL overrides it, no launcher forces a dtype, the paper's released checkpoints are all covered
with the tokenizers the paper used, and the Translation demo stays out of the full launchers' scoring.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from crossknow.data.flores import FLORES_DIR

ROOT = Path(__file__).resolve().parents[1]
SHARED = {"common.sh"}
NOT_OURS = {"HP/scripts/in_domain.sh"}  # the fine-tuning launcher body; tested with FT/
LAUNCHERS = sorted(
    str(path.relative_to(ROOT))
    for folder in ("MMLU/scripts", "HP/scripts", "Translation/scripts")
    for path in (ROOT / folder).rglob("*.sh")
    if path.name not in SHARED and str(path.relative_to(ROOT)) not in NOT_OURS
)
# prepare_data.sh builds the MMLU data (its MODEL is the translator's; tests/test_prepare_data.py runs it).
MODEL_LAUNCHERS = [launcher for launcher in LAUNCHERS if not launcher.endswith(("evaluate_all.sh", "prepare_data.sh"))]
# The scripts that load the launcher's model, and the flag that names it.
MODEL_SCRIPTS = {"MMLU/eval.py": "--model", "HP/evaluate.py": "--model_name", "Translation/translate.py": "--model",
                 "MMLU/translate.py": "--model"}

RELEASED = [f"cross-ling-know/{base}-{suffix}"
            for base in ("llama2-7b-wiki2", "llama3-8b-wiki2")
            for suffix in ("en", "mixed-lang-document", "mixed-lang-sentence", "mixed-lang-sentence8words")]
RELEASED += [f"cross-ling-know/{base}-wiki103-{suffix}" for base in ("llama3-8b", "llama2-7b")
             for suffix in ("en", "mixed-lang-sentence", "mixed-lang-sentence8words")]
# What the launchers read from the environment: unset, so that they run with their defaults.
LAUNCHER_SETTINGS = ("MODEL", "ARCH", "OPENAI_PRESET", "OUTPUT_DIR", "DATA_DIR", "SAVE_DIR", "HP_DATA", "TRANSLATOR",
                     "ENGLISH_DIR", "OUT_DIR", "GENERATION", "SEED")
BASE_TOKENIZER = {"llama2-7b": "meta-llama/Llama-2-7b-hf", "llama3-8b": "meta-llama/Meta-Llama-3-8B"}


def launch(launcher: str, tmp_path: Path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    """Run a launcher with the stubs; its result and the commands it ran, one list of words each
    (program name first). MMLU launchers read the bundled demo data unless DATA_DIR is given
    (MMLU/data/full is built by users)."""
    stubs, log = tmp_path / "stubs", tmp_path / "commands.log"
    stubs.mkdir(exist_ok=True)
    for program in ("python", "python3", "accelerate", "torchrun", "apertium"):  # the demo checks for apertium
        stub = stubs / program
        stub.write_text('#!/usr/bin/env bash\nprintf "%s\\t" "$(basename "$0")" "$@" >> "$STUB_LOG"\n'
                        'echo >> "$STUB_LOG"\n')
        stub.chmod(0o755)
    base = {k: v for k, v in os.environ.items() if k not in LAUNCHER_SETTINGS}
    environment = {**base, "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}", "STUB_LOG": str(log),
                   "DATA_DIR": "MMLU/data/demo", **env}
    out = subprocess.run(["bash", str(ROOT / launcher), *args], env=environment, capture_output=True, text=True,
                         timeout=60)
    log.touch()
    commands = [line.rstrip("\t").split("\t") for line in log.read_text().splitlines()]
    log.unlink()
    return out, commands


def run_launcher(launcher: str, tmp_path: Path, *args: str, **env: str) -> list[list[str]]:
    """The commands a launcher runs; it must succeed."""
    out, commands = launch(launcher, tmp_path, *args, **env)
    assert out.returncode == 0, out.stderr
    return commands


def flag(command: list[str], name: str) -> str | None:
    """The value of the last ``name`` flag in the command (argparse's last one wins)."""
    values = [command[i + 1] for i, word in enumerate(command[:-1]) if word == name]
    return values[-1] if values else None


def models_loaded(commands: list[list[str]]) -> list[str]:
    models = []
    for command in commands:
        script = command[1] if len(command) > 1 else ""
        if script in MODEL_SCRIPTS and flag(command, MODEL_SCRIPTS[script]) is not None:
            models.append(flag(command, MODEL_SCRIPTS[script]))
    return models


@pytest.mark.parametrize("launcher", MODEL_LAUNCHERS)
def test_every_launcher_loads_a_default_model_and_model_overrides_it(launcher, tmp_path):
    default_commands = run_launcher(launcher, tmp_path)
    defaults = models_loaded(default_commands)
    assert defaults, f"{launcher} loads no model"
    override = "org/one org/two"
    overridden = run_launcher(launcher, tmp_path, MODEL=override)
    assert set(models_loaded(overridden)) == set(override.split())
    for command in default_commands + overridden:
        assert "--dtype" not in command, f"{launcher} forces a dtype: {command}"


@pytest.mark.parametrize("launcher", [x for x in MODEL_LAUNCHERS if x.startswith(("MMLU/", "HP/"))])
def test_tokenizers_as_the_paper(launcher, tmp_path):
    """MMLU: the base model's tokenizer for a released checkpoint (the paper's MMLU launchers pass
    --arch); HP: the model's own (the paper's HP code loads it from the checkpoint). ARCH overrides."""
    for command in run_launcher(launcher, tmp_path):
        model = flag(command, MODEL_SCRIPTS[command[1]])
        match = re.fullmatch(r"cross-ling-know/(llama2-7b|llama3-8b)-.*", model)
        expected = BASE_TOKENIZER[match.group(1)] if match and launcher.startswith("MMLU/") else None
        assert flag(command, "--arch") == expected, command
    command = run_launcher(launcher, tmp_path, MODEL="org/other", ARCH="org/tokenizer")[0]
    assert flag(command, "--arch") == "org/tokenizer"


def test_hp_evaluates_every_released_checkpoint(tmp_path):
    commands = run_launcher("HP/scripts/eval_finetuned.sh", tmp_path, "--limit", "3")
    assert models_loaded(commands) == RELEASED
    assert commands[4] == ["python", "HP/evaluate.py", "--model_name", "cross-ling-know/llama3-8b-wiki2-en",
                           "--langs", "all", "--data",
                           "cross-ling-know/HarryPotter-Quiz", "--save_dir", "results/hp", "--limit", "3"]


@pytest.mark.parametrize("setting", ["0shot", "5shot", "intervention"])
@pytest.mark.parametrize("base", ["llama3-8b", "llama2-7b"])
def test_mmlu_finetuned_launchers_run_the_papers_wiki103_checkpoints(setting, base, tmp_path):
    launcher = f"MMLU/scripts/{setting}/{base.split('-')[0]}-ft.sh"
    commands = run_launcher(launcher, tmp_path)
    assert list(dict.fromkeys(models_loaded(commands))) == [m for m in RELEASED if f"{base}-wiki103" in m]
    assert {flag(command, "--arch") for command in commands} == {BASE_TOKENIZER[base]}


def test_the_readme_lists_every_released_checkpoint_with_launchers_that_run_it(tmp_path):
    """The top README's table of released checkpoints: every one, and each launcher it names runs it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(cross-ling-know/[\w.-]+)` \|(.*)\|$", readme, flags=re.MULTILINE)
    assert sorted(name for name, _ in rows) == sorted(RELEASED)
    runs: dict[str, list[str]] = {}
    for name, cells in rows:
        for launcher in re.findall(r"`((?:MMLU|HP)/scripts/[\w/.-]+\.sh)`", cells):
            if launcher not in runs:
                runs[launcher] = models_loaded(run_launcher(launcher, tmp_path))
            assert name in runs[launcher], f"{launcher} does not run {name}"
    for name, cells in rows:  # WikiText-103 ones: MMLU 0-shot, 5-shot, intervention and HP, as the paper
        assert "wiki103" not in name or len(re.findall(r"`(?:MMLU|HP)/scripts/", cells)) == 4, name


def test_mmlu_commands(tmp_path):
    eval_mmlu = ["python", "MMLU/eval.py", "--model", "meta-llama/Meta-Llama-3-8B", "--data_dir", "MMLU/data/demo",
                 "--save_dir", "results/mmlu"]
    assert run_launcher("MMLU/scripts/0shot/llama3-8b.sh", tmp_path, "--limit", "2") == [
        eval_mmlu + ["--ntrain", "0", "--configs", "all", "--limit", "2"]]
    assert run_launcher("MMLU/scripts/5shot/llama3-8b.sh", tmp_path) == [
        eval_mmlu + ["--ntrain", "5", "--configs", "all", "--demos", "same", "en"]]
    assert run_launcher("MMLU/scripts/intervention/llama3-8b.sh", tmp_path)[2] == eval_mmlu + [
        "--ntrain", "5", "--config", "mixup_256", "--test_trans_lan", "mixup", "--dev_trans_lan", "mixup",
        "--interv_prompt_id", "2", "--infer_mode", "generation", "--max_token", "256"]
    gpt = run_launcher("MMLU/scripts/0shot/gpt35.sh", tmp_path, MODEL="openai/gpt-4-0613")
    assert gpt == [["python", "MMLU/eval.py", "--model", "openai/gpt-4-0613", "--data_dir", "MMLU/data/demo",
                    "--save_dir", "results/mmlu", "--ntrain", "0", "--configs", "all", "--infer_mode", "generation",
                    "--max_token", "1"]]


def test_intervention_launchers_sample_as_the_paper_on_one_setting_into_their_own_result(tmp_path):
    for launcher in ("MMLU/scripts/intervention/llama3-8b.sh", "MMLU/scripts/intervention/llama2-ft.sh"):
        commands = run_launcher(launcher, tmp_path, GENERATION="paper", SEED="3")
        generation = [c for c in commands if flag(c, "--infer_mode") == "generation"]
        assert len(generation) == len(models_loaded(commands)) // 3  # one per model
        assert all(c[-10:] == ["--interv_prompt_id", "2", "--infer_mode", "generation", "--max_token", "256",
                               "--generation_preset", "paper", "--seed", "3"] for c in generation)
        assert {flag(c, "--config") for c in generation} == {"mixup_256_paper"}
        assert not any("--generation_preset" in c for c in commands if c not in generation)  # letter scores
    greedy = run_launcher("MMLU/scripts/intervention/llama3-8b.sh", tmp_path)
    assert flag(greedy[2], "--config") == "mixup_256" and "--generation_preset" not in greedy[2]


def test_mmlu_launchers_say_how_to_build_missing_data(tmp_path):
    for data_dir in (str(tmp_path / "full"), "MMLU/data/full-missing"):
        out, commands = launch("MMLU/scripts/0shot/llama3-8b.sh", tmp_path, DATA_DIR=data_dir)
        assert out.returncode == 2 and commands == []  # before any model loads
        assert out.stderr == (f"error: {data_dir}/test: no such folder; build the MMLU data with: "
                              "bash MMLU/scripts/prepare_data.sh (or set DATA_DIR; see MMLU/README.md)\n")
    hub = run_launcher("MMLU/scripts/0shot/llama3-8b.sh", tmp_path, DATA_DIR="cais/mmlu")  # left to MMLU/eval.py
    assert flag(hub[0], "--data_dir") == "cais/mmlu"


def test_gpt_translation_launchers_use_the_papers_settings_in_their_own_folder(tmp_path):
    translate, score = run_launcher("Translation/scripts/gpt3.5.sh", tmp_path)
    assert translate == ["python", "Translation/translate.py", "--model", "openai/gpt-3.5-turbo-0125",
                         "--openai_preset", "paper", "--direction", "both", "--output_dir", "Translation/outputs"]
    assert score == ["python", "Translation/evaluate.py", "--outputs_dir", "Translation/outputs"]
    greedy = run_launcher("Translation/scripts/gpt4.sh", tmp_path, OPENAI_PRESET="greedy")[0]
    assert flag(greedy, "--openai_preset") == "greedy"
    llama = run_launcher("Translation/scripts/llama3-8b.sh", tmp_path, MODEL="org/other-model")[0]
    assert "--openai_preset" not in llama
    # No launcher names the folder: translate.py uses the model's tag (+ the OpenAI preset).
    from conftest import load_script

    translate_script = load_script("Translation/translate.py")
    assert translate_script.default_system_name("openai/gpt-4-0613", "greedy") == "gpt-4-0613-greedy"
    assert translate_script.default_system_name("org/other-model", "greedy") == "other-model"
    assert translate_script.default_system_name("smollm2", "greedy") == "SmolLM2-135M-Instruct"
    assert not any("--system_name" in c for c in (translate, greedy, llama))


def test_translation_demo_writes_apart_from_the_full_launchers(tmp_path):
    demo = [c for c in run_launcher("Translation/scripts/demo.sh", tmp_path, OUTPUT_DIR="out") if c[1] != "-c"]
    full = run_launcher("Translation/scripts/llama2-7b.sh", tmp_path, OUTPUT_DIR="out")
    demo_dirs = {flag(c, "--output_dir") for c in demo if c[1] == "Translation/translate.py"}
    assert demo_dirs == {"out/demo"} and flag(full[0], "--output_dir") == "out"
    assert flag(demo[3], "--num_examples") == "20" and demo[3][1:4] == ["Translation/evaluate.py", "--outputs_dir",
                                                                        "out/demo"]
    assert flag(demo[2], "--languages") == "es"  # Apertium: es fr it, no German


def test_scoring_the_full_outputs_skips_the_demos_20_lines(tmp_path):
    from conftest import load_script

    evaluate = load_script("Translation/evaluate.py")
    flores = FLORES_DIR
    full, demo = tmp_path / "outputs/nllb-3.3B", tmp_path / "outputs/demo/smollm2"
    full.mkdir(parents=True)
    demo.mkdir(parents=True)
    shutil.copy(flores / "fr.devtest", full / "test-en-fr")  # the references themselves: BLEU 100
    lines = (flores / "fr.devtest").read_text(encoding="utf-8").splitlines()[:20]
    (demo / "test-en-fr").write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = evaluate.main(["--outputs_dir", str(tmp_path / "outputs")])
    assert [r["system"] for r in results] == ["nllb-3.3B"]
    assert results[0]["directions"]["en-fr"]["n"] == 100 and round(results[0]["directions"]["en-fr"]["bleu"], 6) == 100.0
