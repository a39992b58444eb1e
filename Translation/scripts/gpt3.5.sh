#!/usr/bin/env bash
# FLoRes en<->de/fr/es/it with openai/gpt-3.5-turbo-0125, then BLEU/chrF for every system.
# Needs OPENAI_API_KEY.
# Edit model= to translate with another model; extra arguments go to Translation/translate.py.
model="openai/gpt-3.5-turbo-0125"
system="gpt3.5"
source "$(dirname "$0")/common.sh"
