#!/usr/bin/env bash
# FLoRes (the paper's 100 sentences) en<->de/fr/es/it with mistralai/Mistral-7B-v0.1, then BLEU/chrF for every system.
set -euo pipefail
cd "$(dirname "$0")/../.."

model="mistralai/Mistral-7B-v0.1"
python Translation/translate.py --model "$model" --system_name mistral-7b --direction both \
    --output_dir "${OUTPUT_DIR:-Translation/outputs}" "$@"
bash Translation/scripts/evaluate_all.sh
