#!/usr/bin/env bash
# The in-domain experiment: fine-tune on the Harry-Potter-related part of WikiText-103, in English
# and mixed-language (sentence units), then ask the quiz in all five languages.
source "$(dirname "$0")/../../FT/scripts/common.sh"

model="${MODEL:-meta-llama/Llama-2-7b-hf}"
python HP/extract_wiki103_hp.py --out_dir data/wiki103-hp
python FT/make_mixed_corpus.py --input_files data/wiki103-hp/hp_related.txt --unit sentence \
    --translator "$TRANSLATOR" --model "$TRANSLATION_MODEL" --out_dir data/wiki103-hp-mixed
for arm in en mixed; do
  train=data/wiki103-hp/hp_related.txt
  [ "$arm" = mixed ] && train=data/wiki103-hp-mixed/mixed.txt
  finetune "$model" "$train" "checkpoints/hp-$arm" "$@"
  python HP/evaluate.py --model_name "checkpoints/hp-$arm" --arch "$model" --langs all \
      --data "${HP_DATA:-cross-ling-know/HarryPotter-Quiz}" --save_dir results/hp
done
