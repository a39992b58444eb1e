#!/usr/bin/env bash
model="${MODEL:-
  cross-ling-know/llama2-7b-wiki103-en cross-ling-know/llama2-7b-wiki103-mixed-lang-sentence
  cross-ling-know/llama2-7b-wiki103-mixed-lang-sentence8words
}"
# Intervention prompts on mixup MMLU (0-shot prompts 0 and 1, 5-shot translate-then-answer).
# The paper's released Llama-2-7B checkpoints fine-tuned on WikiText-103 (English, mixed per
# sentence, mixed per 8 words), as its MMLU launchers; each with the base model's tokenizer.
# MODEL=name (or several, separated by spaces) evaluates others; extra arguments go to MMLU/eval.py.
source "$(dirname "$0")/../common.sh"
run_intervention "$@"
