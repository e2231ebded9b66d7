#!/usr/bin/env bash
# The README's samples table: every seed model trained with `kilnc fit`, on Fashion-MNIST where
# the seed used MNIST-like data, on generated data otherwise (scripts/gen_sample_data.py).
# Usage: scripts/samples_table.sh [BUILD] [SAMPLE...]; prints one Markdown row per sample.
set -euo pipefail
build=${1:-build}
shift || true
kilnc="$build/compiler/driver/kilnc"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gen() { python3 scripts/gen_sample_data.py "$@"; }

# sample | what it trains on | kilnc fit arguments
runs=(
  "mnist_mlp|Fashion-MNIST|--dataset fashion-mnist --normalize image --epochs 2"
  "cnn_mnist|Fashion-MNIST|--dataset fashion-mnist --normalize image --epochs 3"
  "softmax_reg|Fashion-MNIST|--dataset fashion-mnist --epochs 2"
  "autoencoder|Fashion-MNIST images|--dataset fashion-mnist --map image=x --epochs 2"
  "gan|Fashion-MNIST images|--dataset fashion-mnist --map image=real --epochs 1"
  "linreg|generated: y = 3x + 2 + N(0, 0.1)|--dataset safetensors:@/linreg.safetensors --test-data @/linreg-test.safetensors --epochs 300"
  "logreg|generated: sign(a + b - c), CSV|--dataset csv:@/logreg.csv --test-data @/logreg-test.csv --label-dtype f32 --epochs 15"
  "mlp_binary|generated: inside a 10-d sphere|--dataset safetensors:@/mlp_binary.safetensors --test-data @/mlp_binary-test.safetensors --epochs 30"
  "lstm|generated: sine waves|--dataset safetensors:@/lstm.safetensors --test-data @/lstm-test.safetensors --epochs 30"
  "transformer|generated: noisy waves|--dataset safetensors:@/transformer.safetensors --test-data @/transformer-test.safetensors --epochs 3"
  "cnn_cifar|generated CIFAR-10 binary files|--dataset cifar10:@ --epochs 2"
)

prepare() {
  case $1 in
  linreg) gen linreg "$tmp/linreg.safetensors" 2000 && gen linreg "$tmp/linreg-test.safetensors" 500 ;;
  mlp_binary) gen mlp_binary "$tmp/mlp_binary.safetensors" 3200 && gen mlp_binary "$tmp/mlp_binary-test.safetensors" 1000 ;;
  lstm) gen lstm "$tmp/lstm.safetensors" 3200 && gen lstm "$tmp/lstm-test.safetensors" 640 ;;
  transformer) gen transformer "$tmp/transformer.safetensors" 320 && gen transformer "$tmp/transformer-test.safetensors" 64 ;;
  cnn_cifar) gen cifar10 "$tmp" 640 ;;
  logreg)
    python3 - "$tmp" <<'EOF'
import random, sys
for name, n, seed in (("logreg.csv", 2000, 1), ("logreg-test.csv", 500, 2)):
    rng = random.Random(seed)
    with open(sys.argv[1] + "/" + name, "w") as f:
        f.write("a,b,c,d,label\n")
        while n:
            a, b, c, d = (rng.uniform(-1, 1) for _ in range(4))
            if abs(a + b - c) >= 0.2:
                f.write("%f,%f,%f,%f,%d\n" % (a, b, c, d, a + b - c > 0))
                n -= 1
EOF
    ;;
  esac
}

echo "| sample | data | epochs | test result | training time |"
echo "|---|---|---|---|---|"
for run in "${runs[@]}"; do
  IFS='|' read -r sample data args <<<"$run"
  if [[ $# -gt 0 && ! " $* " =~ " $sample " ]]; then continue; fi
  prepare "$sample"
  out=$("$kilnc" fit "samples/$sample.json" ${args//@/$tmp} --seed 1 --threads "${THREADS:-1}" --progress off 2>&1) || {
    echo "| $sample | $data | | FAILED: $(echo "$out" | tail -1) | |"
    continue
  }
  epochs=$(echo "$out" | sed -n 's/^trained \([0-9]*\) epochs\? in \([0-9.]*\) s.*/\1/p')
  secs=$(echo "$out" | sed -n 's/^trained \([0-9]*\) epochs\? in \([0-9.]*\) s.*/\2/p')
  test=$(echo "$out" | sed -n 's/^test: \(.*\)  (\([0-9]*\) examples.*/\1 (\2 examples)/p')
  echo "| $sample | $data | $epochs | $test | $secs s |"
done
