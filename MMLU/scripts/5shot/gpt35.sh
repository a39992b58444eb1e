#!/usr/bin/env bash
# 5-shot crosslingual MMLU for openai/gpt-3.5-turbo-0125: demos from the same variant and from English.
# Edit model= to evaluate another model; extra arguments are passed to MMLU/eval.py.
model="openai/gpt-3.5-turbo-0125"
# model="openai/gpt-4-0613"
# Needs OPENAI_API_KEY; OPENAI_BASE_URL (or --api_base) for another OpenAI-compatible server.
source "$(dirname "$0")/../common.sh"
run_5shot --infer_mode generation --max_token 1 "$@"
