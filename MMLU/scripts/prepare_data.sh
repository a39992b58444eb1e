#!/usr/bin/env bash
# Build MMLU/data/full, the folder every MMLU launcher reads, in one command (on a machine with
# internet, or with local stand-ins for the hub):
#   1. English MMLU from the hub (cais/mmlu) into dev/ and test/, and the paper's released mixup
#      set (cross-ling-know/mixup-lang-mmlu) into dev_mixup/ and test_mixup/;
#   2. the "full" translation of every question and option into each language;
#   3. every other variant (question, options, gt, gt_question, onewrong, threewrong), assembled
#      from English and full with no re-translation.
# The translation cache makes a re-run (or a killed run) translate nothing twice.
#
#   bash MMLU/scripts/prepare_data.sh                                    # Google Translate, as the paper
#   TRANSLATOR=hf MODEL=facebook/nllb-200-3.3B bash MMLU/scripts/prepare_data.sh   # NLLB, offline GPU
#   TRANSLATOR=mmmlu MMMLU_DIR=/data/mmmlu bash MMLU/scripts/prepare_data.sh       # human translations
#
# TRANSLATOR: google (googletrans, needs pip install googletrans), hf (NLLB/M2M100/Marian; MODEL),
# llm (a causal LM; MODEL), openai (MODEL=gpt-...), apertium (offline, weak; no German), or mmmlu
# (OpenAI's MMMLU test files mmlu_XX-XX.csv in MMMLU_DIR; MMMLU has no dev split, so dev is
# translated with DEV_TRANSLATOR, default google). Other settings: OUT_DIR, LANGUAGES, SOURCE
# (English MMLU), MIXUP (the mixup release, or "build" to assemble mixup locally), SUBJECTS.
source "$(dirname "$0")/../../scripts/lib/usage.sh"  # --help / -h: usage, then exit
set -euo pipefail
cd "$(dirname "$0")/../.."

out_dir="${OUT_DIR:-MMLU/data/full}"
translator="${TRANSLATOR:-google}"
model="${MODEL:-}"
read -r -a languages <<< "${LANGUAGES:-de fr es it}"
english="${SOURCE:-cais/mmlu}"
mixup="${MIXUP:-cross-ling-know/mixup-lang-mmlu}"
subjects=()
[ -n "${SUBJECTS:-}" ] && read -r -a subjects <<< "$SUBJECTS"
subject_args=(${subjects[@]+--subjects "${subjects[@]}"})

mmmlu_file() {  # MMMLU's file for a language code
  case "$1" in
    fr) echo FR-FR ;; de) echo DE-DE ;; es) echo ES-LA ;; it) echo IT-IT ;; pt) echo PT-BR ;;
    ar) echo AR-XY ;; bn) echo BN-BD ;; hi) echo HI-IN ;; id) echo ID-ID ;; ja) echo JA-JP ;;
    ko) echo KO-KR ;; sw) echo SW-KE ;; yo) echo YO-NG ;; zh) echo ZH-CN ;;
    *) echo "error: MMMLU has no language '$1'" >&2; exit 2 ;;
  esac
}

# ---- Settings check: every setting is checked here, before the first long step (fetching) ----
fail() { echo "error: $1" >&2; exit 2; }
case "$translator" in
  google|hf|llm|openai|apertium|mmmlu) ;;
  *) fail "TRANSLATOR: '$translator' is not one of google, hf, llm, openai, apertium, mmmlu" ;;
esac
[ "${#languages[@]}" -gt 0 ] || fail "LANGUAGES: empty; give language codes such as 'de fr es it'"
if [ "$translator" = mmmlu ]; then
  [ -n "${MMMLU_DIR:-}" ] || fail "MMMLU_DIR: not set; TRANSLATOR=mmmlu needs the folder holding the MMMLU files mmlu_XX-XX.csv"
  [ -d "$MMMLU_DIR" ] || fail "MMMLU_DIR: $MMMLU_DIR: no such folder"
  for lang in "${languages[@]}"; do
    file="$MMMLU_DIR/mmlu_$(mmmlu_file "$lang").csv"
    [ -f "$file" ] || fail "MMMLU_DIR: $file: no such file (the MMMLU file of '$lang')"
  done
fi
# Language codes, the mixup's language set, and the offline translators' language pairs:
python - "$translator" "$mixup" "${DEV_TRANSLATOR:-google}" "${languages[@]}" <<'PY' || exit 2
import sys
from crossknow.core.languages import get_language
translator, mixup, dev_translator, *codes = sys.argv[1:]
def fail(message):
    sys.exit(f"error: {message}")
try:
    languages = sorted({get_language(code).iso for code in codes} - {"en"})
except ValueError as error:
    fail(f"LANGUAGES: {error}")
if mixup == "build" and len(languages) < 4:
    fail(f"MIXUP=build: mixup needs four or more languages besides English; LANGUAGES has {len(languages)} "
         f"({' '.join(languages) or 'none'})")
for kind in {translator if translator != "mmmlu" else dev_translator} & {"apertium", "google"}:
    from crossknow.models.translation import check_languages, make_translator
    try:  # these two start at once and know their pairs; model translators are checked by translate.py
        made = make_translator(kind)
        for lang in languages:
            check_languages(made, "en", lang)
    except (ValueError, ImportError, OSError) as error:
        fail(f"TRANSLATOR={kind}: {error}")
PY
# ---- end of the settings check ----

fetch_args=(--out_dir "$out_dir" --source "$english" "${subject_args[@]}")
if [ "$mixup" = build ]; then fetch_args+=(--no_mixup); else fetch_args+=(--mixup "$mixup"); fi
python MMLU/fetch_data.py "${fetch_args[@]}"

translate_full() {  # split translator [model]
  python MMLU/translate.py --split "$1" --languages "${languages[@]}" --mode full --translator "$2" \
      ${3:+--model "$3"} --data_dir "$out_dir" "${subject_args[@]}"
}

if [ "$translator" = mmmlu ]; then
  : "${MMMLU_DIR:?TRANSLATOR=mmmlu needs MMMLU_DIR, the folder holding the MMMLU files mmlu_XX-XX.csv}"
  for lang in "${languages[@]}"; do
    python MMLU/translate.py --split test --languages "$lang" --data_dir "$out_dir" \
        --import_mmmlu "$MMMLU_DIR/mmlu_$(mmmlu_file "$lang").csv" "${subject_args[@]}"
  done
  translate_full dev "${DEV_TRANSLATOR:-google}" "${DEV_MODEL:-}"
else
  for split in dev test; do translate_full "$split" "$translator" "$model"; done
fi

variant_args=(--data_dir "$out_dir" --languages "${languages[@]}")
[ "$mixup" = build ] || variant_args+=(--no_mixup)
python MMLU/build_variants.py "${variant_args[@]}"
echo "MMLU data ready in $out_dir: run a launcher, e.g. bash MMLU/scripts/0shot/llama3-8b.sh"
