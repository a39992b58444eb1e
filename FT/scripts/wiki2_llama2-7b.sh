#!/usr/bin/env bash
# Reproduce the paper's released wiki2 models for meta-llama/Llama-2-7b-hf: fine-tune on WikiText in English
# and mixed-language (mixed-lang-document, mixed-lang-sentence, mixed-lang-sentence8words), then evaluate each on MMLU (0/5-shot) and
# the Harry Potter quiz. ACCELERATE_CONFIG picks the engine (default FSDP on 8 GPUs; see FT/README.md).
source "$(dirname "$0")/common.sh"

model="meta-llama/Llama-2-7b-hf"

build_corpus "data/wiki2-en" wikitext-2-raw-v1 english
finetune "$model" "data/wiki2-en/mixed.txt" "checkpoints/llama-2-7b-hf-wiki2-en" "$@"
evaluate "checkpoints/llama-2-7b-hf-wiki2-en" "$model"

build_corpus "data/wiki2-mixed-lang-document" wikitext-2-raw-v1 document
finetune "$model" "data/wiki2-mixed-lang-document/mixed.txt" "checkpoints/llama-2-7b-hf-wiki2-mixed-lang-document" "$@"
evaluate "checkpoints/llama-2-7b-hf-wiki2-mixed-lang-document" "$model"

build_corpus "data/wiki2-mixed-lang-sentence" wikitext-2-raw-v1 sentence
finetune "$model" "data/wiki2-mixed-lang-sentence/mixed.txt" "checkpoints/llama-2-7b-hf-wiki2-mixed-lang-sentence" "$@"
evaluate "checkpoints/llama-2-7b-hf-wiki2-mixed-lang-sentence" "$model"

build_corpus "data/wiki2-mixed-lang-sentence8words" wikitext-2-raw-v1 words 8
finetune "$model" "data/wiki2-mixed-lang-sentence8words/mixed.txt" "checkpoints/llama-2-7b-hf-wiki2-mixed-lang-sentence8words" "$@"
evaluate "checkpoints/llama-2-7b-hf-wiki2-mixed-lang-sentence8words" "$model"
