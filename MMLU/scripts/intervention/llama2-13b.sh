#!/usr/bin/env bash
# Intervention prompts on mixup MMLU for meta-llama/Llama-2-13b-hf (0-shot prompts 0 and 1, 5-shot translate-then-answer).
# Edit model= to evaluate another model; extra arguments are passed to MMLU/eval.py.
model="meta-llama/Llama-2-13b-hf"
source "$(dirname "$0")/../common.sh"
run_intervention --dtype fp16 "$@"
