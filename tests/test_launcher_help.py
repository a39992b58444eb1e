"""`--help` and `-h` on every launcher: the usage, its settings with their defaults, exit 0, and
nothing run.

Every `*.sh` of the repository is found here (new launchers are covered without a list), except the
files that launchers source (`common.sh`, `scripts/lib/`). Programs a launcher could start (python,
accelerate, ...) are stubs on PATH that record any call: a help request must make none.
"""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCED = {"common.sh"}
LAUNCHERS = sorted(
    str(path.relative_to(ROOT)) for path in ROOT.rglob("*.sh")
    if path.name not in SOURCED and ".git" not in path.parts
    and not path.relative_to(ROOT).as_posix().startswith("scripts/lib/")
)
PROGRAMS = ("python", "python3", "accelerate", "torchrun", "apertium", "pip", "nvidia-smi")


def ask_help(launcher: str, flag: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess, str]:
    """Run ``bash launcher flag`` with every program stubbed; (result, what the stubs recorded)."""
    stubs, log = tmp_path / "stubs", tmp_path / "calls.log"
    stubs.mkdir(exist_ok=True)
    for program in PROGRAMS:
        stub = stubs / program
        stub.write_text('#!/usr/bin/env bash\necho "$(basename "$0") $*" >> "$STUB_LOG"\n')
        stub.chmod(0o755)
    environment = {**os.environ, "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}", "STUB_LOG": str(log)}
    environment.pop("MODEL", None)
    out = subprocess.run(["bash", str(ROOT / launcher), flag], env=environment, capture_output=True, text=True,
                         timeout=30, cwd=tmp_path)
    return out, log.read_text() if log.exists() else ""


def test_launchers_are_found():
    assert {"install.sh", "MMLU/scripts/prepare_data.sh", "MMLU/scripts/0shot/llama3-8b.sh",
            "HP/scripts/eval_base.sh", "Translation/scripts/demo.sh", "FT/scripts/wiki2_llama2-7b.sh"} <= set(LAUNCHERS)


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_help_prints_usage_and_runs_nothing(launcher, flag, tmp_path):
    out, calls = ask_help(launcher, flag, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert out.stdout.startswith(f"usage: [SETTING=value ...] bash {launcher} [extra arguments]\n\n")
    assert calls == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stubs"]  # nothing written where it ran
    assert "\nSettings (environment variables, with their defaults):\n" in out.stdout  # every launcher has some


def test_help_lists_the_settings_of_the_launcher_and_of_what_it_sources(tmp_path):
    out, _ = ask_help("MMLU/scripts/0shot/llama3-8b.sh", "--help", tmp_path)
    lines = out.stdout.splitlines()
    assert lines[2] == "0-shot crosslingual MMLU (English, 7 modes x de/fr/es/it, and mixup)."
    assert "  MODEL              meta-llama/Meta-Llama-3-8B" in lines
    assert "  DATA_DIR           MMLU/data/full" in lines  # from MMLU/scripts/common.sh
    assert "  SAVE_DIR           results/mmlu" in lines
    assert "  ARCH               (empty)" in lines


def test_help_joins_a_default_that_spans_lines(tmp_path):
    out, _ = ask_help("MMLU/scripts/0shot/llama3-ft.sh", "-h", tmp_path)
    assert ("  MODEL              cross-ling-know/llama3-8b-wiki103-en "
            "cross-ling-know/llama3-8b-wiki103-mixed-lang-sentence "
            "cross-ling-know/llama3-8b-wiki103-mixed-lang-sentence8words") in out.stdout.splitlines()
    assert "cross-ling-know" not in out.stdout.split("\n\n")[1]  # the comment block, without the model list


def test_help_names_settings_without_default(tmp_path):
    out, _ = ask_help("MMLU/scripts/prepare_data.sh", "--help", tmp_path)
    assert "  TRANSLATOR         google" in out.stdout.splitlines()
    assert ("  MMMLU_DIR          no default (TRANSLATOR=mmmlu needs MMMLU_DIR, the folder holding the MMMLU "
            "files mmlu_XX-XX.csv)") in out.stdout.splitlines()


def test_other_arguments_still_reach_the_launcher(tmp_path):
    """Only a first argument of exactly --help or -h is a help request."""
    out, calls = ask_help("Translation/scripts/evaluate_all.sh", "--num_examples", tmp_path)
    assert out.returncode == 0, out.stderr
    assert calls.startswith("python Translation/evaluate.py --outputs_dir Translation/outputs --num_examples")
