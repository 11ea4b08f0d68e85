"""Writes safetensors files with numpy and the standard library only, as an
independent writer for weights' interop tests (the safetensors package is
not needed). Usage: python3 make.py OUTDIR

OUTDIR/interop.safetensors   one file of every dtype the Go reader must read
OUTDIR/sharded/              an HF-style sharded checkpoint with its index
OUTDIR/expected.json         what each tensor holds: float32 bit patterns
                             ("bits") for floats, integers ("ints") otherwise
"""
import json
import os
import struct
import sys

import numpy as np


def f32_bits(a):
    return [int(x) for x in np.asarray(a, dtype="<f4").reshape(-1).view("<u4")]


def to_bf16(a):
    """Round float32 to bfloat16 (nearest, ties to even); returns uint16."""
    u = np.asarray(a, dtype="<f4").reshape(-1).view("<u4").astype(np.uint64)
    r = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return r.astype("<u2")


def write(path, tensors, metadata):
    """tensors: list of (name, dtype, shape, raw bytes) in data order. The
    header lists them in reverse, metadata last, and is padded with spaces
    to a multiple of 8 like the reference writer."""
    header, off = {}, 0
    for name, dt, shape, raw in tensors:
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw)
    ordered = dict(reversed(list(header.items())))
    if metadata:
        ordered["__metadata__"] = metadata
    hdr = json.dumps(ordered).encode()
    hdr += b" " * (-len(hdr) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hdr)))
        f.write(hdr)
        for _, _, _, raw in tensors:
            f.write(raw)


def main(out):
    rng = np.random.default_rng(7)
    expected = {}
    tensors = []

    def add(name, dt, arr, raw=None, bits=None, ints=None):
        arr = np.asarray(arr)
        tensors.append((name, dt, arr.shape, raw if raw is not None else arr.tobytes()))
        e = {"dtype": dt, "shape": list(arr.shape)}
        if bits is not None:
            e["bits"] = bits
        if ints is not None:
            e["ints"] = ints
        expected[name] = e

    a = rng.standard_normal((3, 5)).astype("<f4")
    a[0, 0], a[0, 1], a[0, 2] = np.inf, -0.0, np.float32(1e-42)  # inf, signed zero, subnormal
    add("f32.matrix", "F32", a, bits=f32_bits(a))
    h = (rng.standard_normal(8) * 100).astype("<f2")
    h[0], h[1], h[2] = np.float16(6e-8), np.float16(-65504), np.float16(np.nan)
    add("f16.vector", "F16", h, bits=f32_bits(h.astype("<f4")))
    b32 = (rng.standard_normal((2, 3)) * 3).astype("<f4")
    b = to_bf16(b32).reshape(2, 3)
    add("bf16.matrix", "BF16", b, bits=[int(x) << 16 for x in b.reshape(-1)])
    d = rng.standard_normal(4).astype("<f8")
    add("f64.vector", "F64", d, bits=f32_bits(d.astype("<f4")))
    add("i8", "I8", np.array([-128, -1, 0, 127], dtype="i1"), ints=[-128, -1, 0, 127])
    add("u8", "U8", np.array([0, 255, 7], dtype="u1"), ints=[0, 255, 7])
    i32 = np.array([[-(2**31), 2**31 - 1], [5, -6]], dtype="<i4")
    add("i32", "I32", i32, ints=[int(x) for x in i32.reshape(-1)])
    add("u32", "U32", np.array([0xDEADBEEF, 1], dtype="<u4"), ints=[0xDEADBEEF, 1])
    i64 = np.array([-(2**63), 2**63 - 1, 3], dtype="<i8")
    add("i64", "I64", i64, ints=[int(x) for x in i64])
    s = np.array(2.5, dtype="<f4")
    add("scalar", "F32", s, bits=f32_bits(s))
    z = np.zeros((0, 4), dtype="<f4")
    add("empty", "F32", z, bits=[])
    meta = {"format": "pt", "writer": "numpy"}
    write(os.path.join(out, "interop.safetensors"), tensors, meta)

    # A sharded Phi-3-style checkpoint: fused projections split over files.
    sh = os.path.join(out, "sharded")
    os.makedirs(sh, exist_ok=True)
    qkv = rng.standard_normal((8 + 2 * 4, 6)).astype("<f4")  # q: 8 rows, k, v: 4 rows
    gate_up = (rng.standard_normal((2 * 5, 6))).astype("<f2")
    embed = to_bf16(rng.standard_normal((7, 6)).astype("<f4")).reshape(7, 6)
    files = {
        "model-00001-of-00002.safetensors": [
            ("model.layers.0.self_attn.qkv_proj.weight", "F32", qkv.shape, qkv.tobytes()),
            ("model.embed_tokens.weight", "BF16", embed.shape, embed.tobytes()),
        ],
        "model-00002-of-00002.safetensors": [
            ("model.layers.0.mlp.gate_up_proj.weight", "F16", gate_up.shape, gate_up.tobytes()),
        ],
    }
    weight_map, total = {}, 0
    for fname, ts in files.items():
        write(os.path.join(sh, fname), ts, {"format": "pt"})
        for name, _, _, raw in ts:
            weight_map[name] = fname
            total += len(raw)
    with open(os.path.join(sh, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
    expected["sharded"] = {
        "q": f32_bits(qkv[:8]), "k": f32_bits(qkv[8:12]), "v": f32_bits(qkv[12:]),
        "gate": f32_bits(gate_up[:5].astype("<f4")), "up": f32_bits(gate_up[5:].astype("<f4")),
        "embed": [int(x) << 16 for x in embed.reshape(-1)],
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
