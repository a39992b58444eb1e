"""No task folder reaches into another: no import, load by path or ``source`` across task folders.

Code two tasks need lives in ``crossknow/`` (Python) or ``scripts/lib/`` (launcher bodies). The
scan reads every ``.py`` file's imports and path-like string constants (docstrings and prose such
as help texts are not paths) and every ``.sh`` file's non-comment lines.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

TASKS = ("MMLU", "HP", "Translation", "FT", "Synthetic")
SH_REFERENCE = re.compile(rf"(?<![\w.-])(?:\.\./)*({'|'.join(TASKS)})/")
PATH_CONSTANT = re.compile(rf"^(?:\.\./)*({'|'.join(TASKS)})(?:/\S*)?$")


def docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def python_references(source: str) -> set[str]:
    """Task folders a Python file imports or names as a path."""
    tree = ast.parse(source)
    skip = docstrings(tree)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            match = PATH_CONSTANT.match(node.value)
            if match:
                found.add(match.group(1))
    return found & set(TASKS)


def shell_references(source: str) -> set[str]:
    """Task folders a shell script sources, runs or names as a path (comments aside)."""
    found = set()
    for line in source.splitlines():
        code = re.sub(r"(^|\s)#.*", "", line)
        found |= {match.group(1) for match in SH_REFERENCE.finditer(code)}
    return found


def reaches(root: Path) -> set[tuple[str, str]]:
    """(file, other task folder) for every reach across task folders under ``root``."""
    out = set()
    for task in TASKS:
        for path in sorted((root / task).rglob("*")):
            if path.suffix == ".py":
                refs = python_references(path.read_text(encoding="utf-8"))
            elif path.suffix == ".sh":
                refs = shell_references(path.read_text(encoding="utf-8"))
            else:
                continue
            out |= {(path.relative_to(root).as_posix(), other) for other in refs if other != task}
    return out


def test_the_scan_sees_every_kind_of_reach(tmp_path):
    for task in TASKS:
        (tmp_path / task).mkdir()
    (tmp_path / "Synthetic" / "a.py").write_text(
        '"""Uses FT/finetune.py, and MMLU."""\nimport HP.evaluate\nfrom FT.finetune import main\n'
        'spec = HERE.parent / "Translation" / "x.py"\nhelp_text = "see MMLU/README.md for details"\n')
    (tmp_path / "MMLU" / "b.py").write_text('DATA = "../Translation/data/flores"\nOWN = "MMLU/data"\n')
    (tmp_path / "HP" / "c.sh").write_text(
        '# sources FT/scripts/common.sh in a comment only\nsource "$(dirname "$0")/../../FT/scripts/common.sh"\n')
    (tmp_path / "Translation" / "d.sh").write_text('. ../Synthetic/lib.sh\npython MMLU/eval.py  # HP/ here is a comment\n')
    (tmp_path / "FT" / "e.sh").write_text('python FT/finetune.py --save_dir results/hp --data "$HP_DATA"\n')
    assert reaches(tmp_path) == {
        ("Synthetic/a.py", "HP"), ("Synthetic/a.py", "FT"), ("Synthetic/a.py", "Translation"),
        ("MMLU/b.py", "Translation"), ("HP/c.sh", "FT"), ("Translation/d.sh", "Synthetic"),
        ("Translation/d.sh", "MMLU")}


def test_no_task_folder_reaches_into_another():
    assert reaches(ROOT) == set()


def test_the_engine_names_no_task_folder():
    """crossknow/ reads only its own package data; a task's data path is passed in by the task script."""
    engine = ROOT / "crossknow"
    named = {(path.relative_to(ROOT).as_posix(), task)
             for path in sorted(engine.rglob("*.py"))
             for task in python_references(path.read_text(encoding="utf-8"))}
    assert named == set()


def test_the_engine_works_without_the_task_folders(tmp_path):
    """The package alone (as a wheel installs it) still finds its bundled FLoRes subset."""
    shutil.copytree(ROOT / "crossknow", tmp_path / "crossknow", ignore=shutil.ignore_patterns("__pycache__"))
    code = "from crossknow.data.flores import load_flores; print(len(load_flores('en')), len(load_flores('fr')))"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["100", "100"]
