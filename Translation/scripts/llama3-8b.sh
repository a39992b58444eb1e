#!/usr/bin/env bash
# FLoRes en<->de/fr/es/it with meta-llama/Meta-Llama-3-8B, then BLEU/chrF for every system.
# Edit model= to translate with another model; extra arguments go to Translation/translate.py.
model="meta-llama/Meta-Llama-3-8B"
system="llama3-8b"
source "$(dirname "$0")/common.sh"
