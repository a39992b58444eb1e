#!/usr/bin/env bash
# Intervention prompts on mixup MMLU for meta-llama/Llama-2-7b-hf (the paper's Table: 0-shot with prompts 0 and 1, 5-shot translate-then-answer).
# Edit model= to evaluate another model; extra arguments are passed to MMLU/eval.py.
set -euo pipefail
cd "$(dirname "$0")/../../.."

model="meta-llama/Llama-2-7b-hf"
arch="$model"
data_dir="${DATA_DIR:-MMLU/data/full}"  # built by MMLU/translate.py (see MMLU/README.md)
save_dir="${SAVE_DIR:-results/mmlu}"

for id in 0 1; do
  python MMLU/eval.py --model "$model" --arch "$arch" --ntrain 0 --config mixup --test_trans_lan mixup \
      --interv_prompt_id "$id" --data_dir "$data_dir" --save_dir "$save_dir" --dtype fp16 "$@"
done

# Translate-then-answer: 5 demos (mixup, with their English versions), free generation.
max_token=256
python MMLU/eval.py --model "$model" --arch "$arch" --ntrain 5 --config "mixup_$max_token" --test_trans_lan mixup \
    --dev_trans_lan mixup --interv_prompt_id 2 --infer_mode generation --max_token "$max_token" \
    --data_dir "$data_dir" --save_dir "$save_dir" --dtype fp16 "$@"
