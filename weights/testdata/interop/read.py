"""Reads a safetensors file with numpy and the standard library only, as an
independent reader for weights' interop tests, and prints JSON: metadata,
then per tensor its dtype, shape and values (float32 bit patterns for
floats, integers otherwise). Matrices carrying ctlens quantization metadata
("ctlens.quant.W" = "int4:g32:N,K" etc.) are also dequantized from the
documented layout into "dequant" (float32 bits). Usage: python3 read.py FILE
"""
import json
import struct
import sys

import numpy as np

NP = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I8": "i1", "U8": "u1", "I16": "<i2",
      "U16": "<u2", "I32": "<i4", "U32": "<u4", "I64": "<i8", "U64": "<u8", "BOOL": "u1"}
SIZE = {"BF16": 2, **{k: np.dtype(v).itemsize for k, v in NP.items()}}


def main(path):
    buf = open(path, "rb").read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    arrays, out, end = {}, {}, 0
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        s, t = e["data_offsets"]
        assert s == end, f"{name}: starts at {s}, previous ends at {end}"
        assert t - s == int(np.prod(e["shape"], dtype=np.int64)) * SIZE[e["dtype"]], name
        end = t
        raw = buf[base + s:base + t]
        if e["dtype"] == "BF16":
            bits = np.frombuffer(raw, "<u2").astype("<u4") << 16
            rec = {"bits": [int(x) for x in bits]}
        else:
            a = np.frombuffer(raw, NP[e["dtype"]])
            arrays[name] = a
            if e["dtype"] in ("F32", "F16", "F64"):
                rec = {"bits": [int(x) for x in a.astype("<f4").view("<u4")]}
            else:
                rec = {"ints": [int(x) for x in a]}
        out[name] = {"dtype": e["dtype"], "shape": e["shape"], **rec}
    assert base + end == len(buf), "data section does not end the file"

    for key, scheme in meta.items():
        if not key.startswith("ctlens.quant."):
            continue
        w = key[len("ctlens.quant."):]
        fields = scheme.split(":")
        kind, (rows, k) = fields[0], map(int, fields[-1].split(","))
        if kind in ("f32", "f16"):
            x = arrays[w].astype("<f4").reshape(rows, k)
        else:
            assert fields[1] == "g32", scheme
            words = arrays[w + ".q"]
            scales = arrays[w + ".scale"].view("<f2").astype("<f4")
            if kind == "int8":
                q = words.view("i1").astype("<f4")
            else:  # int4: nibble j of word i is element 8i+j, stored q+8
                nib = (words[:, None] >> (4 * np.arange(8, dtype="<u4"))) & 15
                q = nib.reshape(-1).astype("<f4") - 8
            x = (q * np.repeat(scales[:rows * k // 32], 32)).astype("<f4").reshape(rows, k)
        out.setdefault(w, {})["dequant"] = [int(v) for v in x.reshape(-1).view("<u4")]
    print(json.dumps({"metadata": meta, "tensors": out}))


if __name__ == "__main__":
    main(sys.argv[1])
