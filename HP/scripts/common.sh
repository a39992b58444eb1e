# Shared by the HP launchers. A launcher sets model= on its first line (one model, or several
# separated by spaces; MODEL in the environment overrides it), sources this file and calls
# run_quiz, which asks each model the quiz in turn; extra arguments go to HP/evaluate.py.
# The dtype is left to HP/evaluate.py (bf16 on a GPU as in the paper, fp32 on a CPU).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

data="${HP_DATA:-cross-ling-know/HarryPotter-Quiz}"
save_dir="${SAVE_DIR:-results/hp}"

# The tokenizer of a model: ARCH if set, the base model's for the paper's released fine-tuned
# checkpoints (--arch, as the paper passes it), none otherwise (the model's own).
tokenizer_of() {
  if [ -n "${ARCH:-}" ]; then echo "$ARCH"; return; fi
  case "$1" in
    cross-ling-know/llama2-7b-*) echo meta-llama/Llama-2-7b-hf ;;
    cross-ling-know/llama3-8b-*) echo meta-llama/Meta-Llama-3-8B ;;
    *) echo "" ;;
  esac
}

# run_quiz [args...]: every model of $model, all five languages, one process per model.
run_quiz() {
  local arch
  for m in $model; do
    arch="$(tokenizer_of "$m")"
    python HP/evaluate.py --model_name "$m" ${arch:+--arch "$arch"} --langs all --data "$data" \
        --save_dir "$save_dir" "$@"
  done
}
