#!/usr/bin/env bash
# FLoRes (the paper's 100 sentences) en<->de/fr/es/it with meta-llama/Llama-2-13b-hf, then BLEU/chrF for every system.
set -euo pipefail
cd "$(dirname "$0")/../.."

model="meta-llama/Llama-2-13b-hf"
python Translation/translate.py --model "$model" --system_name llama2-13b --direction both \
    --output_dir "${OUTPUT_DIR:-Translation/outputs}" "$@"
bash Translation/scripts/evaluate_all.sh
