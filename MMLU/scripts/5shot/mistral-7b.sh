#!/usr/bin/env bash
# 5-shot crosslingual MMLU for mistralai/Mistral-7B-v0.1: demos from the same variant and from English.
# Edit model= to evaluate another model; extra arguments are passed to MMLU/eval.py.
model="mistralai/Mistral-7B-v0.1"
source "$(dirname "$0")/../common.sh"
run_5shot --dtype fp16 "$@"
