#!/usr/bin/env python3
# Generated training data for the samples that have no real dataset here (scripts/samples_table.sh):
# safetensors files with a learnable signal, and CIFAR-10 binary files. Standard library only.
import json
import math
import random
import struct
import sys


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype 'F32'|'I32', shape, flat values)."""
    header, blobs, offset = {}, [], 0
    for name, dtype, shape, values in tensors:
        blob = struct.pack("<%d%s" % (len(values), "f" if dtype == "F32" else "i"), *values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def linreg(rng, n):
    # y = 3x + 2 + noise(0.1): the best reachable mse is the noise variance, 0.01.
    x = [rng.uniform(-1, 1) for _ in range(n)]
    y = [3 * v + 2 + rng.gauss(0, 0.1) for v in x]
    return [("x", "F32", [n, 1], x), ("y", "F32", [n, 1], y)]


def mlp_binary(rng, n):
    # Label 1 inside a sphere of radius 2.3 in 10 dimensions (about half the points): not linear.
    xs, ys = [], []
    for _ in range(n):
        p = [rng.gauss(0, 0.75) for _ in range(10)]
        xs += p
        ys.append(1.0 if math.sqrt(sum(v * v for v in p)) < 2.3 else 0.0)
    return [("x", "F32", [n, 10], xs), ("y", "F32", [n, 1], ys)]


def lstm(rng, n):
    # Sine waves: 8 channels of sin(w t + phase_k) over 20 steps; predict channel 0 at step 20.
    xs, ys = [], []
    for _ in range(n):
        w, phase = rng.uniform(0.2, 0.6), rng.uniform(0, 2 * math.pi)
        for t in range(20):
            xs += [math.sin(w * t + phase + k * math.pi / 8) for k in range(8)]
        ys.append(math.sin(w * 20 + phase))
    return [("x", "F32", [n, 20, 8], xs), ("y", "F32", [n, 1], ys)]


def transformer(rng, n):
    # Sequences of 64 tokens of 128 features: a few smooth waves plus noise.
    xs = []
    for _ in range(n):
        phase = rng.uniform(0, 2 * math.pi)
        for t in range(64):
            xs += [0.5 * math.sin(0.1 * t * (1 + d % 4) + phase) + rng.gauss(0, 0.1)
                   for d in range(128)]
    return [("x", "F32", [n, 64, 128], xs)]


def cifar(rng, path, n):
    # CIFAR-10 records (label byte + 3072 CHW pixel bytes): each class has its own mean colour.
    out = bytearray()
    for _ in range(n):
        label = rng.randrange(10)
        base = [(label * 25) % 256, (label * 71) % 256, (label * 137) % 256]
        out.append(label)
        for c in range(3):
            out += bytes(max(0, min(255, int(rng.gauss(base[c], 40)))) for _ in range(1024))
    with open(path, "wb") as f:
        f.write(out)


def main():
    kind, out = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    rng = random.Random(sum(kind.encode()) * 2 + (1 if out.endswith("test.safetensors") else 0))
    gens = {"linreg": linreg, "mlp_binary": mlp_binary, "lstm": lstm, "transformer": transformer}
    if kind == "cifar10":
        for i in range(1, 6):
            cifar(rng, "%s/data_batch_%d.bin" % (out, i), n)
        cifar(rng, "%s/test_batch.bin" % out, n)
        return
    write_safetensors(out, gens[kind](rng, n))


if __name__ == "__main__":
    main()
