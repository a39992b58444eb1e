#!/usr/bin/env bash
# FLoRes en<->de/fr/es/it with openai/gpt-4-0613, then BLEU/chrF for every system.
# Needs OPENAI_API_KEY.
# Edit model= to translate with another model; extra arguments go to Translation/translate.py.
model="openai/gpt-4-0613"
system="gpt4"
source "$(dirname "$0")/common.sh"
