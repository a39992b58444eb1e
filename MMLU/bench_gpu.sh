#!/usr/bin/env bash
# One prepared GPU check for MMLU throughput (issue: MFU at 8B), to fit a lent machine's ~15 minutes:
# the engine over the whole MMLU test set (5-shot and 0-shot, warm-up timed apart, MFU against the
# device's dense fp16 peak), a torch.profiler summary on a 500-question slice, and agreement with
# the paper's method on that slice (the H100 table's 5 subjects x 100 questions).
# The model is a randomly initialised Llama-3-8B shape (no weights can be downloaded there): the
# compute is the real model's, the predictions mean nothing.
#   DATA_DIR=../shared/data/mmlu TOKENIZER=smollm2 OUT=$OUT bash MMLU/bench_gpu.sh
source "$(dirname "$0")/../scripts/lib/usage.sh"  # --help / -h: usage, then exit
set -euo pipefail
cd "$(dirname "$0")/.."
data_dir="${DATA_DIR:-../shared/data/mmlu}"
tokenizer="${TOKENIZER:-smollm2}"
out="${OUT:-results/bench}"
arch="${ARCH:-llama3-8b}"
dtype="${DTYPE:-fp16}"
slice=(--subjects high_school_geography management world_religions conceptual_physics abstract_algebra --limit 100)
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
common=(--random_init "$arch" --model "$tokenizer" --data_dir "$data_dir" --configs en --dtype "$dtype")
for k in 5 0; do
  python3 MMLU/bench.py "${common[@]}" -k "$k" --full_set --warmup_questions 256 \
    --output_json "$out/full_${k}shot.json" 2>&1 | sed "/it\/s]/d" | tee "$out/full_${k}shot.txt"
done
python3 MMLU/bench.py "${common[@]}" -k 5 "${slice[@]}" --methods paper engine \
  --profile "$out/profile" --output_json "$out/slice_5shot.json" 2>&1 | sed "/it\/s]/d" | tee "$out/slice_5shot.txt"
