# Shared by the HP launchers. A launcher sets model= on its first line (one model, or several
# separated by spaces; MODEL in the environment overrides it), sources this file and calls
# run_quiz, which asks each model the quiz in turn; extra arguments go to HP/evaluate.py.
# The dtype is left to HP/evaluate.py (bf16 on a GPU as in the paper, fp32 on a CPU).
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/usage.sh"  # --help / -h: usage, then exit
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

data="${HP_DATA:-cross-ling-know/HarryPotter-Quiz}"
save_dir="${SAVE_DIR:-results/hp}"

# run_quiz [args...]: every model of $model, all five languages, one process per model. Each model
# uses its own tokenizer, as the paper's HP code does (its released checkpoints ship theirs); ARCH
# in the environment names another (--arch).
run_quiz() {
  for m in $model; do
    python HP/evaluate.py --model_name "$m" ${ARCH:+--arch "$ARCH"} --langs all --data "$data" \
        --save_dir "$save_dir" "$@"
  done
}
