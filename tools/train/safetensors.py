"""A minimal safetensors writer and reader (no safetensors package on the
machine): an 8-byte little-endian header length, a JSON header
{name: {dtype, shape, data_offsets}, "__metadata__": {...}} padded with
spaces to a multiple of 8, then the tensors' little-endian bytes."""

import json
import struct

import numpy as np

_DTYPES = {np.dtype("<f4"): "F32", np.dtype("<f2"): "F16", np.dtype("<i8"): "I64", np.dtype("<i4"): "I32"}
_NP = {v: k for k, v in _DTYPES.items()}


def save(path, tensors, metadata=None):
    """tensors: {name: numpy array or torch tensor}, written in name order."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = tensors[name]
        if hasattr(a, "detach"):
            a = a.detach().cpu().numpy()
        a = np.ascontiguousarray(a)
        code = np.dtype(a.dtype).newbyteorder("<").str
        if np.dtype(code) not in _DTYPES:
            raise ValueError("safetensors: %s has dtype %s (want f32, f16, i64 or i32)" % (name, a.dtype))
        b = a.astype(code, copy=False).tobytes()
        header[name] = {"dtype": _DTYPES[np.dtype(code)], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load(path):
    """Returns ({name: numpy array}, metadata)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=_NP[e["dtype"]]).reshape(e["shape"])
    return out, meta
