#!/usr/bin/env bash
model="${MODEL:-mistralai/Mistral-7B-v0.1}"
# 0-shot crosslingual MMLU (English, 7 modes x de/fr/es/it, and mixup).
# MODEL=name (or several, separated by spaces) evaluates others; extra arguments go to MMLU/eval.py.
source "$(dirname "$0")/../common.sh"
run_0shot "$@"
