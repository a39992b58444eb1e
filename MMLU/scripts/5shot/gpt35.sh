#!/usr/bin/env bash
# 5-shot crosslingual MMLU for openai/gpt-3.5-turbo-0125: demos from the same variant and from English.
# Edit model= to evaluate another model; extra arguments are passed to MMLU/eval.py.
set -euo pipefail
cd "$(dirname "$0")/../../.."

model="openai/gpt-3.5-turbo-0125"
# model="openai/gpt-4-0613"
# Needs OPENAI_API_KEY; OPENAI_BASE_URL (or --api_base) for another OpenAI-compatible server.
data_dir="${DATA_DIR:-MMLU/data/full}"  # built by MMLU/translate.py (see MMLU/README.md)
save_dir="${SAVE_DIR:-results/mmlu}"

python MMLU/eval.py --model "$model" --ntrain 5 --configs all --demos same en \
    --data_dir "$data_dir" --save_dir "$save_dir" --infer_mode generation --max_token 1 "$@"
python -m crossknow.report "$save_dir"
