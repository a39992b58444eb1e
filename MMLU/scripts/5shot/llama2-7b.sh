#!/usr/bin/env bash
# 5-shot crosslingual MMLU for meta-llama/Llama-2-7b-hf: demos from the same variant and from English.
# Edit model= to evaluate another model; extra arguments are passed to MMLU/eval.py.
model="meta-llama/Llama-2-7b-hf"
source "$(dirname "$0")/../common.sh"
run_5shot --dtype fp16 "$@"
