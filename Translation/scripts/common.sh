# Shared by the Translation launchers: they set model= and system= and source this file, which
# translates FLoRes (the paper's 100 sentences) en<->de/fr/es/it with that system, then scores
# every system under the output folder. Extra arguments go to Translation/translate.py.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

out="${OUTPUT_DIR:-Translation/outputs}"
python Translation/translate.py --model "$model" --system_name "$system" --direction both --output_dir "$out" "$@"
bash Translation/scripts/evaluate_all.sh
