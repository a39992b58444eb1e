#!/usr/bin/env bash
# Reproduce the paper's released wiki103 models for meta-llama/Meta-Llama-3-8B: fine-tune on WikiText in English
# and mixed-language (mixed-lang-sentence, mixed-lang-sentence8words), then evaluate each on MMLU (0/5-shot) and
# the Harry Potter quiz. ACCELERATE_CONFIG picks the engine (default FSDP on 8 GPUs; see FT/README.md).
source "$(dirname "$0")/common.sh"

model="meta-llama/Meta-Llama-3-8B"

build_corpus "data/wiki103-en" wikitext-103-raw-v1 english
finetune "$model" "data/wiki103-en/mixed.txt" "checkpoints/meta-llama-3-8b-wiki103-en" "$@"
evaluate "checkpoints/meta-llama-3-8b-wiki103-en" "$model"

build_corpus "data/wiki103-mixed-lang-sentence" wikitext-103-raw-v1 sentence
finetune "$model" "data/wiki103-mixed-lang-sentence/mixed.txt" "checkpoints/meta-llama-3-8b-wiki103-mixed-lang-sentence" "$@"
evaluate "checkpoints/meta-llama-3-8b-wiki103-mixed-lang-sentence" "$model"

build_corpus "data/wiki103-mixed-lang-sentence8words" wikitext-103-raw-v1 words 8
finetune "$model" "data/wiki103-mixed-lang-sentence8words/mixed.txt" "checkpoints/meta-llama-3-8b-wiki103-mixed-lang-sentence8words" "$@"
evaluate "checkpoints/meta-llama-3-8b-wiki103-mixed-lang-sentence8words" "$model"
