#!/usr/bin/env bash
# 0-shot crosslingual MMLU for meta-llama/Meta-Llama-3-8B: English, 7 modes x de/fr/es/it, and mixup.
# Edit model= to evaluate another model; extra arguments are passed to MMLU/eval.py.
set -euo pipefail
cd "$(dirname "$0")/../../.."

model="meta-llama/Meta-Llama-3-8B"
arch="$model"
data_dir="${DATA_DIR:-MMLU/data/full}"  # built by MMLU/translate.py (see MMLU/README.md)
save_dir="${SAVE_DIR:-results/mmlu}"

python MMLU/eval.py --model "$model" --arch "$arch" --ntrain 0 --configs all \
    --data_dir "$data_dir" --save_dir "$save_dir" --dtype fp16 "$@"
python -m crossknow.report "$save_dir"
