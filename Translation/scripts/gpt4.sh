#!/usr/bin/env bash
# FLoRes (the paper's 100 sentences) en<->de/fr/es/it with openai/gpt-4-0613, then BLEU/chrF for every system.
# Needs OPENAI_API_KEY.
set -euo pipefail
cd "$(dirname "$0")/../.."

model="openai/gpt-4-0613"
python Translation/translate.py --model "$model" --system_name gpt4 --direction both \
    --output_dir "${OUTPUT_DIR:-Translation/outputs}" "$@"
bash Translation/scripts/evaluate_all.sh
