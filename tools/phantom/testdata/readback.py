#!/usr/bin/python3
"""Independent reader for the phantom tests (pydicom + numpy).

usage: readback.py JOBS.json

JOBS.json is a list of {"root": ..., "points": [[x, y, z], ...]}. A root is a
folder (searched recursively) or a .zip. Every file is read with pydicom;
the script prints a JSON list with, per job:

  files:   per file its header geometry and encoding, read by pydicom;
  samples: for each series UID and each LPS point, the HU at the nearest
           voxel and the mean over its 3x3 in-plane neighbourhood, found
           from this file set's own Image Position / Orientation
           (PS3.3 C.7.6.2.1.1), never from the generator's ground truth.

One process serves all jobs because importing numpy and pydicom costs more
than reading a small series.
"""
import io
import json
import os
import sys
import zipfile

import numpy as np
import pydicom


def sources(root):
    if root.endswith(".zip"):
        z = zipfile.ZipFile(root)
        for name in sorted(z.namelist()):
            if not name.endswith("/"):
                yield name, io.BytesIO(z.read(name))
        return
    for d, _, fs in sorted(os.walk(root)):
        for f in sorted(fs):
            p = os.path.join(d, f)
            if f.endswith(".json") or f.endswith(".txt"):
                continue
            yield os.path.relpath(p, root), p


def floats(v):
    return [float(x) for x in v]


def job(root, points):
    files, frames = [], {}
    for name, src in sources(root):
        ds = pydicom.dcmread(src)
        arr = ds.pixel_array
        info = {
            "path": name,
            "sop_class_uid": str(ds.SOPClassUID),
            "sop_instance_uid": str(ds.SOPInstanceUID),
            "series_uid": str(ds.SeriesInstanceUID),
            "transfer_syntax_uid": str(ds.file_meta.TransferSyntaxUID),
            "instance_number": int(ds.InstanceNumber),
            "rows": int(ds.Rows), "columns": int(ds.Columns),
            "pixel_representation": int(ds.PixelRepresentation),
            "bits_stored": int(ds.BitsStored),
            "padding": int(ds.PixelPaddingValue) if "PixelPaddingValue" in ds else None,
            "patient_name": str(ds.PatientName),
            "stored_min": int(arr.min()), "stored_max": int(arr.max()),
        }
        if "NumberOfFrames" in ds and "PerFrameFunctionalGroupsSequence" in ds:
            sh = ds.SharedFunctionalGroupsSequence[0]
            pvt = sh.PixelValueTransformationSequence[0]
            info["slope"], info["intercept"] = float(pvt.RescaleSlope), float(pvt.RescaleIntercept)
            info["orientation"] = floats(sh.PlaneOrientationSequence[0].ImageOrientationPatient)
            info["pixel_spacing"] = floats(sh.PixelMeasuresSequence[0].PixelSpacing)
            info["slice_thickness"] = float(sh.PixelMeasuresSequence[0].SliceThickness)
            info["gantry_tilt"] = None
            pos = [floats(f.PlanePositionSequence[0].ImagePositionPatient) for f in ds.PerFrameFunctionalGroupsSequence]
            if arr.ndim == 2:
                arr = arr[None]
        else:
            info["slope"], info["intercept"] = float(ds.RescaleSlope), float(ds.RescaleIntercept)
            info["orientation"] = floats(ds.ImageOrientationPatient)
            info["pixel_spacing"] = floats(ds.PixelSpacing)
            info["slice_thickness"] = float(ds.SliceThickness)
            info["gantry_tilt"] = float(ds.GantryDetectorTilt) if "GantryDetectorTilt" in ds else None
            pos = [floats(ds.ImagePositionPatient)]
            arr = arr[None]
        info["positions"] = pos
        files.append(info)
        hu = arr.astype(np.float64) * info["slope"] + info["intercept"]
        # Every 37th pixel of each frame in HU (padding as null), so that
        # variants of one seed can be compared pixel for pixel.
        pad = info["padding"]
        info["hu_samples"] = [[None if (pad is not None and r == pad) else float(h)
                               for h, r in zip(f.ravel()[::37], raw.ravel()[::37])]
                              for f, raw in zip(hu, arr)]
        for p, img, raw in zip(pos, hu, arr):
            frames.setdefault(info["series_uid"], []).append((np.array(p), img, raw, info))
    samples = {}
    for uid, fr in frames.items():
        o = np.array(fr[0][3]["orientation"])
        r, c = o[:3], o[3:]
        n = np.cross(r, c)
        ps = fr[0][3]["pixel_spacing"]  # row spacing (along c), column spacing (along r)
        out = []
        for pt in points:
            pt = np.array(pt, dtype=float)
            best = min(fr, key=lambda f: abs(np.dot(pt - f[0], n)))
            d = pt - best[0]
            # Solve d = i*ps_col*r + j*ps_row*c + t*n for the in-plane indices.
            m = np.stack([r * ps[1], c * ps[0], n], axis=1)
            i, j, t = np.linalg.solve(m, d)
            i, j = int(round(i)), int(round(j))
            img, raw = best[1], best[2]
            if not (0 <= j < img.shape[0] and 0 <= i < img.shape[1]):
                out.append(None)
                continue
            blk = img[max(0, j - 1):j + 2, max(0, i - 1):i + 2]
            out.append({"hu": float(img[j, i]), "mean3x3": float(blk.mean()), "stored": int(raw[j, i]),
                        "normal_distance": float(t), "index": [i, j]})
        samples[uid] = out
    return {"files": files, "samples": samples}


def main():
    jobs = json.load(open(sys.argv[1]))
    json.dump([job(j["root"], j.get("points") or []) for j in jobs], sys.stdout)


if __name__ == "__main__":
    main()
