#!/usr/bin/env bash
model="${MODEL:-meta-llama/Llama-2-7b-hf meta-llama/Llama-2-13b-hf mistralai/Mistral-7B-v0.1 meta-llama/Meta-Llama-3-8B}"
# Harry Potter quiz in all five languages for the paper's base models, one process per model.
# MODEL=name (or several, separated by spaces) evaluates others; extra arguments go to HP/evaluate.py.
source "$(dirname "$0")/common.sh"
run_quiz "$@"
