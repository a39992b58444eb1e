#!/usr/bin/env bash
model="${MODEL:-meta-llama/Meta-Llama-3-8B}"
# Mixed-language variants of the quiz (beyond the paper): question, options or the correct option
# in one language with the rest in English, and mixup (five languages per question).
# MODEL=name (or several, separated by spaces) evaluates others; extra arguments go to HP/evaluate.py.
source "$(dirname "$0")/common.sh"
for variant in question options gt mixup; do
  run_quiz --variant "$variant" "$@"
done
