#!/usr/bin/env bash
# Intervention prompts on mixup MMLU for cross-ling-know/llama3-8b-wiki103-mixed-lang-sentence8words (0-shot prompts 0 and 1, 5-shot translate-then-answer).
# Edit model= to evaluate another model; extra arguments are passed to MMLU/eval.py.
model="cross-ling-know/llama3-8b-wiki103-mixed-lang-sentence8words"
# model="cross-ling-know/llama3-8b-wiki103-mixed-lang-sentence"
# model="cross-ling-know/llama3-8b-wiki103-en"
arch="meta-llama/Meta-Llama-3-8B"  # the tokenizer of the base model
source "$(dirname "$0")/../common.sh"
run_intervention --dtype fp16 "$@"
