#!/usr/bin/env bash
model="${MODEL:-meta-llama/Llama-2-7b-hf}"
# The in-domain experiment: fine-tune on the Harry-Potter-related part of WikiText-103, in English
# and mixed-language (sentence units), then ask the quiz in all five languages. Extra arguments are
# FT/finetune.py overrides; the fine-tuning settings and environment are scripts/lib/finetune.sh's.
source "$(dirname "$0")/../../scripts/lib/finetune.sh"
overrides=("$@")
python HP/extract_wiki103_hp.py --out_dir data/wiki103-hp
mix_file data/wiki103-hp/hp_related.txt data/wiki103-hp-mixed sentence
for arm in en mixed; do
  train=data/wiki103-hp/hp_related.txt
  [ "$arm" = mixed ] && train=data/wiki103-hp-mixed/mixed.txt
  finetune "$model" "$train" "checkpoints/hp-$arm" "${overrides[@]}"
  evaluate_hp "checkpoints/hp-$arm" "$model"
done
