# Shared by the MMLU launchers. A launcher sets model= on its first line (one model, or several
# separated by spaces; MODEL in the environment overrides it), sources this file and calls one of
# the functions below, which run each model in turn; extra arguments go to MMLU/eval.py.
# The dtype is left to MMLU/eval.py (auto: fp16 on a GPU, fp32 on a CPU).
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/usage.sh"  # --help / -h: usage, then exit
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

data_dir="${DATA_DIR:-MMLU/data/full}"  # built by MMLU/scripts/prepare_data.sh (see MMLU/README.md)
save_dir="${SAVE_DIR:-results/mmlu}"

# A local data folder that is not there (a hub name, owner/name, is left to MMLU/eval.py): say how
# to build it before any model loads.
if [ ! -d "$data_dir/test" ] && [[ "$data_dir" == /* || "$data_dir" == .* || "$data_dir" == */*/* ]]; then
  echo "error: $data_dir/test: no such folder; build the MMLU data with: bash MMLU/scripts/prepare_data.sh" \
      "(or set DATA_DIR; see MMLU/README.md)" >&2
  exit 2
fi

# The tokenizer of a model: ARCH if set, the base model's for the paper's released fine-tuned
# checkpoints (--arch, as the paper passes it), none otherwise (the model's own). The checkpoints
# and their base models are the engine's table (crossknow/core/model_spec.py reads it too).
tokenizer_of() {
  if [ -n "${ARCH:-}" ]; then echo "$ARCH"; return; fi
  local pattern base
  while IFS=$'\t' read -r pattern base; do
    # shellcheck disable=SC2053  # the table's first column is a glob pattern
    if [ "$pattern" != checkpoint ] && [[ "$1" == $pattern ]]; then echo "$base"; return; fi
  done < crossknow/core/released_models.tsv
  echo ""
}

eval_mmlu() {
  local arch
  arch="$(tokenizer_of "$1")"
  python MMLU/eval.py --model "$1" ${arch:+--arch "$arch"} --data_dir "$data_dir" --save_dir "$save_dir" "${@:2}"
}

# English, 7 modes x de/fr/es/it, and mixup, with one model load per model.
run_0shot() {
  for m in $model; do
    eval_mmlu "$m" --ntrain 0 --configs all "$@"
  done
}

# 5-shot, demonstrations from the same variant and from English.
run_5shot() {
  for m in $model; do
    eval_mmlu "$m" --ntrain 5 --configs all --demos same en "$@"
  done
}

# The paper's intervention prompts on mixup MMLU: 0-shot with prompts 0 and 1, then 5-shot
# translate-then-answer (mixup demos with their English versions, free generation). Greedy by
# default; GENERATION=paper samples as the paper's code (seed: SEED, default 0), into its own result (mixup_256_paper_token).
run_intervention() {
  local max_token=256 name="mixup_256" sampling=()
  if [ "${GENERATION:-greedy}" != greedy ]; then
    name="${name}_$GENERATION"
    sampling=(--generation_preset "$GENERATION" --seed "${SEED:-0}")
  fi
  for m in $model; do
    for id in 0 1; do
      eval_mmlu "$m" --ntrain 0 --config mixup --test_trans_lan mixup --interv_prompt_id "$id" "$@"
    done
    eval_mmlu "$m" --ntrain 5 --config "$name" --test_trans_lan mixup --dev_trans_lan mixup \
        --interv_prompt_id 2 --infer_mode generation --max_token "$max_token" "${sampling[@]}" "$@"
  done
}
