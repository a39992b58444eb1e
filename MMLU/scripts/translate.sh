#!/usr/bin/env bash
model="${MODEL:-facebook/nllb-200-distilled-600M}"   # or facebook/nllb-200-3.3B; TRANSLATOR=google as in the paper
# Build every crosslingual MMLU variant for de/fr/es/it from English MMLU, as the paper did:
# translate the question and each option once ("full"), then assemble the other modes from it.
# The translation cache makes a re-run (or a killed run) translate nothing twice.
set -euo pipefail
cd "$(dirname "$0")/../.."

translator="${TRANSLATOR:-hf}"
english="${ENGLISH_DIR:-../shared/data/mmlu}"         # holds dev/ and test/ (either CSV format)
out_dir="${OUT_DIR:-MMLU/data/full}"
languages=(de fr es it)

for split in dev test; do
  python MMLU/translate.py --split "$split" --languages "${languages[@]}" --mode full \
      --translator "$translator" --model "$model" --data_dir "$english" --out_dir "$out_dir" "$@"
  for mode in question options gt gt_question wrong_option mixup; do
    python MMLU/translate.py --split "$split" --languages "${languages[@]}" --mode "$mode" --data_dir "$out_dir"
  done
done
