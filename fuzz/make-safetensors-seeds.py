#!/usr/bin/env python3
# Writes the safetensors fuzz seeds (fuzz/corpus/safetensors/): small valid files of every dtype
# Kiln reads, with and without metadata, and the broken headers the reader must reject.
import json
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                         "corpus", "safetensors")
os.makedirs(out, exist_ok=True)


def image(header, data, pad=True):
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:  # the format pads the header with spaces to 8-byte alignment
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def tensors(specs, metadata=None):
    """specs: (name, dtype, shape, packed bytes); data laid out in order."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in specs:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    return image(header, data)


f32 = lambda *v: struct.pack("<%df" % len(v), *v)
seeds = {
    "empty-header": image({}, b""),
    "f32-matrix": tensors([("w", "F32", [2, 3], f32(1, 2, 3, 4, 5, 6))]),
    "all-dtypes": tensors([
        ("a", "F32", [2], f32(0.5, -1)),
        ("b", "F64", [1], struct.pack("<d", 3.25)),
        ("c", "I32", [3], struct.pack("<3i", 1, -2, 2**31 - 1)),
        ("d", "I64", [2], struct.pack("<2q", -2**63, 7)),
        ("e", "BOOL", [2], b"\x01\x00"),
    ]),
    "scalar": tensors([("s", "F32", [], f32(2))]),
    "zero-dim": tensors([("z", "F32", [0, 4], b"")]),  # Kiln has no empty tensors
    "metadata": tensors([("w", "F32", [1], f32(1))], {"format": "pt", "epoch": "3"}),
    "unpadded": image({"w": {"dtype": "I32", "shape": [1], "data_offsets": [0, 4]}},
                      struct.pack("<i", 5), pad=False),
    "unknown-dtype": tensors([("h", "F16", [2], b"\x00\x3c\x00\x40")]),
    "overlap": image({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                      "b": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}, f32(1, 2)),
    "size-mismatch": image({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, f32(1)),
    "past-end": image({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, f32(1)),
    "huge-shape": image({"a": {"dtype": "F32", "shape": [2**31, 2**31, 2**31],
                               "data_offsets": [0, 4]}}, f32(1)),
    "bad-metadata": tensors([("w", "F32", [1], f32(1))], {"n": 3}),
    "header-too-long": struct.pack("<Q", 2**63) + b"{}",
    "truncated": tensors([("w", "F32", [2, 3], f32(1, 2, 3, 4, 5, 6))])[:40],
}
for name, blob in seeds.items():
    with open(os.path.join(out, name + ".safetensors"), "wb") as f:
        f.write(blob)
print("wrote %d seeds to %s" % (len(seeds), out))
