"""The engine's layers hold: `lint-imports` passes on the tree, and fails when a forbidden import is
planted in a copy of the engine (so the contracts in pyproject.toml can fail)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)


def planted_copy(tmp_path: Path, module: str, line: str) -> Path:
    shutil.copytree(ROOT / "crossknow", tmp_path / "crossknow", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "crossknow" / module
    target.write_text(target.read_text() + f"\n{line}  # planted by the test\n")
    return tmp_path


def test_contracts_have_no_ignored_imports():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert {c["id"] for c in config["contracts"]} >= {"layers", "backends", "runner", "analysis"}
    assert all("ignore_imports" not in c for c in config["contracts"])


def test_the_tree_keeps_its_layers():
    out = lint_imports(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


@pytest.mark.parametrize(("module", "line", "message"), [
    ("core/errors.py", "import crossknow.analysis.report",
     "crossknow.core is not allowed to import crossknow.analysis"),
    ("runner.py", "import crossknow.tasks", "crossknow.runner is not allowed to import crossknow.tasks"),
    ("data/flores.py", "import crossknow.models.hf_backend",
     "crossknow.data is not allowed to import crossknow.models"),
    ("analysis/plots.py", "import crossknow.analysis.report",
     "crossknow.analysis.plots is not allowed to import crossknow.analysis.report"),
    ("models/openai_backend.py", "import crossknow.models.vllm_backend",
     "crossknow.models.openai_backend is not allowed to import"),
])
def test_a_planted_forbidden_import_breaks_a_contract(tmp_path, module, line, message):
    out = lint_imports(planted_copy(tmp_path, module, line))
    assert out.returncode != 0
    assert message in " ".join(out.stdout.split()), out.stdout
