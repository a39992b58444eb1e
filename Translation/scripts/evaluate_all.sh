#!/usr/bin/env bash
# One table of every system under Translation/outputs (BLEU, chrF, and COMET where .comet files exist).
source "$(dirname "$0")/../../scripts/lib/usage.sh"  # --help / -h: usage, then exit
set -euo pipefail
cd "$(dirname "$0")/../.."
python Translation/evaluate.py --outputs_dir "${OUTPUT_DIR:-Translation/outputs}" "$@"
