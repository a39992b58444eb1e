#!/usr/bin/env bash
model="${MODEL:-meta-llama/Meta-Llama-3-8B}"
# FLoRes en<->de/fr/es/it, then BLEU/chrF for every system.
# MODEL=name (or several, separated by spaces) translates with others; extra arguments go to
# Translation/translate.py.
source "$(dirname "$0")/common.sh"
