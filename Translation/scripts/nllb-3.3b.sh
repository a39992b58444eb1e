#!/usr/bin/env bash
# FLoRes (the paper's 100 sentences) en<->de/fr/es/it with facebook/nllb-200-3.3B, then BLEU/chrF for every system.
set -euo pipefail
cd "$(dirname "$0")/../.."

model="facebook/nllb-200-3.3B"
python Translation/translate.py --model "$model" --system_name nllb-3.3b --direction both \
    --output_dir "${OUTPUT_DIR:-Translation/outputs}" "$@"
bash Translation/scripts/evaluate_all.sh
