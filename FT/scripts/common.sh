# Shared by the FT launchers: source it, set overrides=("$@"), then call run_arm once per arm
# (or build_corpus, finetune and evaluate directly).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

ACCELERATE_CONFIG="${ACCELERATE_CONFIG:-FT/configs/fsdp.yaml}"
TRANSLATOR="${TRANSLATOR:-hf}"
TRANSLATION_MODEL="${TRANSLATION_MODEL:-facebook/nllb-200-distilled-600M}"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# build_corpus OUT_DIR DATASET_CONFIG UNIT [K]: English (UNIT=english) or mixed-language text.
build_corpus() {
  local out="$1" config="$2" unit="$3" k="${4:-8}"
  [ -f "$out/mixed.txt" ] && return 0
  if [ "$unit" = english ]; then  # the same text, untranslated, for the English-only arm
    python FT/make_mixed_corpus.py --dataset_config "$config" --unit document --languages en --out_dir "$out"
  else
    python FT/make_mixed_corpus.py --dataset_config "$config" --unit "$unit" --unit_words "$k" \
        --translator "$TRANSLATOR" --model "$TRANSLATION_MODEL" --out_dir "$out"
  fi
}

# finetune MODEL TRAIN_FILE OUTPUT_DIR [overrides...]
finetune() {
  local model="$1" train="$2" out="$3"; shift 3
  accelerate launch --config_file "$ACCELERATE_CONFIG" --main_process_port "$(free_port)" FT/finetune.py \
      --config FT/ft_config.yaml --model "$model" --train_file "$train" --output_dir "$out" "$@"
}

# evaluate CHECKPOINT ARCH: MMLU 0-shot and 5-shot, and the Harry Potter quiz.
evaluate() {
  local ckpt="$1" arch="$2"
  python MMLU/eval.py --model "$ckpt" --arch "$arch" --ntrain 0 --configs all --data_dir "${MMLU_DATA:-MMLU/data/full}" \
      --save_dir results/mmlu
  python MMLU/eval.py --model "$ckpt" --arch "$arch" --ntrain 5 --configs all --demos same en \
      --data_dir "${MMLU_DATA:-MMLU/data/full}" --save_dir results/mmlu
  python HP/evaluate.py --model_name "$ckpt" --arch "$arch" --langs all \
      --data "${HP_DATA:-cross-ling-know/HarryPotter-Quiz}" --save_dir results/hp
}

# run_arm MODEL TAG DATASET_CONFIG UNIT [K]: one arm of the experiment. The corpus goes to
# data/TAG, the fine-tuned model to checkpoints/<model name, lower case>-TAG; the launcher's
# overrides=(...) go to FT/finetune.py.
run_arm() {
  local model="$1" tag="$2"; shift 2
  local name
  name="$(basename "$model" | tr '[:upper:]' '[:lower:]')"
  build_corpus "data/$tag" "$@"
  finetune "$model" "data/$tag/mixed.txt" "checkpoints/$name-$tag" "${overrides[@]}"
  evaluate "checkpoints/$name-$tag" "$model"
}
