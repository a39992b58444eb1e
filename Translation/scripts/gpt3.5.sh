#!/usr/bin/env bash
model="${MODEL:-openai/gpt-3.5-turbo-0125}"
openai_preset="${OPENAI_PRESET:-paper}"  # the paper's temperature 0.7, max_tokens 64, top_p 1; or greedy
# FLoRes en<->de/fr/es/it with an OpenAI chat model as the paper did, then BLEU/chrF for every system.
# Needs OPENAI_API_KEY. MODEL=name (or several, separated by spaces) translates with others;
# OPENAI_PRESET=greedy for temperature 0. Extra arguments go to Translation/translate.py.
source "$(dirname "$0")/common.sh"
