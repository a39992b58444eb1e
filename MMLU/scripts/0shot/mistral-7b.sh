#!/usr/bin/env bash
# 0-shot crosslingual MMLU for mistralai/Mistral-7B-v0.1: English, 7 modes x de/fr/es/it, and mixup.
# Edit model= to evaluate another model; extra arguments are passed to MMLU/eval.py.
model="mistralai/Mistral-7B-v0.1"
source "$(dirname "$0")/../common.sh"
run_0shot --dtype fp16 "$@"
