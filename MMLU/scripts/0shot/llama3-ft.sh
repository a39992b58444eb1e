#!/usr/bin/env bash
# 0-shot crosslingual MMLU for cross-ling-know/llama3-8b-wiki103-mixed-lang-sentence8words: English, 7 modes x de/fr/es/it, and mixup.
# Edit model= to evaluate another model; extra arguments are passed to MMLU/eval.py.
model="cross-ling-know/llama3-8b-wiki103-mixed-lang-sentence8words"
# model="cross-ling-know/llama3-8b-wiki103-mixed-lang-sentence"
# model="cross-ling-know/llama3-8b-wiki103-en"
arch="meta-llama/Meta-Llama-3-8B"  # the tokenizer of the base model
source "$(dirname "$0")/../common.sh"
run_0shot --dtype fp16 "$@"
