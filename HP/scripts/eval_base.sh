#!/usr/bin/env bash
# Harry Potter quiz in all five languages for the paper's base models, one process per model.
# Edit models= to evaluate others; extra arguments go to HP/evaluate.py.
set -euo pipefail
cd "$(dirname "$0")/../.."

models=("meta-llama/Llama-2-7b-hf" "meta-llama/Llama-2-13b-hf" "mistralai/Mistral-7B-v0.1" "meta-llama/Meta-Llama-3-8B")
data="${HP_DATA:-cross-ling-know/HarryPotter-Quiz}"
save_dir="${SAVE_DIR:-results/hp}"

for model in "${models[@]}"; do
  python HP/evaluate.py --model_name "$model" --langs all --data "$data" --save_dir "$save_dir" "$@"
done
