#!/usr/bin/env python3
"""Writes the binary fixtures of the JSON tests (plain python3: struct + json, no numpy).

Run from the repository root: python3 tests/json/bad/make_weights.py
Outputs (committed): tests/json/bad/NN-weights-*.safetensors (broken on purpose, one fault each),
tests/json/good/weights.safetensors (valid), and tests/json/bad/33-deep-nesting.json (100000
nested lists: generated because it is large and dull).
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
GOOD = os.path.join(os.path.dirname(HERE), "good")


def f32(values):
    return struct.pack("<%df" % len(values), *values)


def image(header, data, header_len=None):
    """A safetensors image: u64 little-endian header length, JSON header, data bytes."""
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    n = len(h) if header_len is None else header_len
    return struct.pack("<Q", n) + h + data


def write(path, blob):
    with open(path, "wb") as f:
        f.write(blob)


W = [0.5, -1.0, 0.25, 2.0, -0.125, 1.5]  # w: F32 [3, 2]
B = [0.1, -0.2]                          # b: F32 [2]


def entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def main():
    good = image({"w": entry("F32", [3, 2], 0, 24), "b": entry("F32", [2], 24, 32)}, f32(W) + f32(B))
    write(os.path.join(GOOD, "weights.safetensors"), good)

    bad = {
        # w stored transposed: [2, 3] where the param is [3, 2].
        "45-weights-misshapen": image({"w": entry("F32", [2, 3], 0, 24)}, f32(W)),
        # A tensor named after nothing in the graph.
        "46-weights-unknown-tensor": image(
            {"w": entry("F32", [3, 2], 0, 24), "extra": entry("F32", [2], 24, 32)}, f32(W) + f32(B)),
        # The header length points past the end of the file.
        "47-weights-header-past-eof": image({"w": entry("F32", [3, 2], 0, 24)}, f32(W), header_len=4096),
        # Data offsets past the end of the data.
        "48-weights-offsets-past-eof": image({"w": entry("F32", [3, 2], 0, 24)}, f32(W[:2])),
        # Two tensors sharing bytes.
        "49-weights-overlap": image(
            {"w": entry("F32", [3, 2], 0, 24), "b": entry("F32", [2], 16, 24)}, f32(W)),
        # Offsets span 20 bytes where F32 [3, 2] needs 24.
        "50-weights-wrong-byte-count": image({"w": entry("F32", [3, 2], 0, 20)}, f32(W)),
        # A header length of 2^63.
        "51-weights-huge-header": image({"w": entry("F32", [3, 2], 0, 24)}, f32(W), header_len=1 << 63),
        # The same tensor named twice (JSON keeps one silently; the reader must not).
        "69-weights-duplicate-name": (lambda h: struct.pack("<Q", len(h)) + h + f32(W))(
            b'{"w":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]},'
            b'"w":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]}}'),
        # A dtype Kiln does not know.
        "52-weights-bad-dtype": image({"w": entry("Q7", [3, 2], 0, 24)}, f32(W)),
    }
    for name, blob in bad.items():
        write(os.path.join(HERE, name + ".safetensors"), blob)

    with open(os.path.join(HERE, "33-deep-nesting.json"), "w") as f:
        f.write('{"format": "kiln-graph", "version": 1, "name": "deep", "inputs": ' +
                "[" * 100000 + "]" * 100000 + "}\n")


if __name__ == "__main__":
    main()
