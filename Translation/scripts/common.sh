# Shared by the Translation launchers. A launcher sets model= on its first line (one model, or
# several separated by spaces; MODEL in the environment overrides it), and openai_preset= for
# OpenAI models, then sources this file, which translates FLoRes (the paper's 100 sentences)
# en<->de/fr/es/it with each model into {OUTPUT_DIR}/{model's tag}[-{preset}], then scores every
# system under OUTPUT_DIR. Extra arguments go to Translation/translate.py.
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/usage.sh"  # --help / -h: usage, then exit
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

out="${OUTPUT_DIR:-Translation/outputs}"
for m in $model; do
  # one folder per model (its tag) and, for OpenAI models, preset: chosen by translate.py
  python Translation/translate.py --model "$m" ${openai_preset:+--openai_preset "$openai_preset"} \
      --direction both --output_dir "$out" "$@"
done
bash Translation/scripts/evaluate_all.sh
