#!/usr/bin/env bash
# FLoRes en<->de/fr/es/it with facebook/nllb-200-3.3B, then BLEU/chrF for every system.
# Edit model= to translate with another model; extra arguments go to Translation/translate.py.
model="facebook/nllb-200-3.3B"
system="nllb-3.3b"
source "$(dirname "$0")/common.sh"
