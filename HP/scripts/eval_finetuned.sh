#!/usr/bin/env bash
model="${MODEL:-
  cross-ling-know/llama2-7b-wiki2-en cross-ling-know/llama2-7b-wiki2-mixed-lang-document
  cross-ling-know/llama2-7b-wiki2-mixed-lang-sentence cross-ling-know/llama2-7b-wiki2-mixed-lang-sentence8words
  cross-ling-know/llama3-8b-wiki2-en cross-ling-know/llama3-8b-wiki2-mixed-lang-document
  cross-ling-know/llama3-8b-wiki2-mixed-lang-sentence cross-ling-know/llama3-8b-wiki2-mixed-lang-sentence8words
  cross-ling-know/llama3-8b-wiki103-en cross-ling-know/llama3-8b-wiki103-mixed-lang-sentence
  cross-ling-know/llama3-8b-wiki103-mixed-lang-sentence8words
  cross-ling-know/llama2-7b-wiki103-en cross-ling-know/llama2-7b-wiki103-mixed-lang-sentence
  cross-ling-know/llama2-7b-wiki103-mixed-lang-sentence8words
}"
# Harry Potter quiz for every fine-tuned checkpoint the paper released: Llama-2-7B and Llama-3-8B
# fine-tuned on WikiText-2 (English; mixed-language per document, per sentence, per 8 words) and
# Llama-3-8B and Llama-2-7B on WikiText-103 (English; per sentence, per 8 words); each with its own tokenizer, as
# the paper's HP code. MODEL=name (or several, separated by spaces) evaluates others; extra
# arguments go to HP/evaluate.py.
source "$(dirname "$0")/common.sh"
run_quiz "$@"
