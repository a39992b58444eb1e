# Shared by the MMLU launchers: they set model= (and arch= for fine-tuned checkpoints), source
# this file, and call one of the functions below; extra arguments go to MMLU/eval.py.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

data_dir="${DATA_DIR:-MMLU/data/full}"  # built by MMLU/translate.py (see MMLU/README.md)
save_dir="${SAVE_DIR:-results/mmlu}"
arch="${arch:-}"

eval_mmlu() {
  python MMLU/eval.py --model "$model" ${arch:+--arch "$arch"} --data_dir "$data_dir" --save_dir "$save_dir" "$@"
}

# English, 7 modes x de/fr/es/it, and mixup, with one model load.
run_0shot() {
  eval_mmlu --ntrain 0 --configs all "$@"
  python -m crossknow.report "$save_dir"
}

# 5-shot, demonstrations from the same variant and from English.
run_5shot() {
  eval_mmlu --ntrain 5 --configs all --demos same en "$@"
  python -m crossknow.report "$save_dir"
}

# The paper's intervention prompts on mixup MMLU: 0-shot with prompts 0 and 1, then 5-shot
# translate-then-answer (mixup demos with their English versions, free generation).
run_intervention() {
  for id in 0 1; do
    eval_mmlu --ntrain 0 --config mixup --test_trans_lan mixup --interv_prompt_id "$id" "$@"
  done
  local max_token=256
  eval_mmlu --ntrain 5 --config "mixup_$max_token" --test_trans_lan mixup --dev_trans_lan mixup \
      --interv_prompt_id 2 --infer_mode generation --max_token "$max_token" "$@"
}
