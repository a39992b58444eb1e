#!/usr/bin/env bash
# Mixed-language variants of the quiz (beyond the paper): question, options or the correct option
# in one language with the rest in English, and mixup (five languages per question).
set -euo pipefail
cd "$(dirname "$0")/../.."

model="meta-llama/Meta-Llama-3-8B"
data="${HP_DATA:-cross-ling-know/HarryPotter-Quiz}"
save_dir="${SAVE_DIR:-results/hp}"

for variant in question options gt mixup; do
  python HP/evaluate.py --model_name "$model" --variant "$variant" --langs all --data "$data" --save_dir "$save_dir" "$@"
done
