#!/usr/bin/env bash
# 0-shot crosslingual MMLU for meta-llama/Llama-2-13b-hf: English, 7 modes x de/fr/es/it, and mixup.
# Edit model= to evaluate another model; extra arguments are passed to MMLU/eval.py.
model="meta-llama/Llama-2-13b-hf"
source "$(dirname "$0")/../common.sh"
run_0shot --dtype fp16 "$@"
