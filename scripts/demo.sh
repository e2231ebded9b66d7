#!/usr/bin/env bash
# `make demo`: what Kiln does today. The Fashion-MNIST CNN demo needs the JIT and the dataset
# loader (issues 4 and 7); until then this checks every sample and trains a small one on the
# reference interpreter.
set -euo pipefail
build=${1:-build}
kilnc="$build/compiler/driver/kilnc"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== kilnc check: every sample graph loads and verifies"
for f in samples/*.json; do
  "$kilnc" check "$f" && echo "  ok  $f"
done

echo "== kilnc train: the binary-classification MLP, 200 Adam steps on random batches (interpreter)"
"$kilnc" make-inputs samples/mlp_binary.json --batches 1 --seed 1 -o "$tmp/batches.safetensors"
"$kilnc" train samples/mlp_binary.json --backend=interp --inputs "$tmp/batches.safetensors" \
  --steps 200 --log "$tmp/log.jsonl" --save-params "$tmp/params.safetensors"

echo
echo "The Fashion-MNIST CNN demo (make demo's real job) is not available yet: it needs the LLVM"
echo "JIT (issue 4) and the dataset loader and fit loop (issue 7)."
