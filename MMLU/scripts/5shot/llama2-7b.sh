#!/usr/bin/env bash
# 5-shot crosslingual MMLU for meta-llama/Llama-2-7b-hf: demos from the same variant and from English.
# Edit model= to evaluate another model; extra arguments are passed to MMLU/eval.py.
set -euo pipefail
cd "$(dirname "$0")/../../.."

model="meta-llama/Llama-2-7b-hf"
arch="$model"
data_dir="${DATA_DIR:-MMLU/data/full}"  # built by MMLU/translate.py (see MMLU/README.md)
save_dir="${SAVE_DIR:-results/mmlu}"

python MMLU/eval.py --model "$model" --arch "$arch" --ntrain 5 --configs all --demos same en \
    --data_dir "$data_dir" --save_dir "$save_dir" --dtype fp16 "$@"
python -m crossknow.report "$save_dir"
