#!/usr/bin/env bash
# FLoRes en<->de/fr/es/it with meta-llama/Llama-2-13b-hf, then BLEU/chrF for every system.
# Edit model= to translate with another model; extra arguments go to Translation/translate.py.
model="meta-llama/Llama-2-13b-hf"
system="llama2-13b"
source "$(dirname "$0")/common.sh"
