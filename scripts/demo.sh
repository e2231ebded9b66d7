#!/usr/bin/env bash
# `make demo`: trains the MNIST-style CNN (samples/cnn_mnist.json) on Fashion-MNIST for 3 epochs
# with a progress bar, evaluates it on the 10,000 test images, and writes a checkpoint, the
# training curves (SVG) and the per-epoch history (JSON) to $build/demo/ (docs/fit.md).
set -euo pipefail
build=${1:-build}
kilnc="$build/compiler/driver/kilnc"
data=/usr/share/datasets/fashion-mnist
out="$build/demo"
epochs=${DEMO_EPOCHS:-3}

if [[ ! -e "$data/train-images-idx3-ubyte.gz" && ! -e "$data/train-images-idx3-ubyte" ]]; then
  echo "make demo: Fashion-MNIST is not installed in $data" >&2
  echo "  install it with: sudo apt-get install dataset-fashion-mnist (or make bootstrap)" >&2
  exit 1
fi
mkdir -p "$out"

echo "== kilnc check: every sample graph loads and verifies"
for f in samples/*.json; do
  "$kilnc" check "$f" >/dev/null && echo "  ok  $f"
done

echo
echo "== kilnc fit: samples/cnn_mnist.json on Fashion-MNIST, $epochs epochs, then the test set"
# Pixels are standardised with the training images' mean and std (also applied to the test
# images); validation after every epoch is the test split, so the plot shows both curves.
"$kilnc" fit samples/cnn_mnist.json --dataset fashion-mnist --map image=x,label=labels \
  --normalize image --epochs "$epochs" --seed 1 --validation test \
  --save-checkpoint "$out/cnn_mnist.ckpt.safetensors" --plot "$out/cnn_mnist.svg" \
  --history "$out/cnn_mnist.history.json"

echo
echo "Wrote $out/cnn_mnist.ckpt.safetensors (checkpoint: params, Adam slots, step counters),"
echo "      $out/cnn_mnist.svg (loss and accuracy curves, train and test),"
echo "      $out/cnn_mnist.history.json (per-epoch numbers)."
echo "Continue training from the checkpoint with:"
echo "  $kilnc fit samples/cnn_mnist.json --dataset fashion-mnist --normalize image --seed 1 \\"
echo "    --epochs $((epochs + 1)) --resume $out/cnn_mnist.ckpt.safetensors"
