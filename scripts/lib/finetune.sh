# Shared by the fine-tuning launchers (FT/scripts/*.sh, HP/scripts/in_domain.sh): they set
# model="${MODEL:-...}" at the top, source this file, set overrides=("$@") and call the functions
# below. It calls the FT, MMLU and HP command lines, so that no task folder reaches into another.
# Environment: FT_CONFIG (default the paper's preset, FT/configs/paper_tofu.yaml), ACCELERATE_CONFIG
# (default FT/configs/ddp.yaml: one process per GPU; DeepSpeed comes from the preset),
# TRANSLATOR (default hf, with TRANSLATION_MODEL, default NLLB-200 600M; TRANSLATOR=google is the
# paper's Google Translate through googletrans: pip install -e ".[google]", online), MMLU_DATA, HP_DATA.
source "$(dirname "${BASH_SOURCE[0]}")/usage.sh"  # --help / -h: usage, then exit
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

FT_CONFIG="${FT_CONFIG:-FT/configs/paper_tofu.yaml}"
ACCELERATE_CONFIG="${ACCELERATE_CONFIG:-FT/configs/ddp.yaml}"
TRANSLATOR="${TRANSLATOR:-hf}"
TRANSLATION_MODEL="${TRANSLATION_MODEL:-facebook/nllb-200-distilled-600M}"
# The translator's model, for the translators that take one (googletrans and Apertium do not).
translation_model=(--model "$TRANSLATION_MODEL")
case "$TRANSLATOR" in google|apertium) translation_model=() ;; esac

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# build_corpus OUT_DIR DATASET_CONFIG UNIT [K]: WikiText from the hub, English (UNIT=english) or mixed.
# A finished corpus is reused by FT/make_mixed_corpus.py itself, only when built under the same settings
# (translator included); one built otherwise is refused, so a changed TRANSLATOR never trains on old text.
build_corpus() {
  local out="$1" config="$2" unit="$3" k="${4:-8}"
  if [ "$unit" = english ]; then  # the same text, untranslated, for the English-only arm
    python FT/make_mixed_corpus.py --dataset_config "$config" --unit document --languages en --out_dir "$out"
  else
    python FT/make_mixed_corpus.py --dataset_config "$config" --unit "$unit" --unit_words "$k" \
        --translator "$TRANSLATOR" "${translation_model[@]}" --out_dir "$out"
  fi
}

# mix_file INPUT OUT_DIR UNIT: a mixed-language version of a local text file.
mix_file() {
  python FT/make_mixed_corpus.py --input_files "$1" --unit "$3" --translator "$TRANSLATOR" \
      "${translation_model[@]}" --out_dir "$2"
}

# finetune MODEL TRAIN_FILE OUTPUT_DIR [overrides...]
finetune() {
  local model="$1" train="$2" out="$3"; shift 3
  accelerate launch --config_file "$ACCELERATE_CONFIG" --main_process_port "$(free_port)" FT/finetune.py \
      --config "$FT_CONFIG" --model "$model" --train_file "$train" --output_dir "$out" "$@"
}

# evaluate_hp CHECKPOINT ARCH: the Harry Potter quiz in all five languages (HP's own dtype default).
evaluate_hp() {
  python HP/evaluate.py --model_name "$1" --arch "$2" --langs all \
      --data "${HP_DATA:-cross-ling-know/HarryPotter-Quiz}" --save_dir results/hp
}

# evaluate CHECKPOINT ARCH: MMLU 0-shot and 5-shot (dtype follows the device), and the quiz.
evaluate() {
  local ckpt="$1" arch="$2" data="${MMLU_DATA:-MMLU/data/full}"
  python MMLU/eval.py --model "$ckpt" --arch "$arch" --ntrain 0 --configs all --dtype auto --data_dir "$data" \
      --save_dir results/mmlu
  python MMLU/eval.py --model "$ckpt" --arch "$arch" --ntrain 5 --configs all --demos same en --dtype auto \
      --data_dir "$data" --save_dir results/mmlu
  evaluate_hp "$ckpt" "$arch"
}

# run_arm MODEL CORPUS ARM: one released checkpoint's recipe. CORPUS is wiki2 or wiki103; ARM is
# en, mixed-lang-document, mixed-lang-sentence or mixed-lang-sentence8words (the suffixes of
# cross-ling-know/<model>-<CORPUS>-<ARM>). The corpus goes to data/CORPUS-ARM (shared by models),
# the model to checkpoints/<model name, lower case>-CORPUS-ARM; overrides=(...) go to FT/finetune.py.
run_arm() {
  local model="$1" corpus="$2" arm="$3" dataset name
  case "$corpus" in
    wiki2) dataset=wikitext-2-raw-v1 ;;
    wiki103) dataset=wikitext-103-raw-v1 ;;
    *) echo "error: corpus $corpus: expected wiki2 or wiki103" >&2; return 2 ;;
  esac
  case "$arm" in
    en) build_corpus "data/$corpus-$arm" "$dataset" english ;;
    mixed-lang-document) build_corpus "data/$corpus-$arm" "$dataset" document ;;
    mixed-lang-sentence) build_corpus "data/$corpus-$arm" "$dataset" sentence ;;
    mixed-lang-sentence8words) build_corpus "data/$corpus-$arm" "$dataset" words 8 ;;
    *) echo "error: arm $arm: expected en, mixed-lang-document, mixed-lang-sentence or mixed-lang-sentence8words" >&2
       return 2 ;;
  esac
  name="$(basename "$model" | tr '[:upper:]' '[:lower:]')"
  finetune "$model" "data/$corpus-$arm/mixed.txt" "checkpoints/$name-$corpus-$arm" "${overrides[@]}"
  evaluate "checkpoints/$name-$corpus-$arm" "$model"
}
