#!/usr/bin/env bash
# Reproduce the paper's released wiki103 models for meta-llama/Meta-Llama-3-8B: fine-tune on WikiText in English
# and mixed-language (mixed-lang-sentence, mixed-lang-sentence8words), then evaluate each on MMLU (0/5-shot) and
# the Harry Potter quiz. ACCELERATE_CONFIG picks the engine (default FSDP on 8 GPUs; see FT/README.md).
# Extra arguments are FT/finetune.py overrides (--key value).
source "$(dirname "$0")/common.sh"

model="meta-llama/Meta-Llama-3-8B"
overrides=("$@")

run_arm "$model" wiki103-en wikitext-103-raw-v1 english
run_arm "$model" wiki103-mixed-lang-sentence wikitext-103-raw-v1 sentence
run_arm "$model" wiki103-mixed-lang-sentence8words wikitext-103-raw-v1 words 8
