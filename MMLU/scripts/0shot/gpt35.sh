#!/usr/bin/env bash
# 0-shot crosslingual MMLU for openai/gpt-3.5-turbo-0125: English, 7 modes x de/fr/es/it, and mixup.
# Edit model= to evaluate another model; extra arguments are passed to MMLU/eval.py.
model="openai/gpt-3.5-turbo-0125"
# model="openai/gpt-4-0613"
# Needs OPENAI_API_KEY; OPENAI_BASE_URL (or --api_base) for another OpenAI-compatible server.
source "$(dirname "$0")/../common.sh"
run_0shot --infer_mode generation --max_token 1 "$@"
