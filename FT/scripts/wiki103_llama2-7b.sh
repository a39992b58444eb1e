#!/usr/bin/env bash
model="${MODEL:-meta-llama/Llama-2-7b-hf}"
# Reproduce cross-ling-know/llama2-7b-wiki103-{en,mixed-lang-sentence,mixed-lang-sentence8words} (the released
# WikiText-103 models; ARMS="mixed-lang-document" adds the arm released only for WikiText-2): fine-tune with the
# paper's schedule (FT/configs/paper_tofu.yaml), then evaluate each on MMLU (0/5-shot) and the Harry Potter quiz.
# Extra arguments are FT/finetune.py overrides (--key value). Environment: see scripts/lib/finetune.sh.
source "$(dirname "$0")/../../scripts/lib/finetune.sh"
overrides=("$@")
for arm in ${ARMS:-en mixed-lang-sentence mixed-lang-sentence8words}; do
  run_arm "$model" wiki103 "$arm"
done
