#!/usr/bin/env bash
# FLoRes en<->de/fr/es/it with mistralai/Mistral-7B-v0.1, then BLEU/chrF for every system.
# Edit model= to translate with another model; extra arguments go to Translation/translate.py.
model="mistralai/Mistral-7B-v0.1"
system="mistral-7b"
source "$(dirname "$0")/common.sh"
