#!/usr/bin/env bash
# 0-shot crosslingual MMLU for cross-ling-know/llama3-8b-wiki103-mixed-lang-sentence8words: English, 7 modes x de/fr/es/it, and mixup.
# Edit model= to evaluate another model; extra arguments are passed to MMLU/eval.py.
set -euo pipefail
cd "$(dirname "$0")/../../.."

model="cross-ling-know/llama3-8b-wiki103-mixed-lang-sentence8words"
# model="cross-ling-know/llama3-8b-wiki103-mixed-lang-sentence"
# model="cross-ling-know/llama3-8b-wiki103-en"
arch="meta-llama/Meta-Llama-3-8B"
data_dir="${DATA_DIR:-MMLU/data/full}"  # built by MMLU/translate.py (see MMLU/README.md)
save_dir="${SAVE_DIR:-results/mmlu}"

python MMLU/eval.py --model "$model" --arch "$arch" --ntrain 0 --configs all \
    --data_dir "$data_dir" --save_dir "$save_dir" --dtype fp16 "$@"
python -m crossknow.report "$save_dir"
