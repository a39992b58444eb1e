#!/usr/bin/env bash
model="${MODEL:-meta-llama/Llama-2-7b-hf}"
# Reproduce cross-ling-know/llama2-7b-wiki2-{en,mixed-lang-document,mixed-lang-sentence,mixed-lang-sentence8words}:
# fine-tune on WikiText-2 in English and mixed-language with the paper's schedule (FT/configs/paper_tofu.yaml),
# then evaluate each on MMLU (0/5-shot) and the Harry Potter quiz. ARMS picks arms; extra arguments are
# FT/finetune.py overrides (--key value). Environment: see scripts/lib/finetune.sh and FT/README.md.
source "$(dirname "$0")/../../scripts/lib/finetune.sh"
overrides=("$@")
for arm in ${ARMS:-en mixed-lang-document mixed-lang-sentence mixed-lang-sentence8words}; do
  run_arm "$model" wiki2 "$arm"
done
