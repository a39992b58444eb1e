#!/usr/bin/env bash
# Harry Potter quiz for the paper's released fine-tuned checkpoints (English vs mixed-language
# WikiText fine-tuning); the tokenizer comes from the base model (--arch).
set -euo pipefail
cd "$(dirname "$0")/../.."

data="${HP_DATA:-cross-ling-know/HarryPotter-Quiz}"
save_dir="${SAVE_DIR:-results/hp}"

for suffix in en mixed-lang-document mixed-lang-sentence mixed-lang-sentence8words; do
  python HP/evaluate.py --model_name "cross-ling-know/llama2-7b-wiki2-$suffix" --arch meta-llama/Llama-2-7b-hf \
      --langs all --data "$data" --save_dir "$save_dir" "$@"
done
for suffix in en mixed-lang-sentence mixed-lang-sentence8words; do
  python HP/evaluate.py --model_name "cross-ling-know/llama3-8b-wiki103-$suffix" --arch meta-llama/Meta-Llama-3-8B \
      --langs all --data "$data" --save_dir "$save_dir" "$@"
done
