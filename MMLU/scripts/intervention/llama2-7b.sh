#!/usr/bin/env bash
model="${MODEL:-meta-llama/Llama-2-7b-hf}"
# Intervention prompts on mixup MMLU (0-shot prompts 0 and 1, 5-shot translate-then-answer).
# MODEL=name (or several, separated by spaces) evaluates others; extra arguments go to MMLU/eval.py.
source "$(dirname "$0")/../common.sh"
run_intervention "$@"
