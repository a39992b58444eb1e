#!/usr/bin/env bash
model="${MODEL:-openai/gpt-3.5-turbo-0125}"
# 0-shot crosslingual MMLU (English, 7 modes x de/fr/es/it, and mixup).
# MODEL=name (or several, separated by spaces) evaluates others; extra arguments go to MMLU/eval.py.
# MODEL=openai/gpt-4-0613 for GPT-4. Needs OPENAI_API_KEY; OPENAI_BASE_URL (or --api_base)
# for another OpenAI-compatible server.
source "$(dirname "$0")/../common.sh"
run_0shot --infer_mode generation --max_token 1 "$@"
