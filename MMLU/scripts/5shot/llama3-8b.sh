#!/usr/bin/env bash
# 5-shot crosslingual MMLU for meta-llama/Meta-Llama-3-8B: demos from the same variant and from English.
# Edit model= to evaluate another model; extra arguments are passed to MMLU/eval.py.
model="meta-llama/Meta-Llama-3-8B"
source "$(dirname "$0")/../common.sh"
run_5shot --dtype fp16 "$@"
