#!/usr/bin/env bash
# Reproduce the paper's released wiki2 models for meta-llama/Llama-2-7b-hf: fine-tune on WikiText in English
# and mixed-language (mixed-lang-document, mixed-lang-sentence, mixed-lang-sentence8words), then evaluate each on MMLU (0/5-shot) and
# the Harry Potter quiz. ACCELERATE_CONFIG picks the engine (default FSDP on 8 GPUs; see FT/README.md).
# Extra arguments are FT/finetune.py overrides (--key value).
source "$(dirname "$0")/common.sh"

model="meta-llama/Llama-2-7b-hf"
overrides=("$@")

run_arm "$model" wiki2-en wikitext-2-raw-v1 english
run_arm "$model" wiki2-mixed-lang-document wikitext-2-raw-v1 document
run_arm "$model" wiki2-mixed-lang-sentence wikitext-2-raw-v1 sentence
run_arm "$model" wiki2-mixed-lang-sentence8words wikitext-2-raw-v1 words 8
