#!/usr/bin/env bash
model="${MODEL:-meta-llama/Llama-2-13b-hf}"
# 5-shot crosslingual MMLU (demos from the same variant and from English).
# MODEL=name (or several, separated by spaces) evaluates others; extra arguments go to MMLU/eval.py.
source "$(dirname "$0")/../common.sh"
run_5shot "$@"
