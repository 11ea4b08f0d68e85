# Third-party readers for ctlens's import benchmark (tools/bench import).
#
#   python3 readers.py MODE DIR     read every file of DIR into an int16 HU volume
#   python3 readers.py MODE -base   import the libraries MODE needs, read nothing
#
# MODE is pydicom-typical, pydicom-2pass or gdcm-py. Each prints one JSON
# line: the seconds spent reading (after the imports, so interpreter start-up
# is not charged to the reader), the CPU seconds over that span, and a digest
# of the volume computed after the clock stops: dims, per-slice sums and the
# MD5 of the int16 voxels in (slice, row, column) order, slices ascending along the normal of Image
# Orientation (Patient), as ctlens orders them (PS3.3 C.7.6.2.1.1). HU is
# stored × slope + intercept rounded half away from zero and clamped to
# int16, ctlens's rule (PS3.3 C.11.1), so the digests must match exactly.
# vmhwm_kib is the process's peak RSS (VmHWM), read last: see the package
# doc of importbench for why the parent does not use wait4's ru_maxrss.
import sys, os, json, time, hashlib


def vmhwm():
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


mode, arg = sys.argv[1], sys.argv[2]
import numpy as np
if mode.startswith('pydicom'):
    import pydicom
    versions = {'pydicom': pydicom.__version__}
elif mode == 'gdcm-py':
    import gdcm
    versions = {'gdcm': gdcm.Version.GetVersion()}
else:
    sys.exit('unknown mode ' + mode)
versions['python'] = sys.version.split()[0]
versions['numpy'] = np.__version__
if arg == '-base':
    print(json.dumps({'base': True, 'versions': versions, 'vmhwm_kib': vmhwm()}))
    sys.exit(0)


def to_hu(a, slope, icpt, out):
    """Writes the HU of stored values a into out (an int16 view)."""
    if slope == 1 and icpt == int(icpt):
        if icpt == 0 and a.dtype == np.int16:
            out[...] = a
        else:
            np.clip(a.astype(np.int32) + int(icpt), -32768, 32767, out=out, casting='unsafe')
        return
    f = a * float(slope) + float(icpt)
    np.clip(np.sign(f) * np.floor(np.abs(f) + 0.5), -32768, 32767, out=out, casting='unsafe')


def normal(iop):
    r, c = np.array(iop[:3], float), np.array(iop[3:], float)
    return np.cross(r, c)


def position(ds):
    return float(np.dot(normal([float(x) for x in ds.ImageOrientationPatient]),
                        [float(x) for x in ds.ImagePositionPatient]))


def files(d):
    return [os.path.join(d, f) for f in sorted(os.listdir(d))]


def pydicom_typical(d):
    # The pattern most CT tutorials teach (after the widely copied Kaggle
    # "load_scan / get_pixels_hu"): read every dataset, sort, stack the
    # pixel arrays, convert. Sorting is by the projected position rather
    # than ImagePositionPatient[2] and the rescale rounds instead of
    # truncating, so that the result is exactly ctlens's.
    slices = [pydicom.dcmread(p) for p in files(d)]
    slices.sort(key=position)
    image = np.stack([s.pixel_array for s in slices]).astype(np.int16)
    for i, s in enumerate(slices):
        to_hu(image[i], float(s.get('RescaleSlope', 1)), float(s.get('RescaleIntercept', 0)), image[i])
    return image


def pydicom_2pass(d):
    # pydicom at its leanest, shaped like ctlens's own import: a header pass
    # that stops before Pixel Data, then each file's pixels written into one
    # preallocated int16 volume.
    hdrs = [(position(pydicom.dcmread(p, stop_before_pixels=True)), p) for p in files(d)]
    hdrs.sort()
    vol = None
    for k, (_, p) in enumerate(hdrs):
        ds = pydicom.dcmread(p)
        a = ds.pixel_array
        if vol is None:
            vol = np.empty((len(hdrs),) + a.shape, np.int16)
        to_hu(a, float(ds.get('RescaleSlope', 1)), float(ds.get('RescaleIntercept', 0)), vol[k])
    return vol


GDCM_TYPES = None


def gdcm_py(d):
    # GDCM's own idioms: IPPSorter orders the files by position along the
    # normal (a header scan), ImageReader decodes each file. The binding
    # returns the pixel buffer as a str decoded with surrogateescape (as in
    # GDCM's Examples/Python/ConvertNumpy.py), so it is encoded back to
    # bytes: a copy that GDCM's C++ API does not need (see gdcm-cxx).
    types = {gdcm.PixelFormat.INT16: np.int16, gdcm.PixelFormat.UINT16: np.uint16,
             gdcm.PixelFormat.INT8: np.int8, gdcm.PixelFormat.UINT8: np.uint8,
             gdcm.PixelFormat.INT32: np.int32, gdcm.PixelFormat.UINT32: np.uint32}
    s = gdcm.IPPSorter()
    s.SetComputeZSpacing(False)
    if not s.Sort(files(d)):
        sys.exit('gdcm: IPPSorter could not sort ' + d)
    names = s.GetFilenames()
    vol = None
    for k, p in enumerate(names):
        r = gdcm.ImageReader()
        r.SetFileName(p)
        if not r.Read():
            sys.exit('gdcm: cannot read ' + p)
        img = r.GetImage()
        cols, rows = img.GetDimension(0), img.GetDimension(1)
        st = img.GetPixelFormat().GetScalarType()
        if st not in types:
            sys.exit('gdcm: %s: pixel format %s not handled' % (p, img.GetPixelFormat().GetScalarTypeAsString()))
        a = np.frombuffer(img.GetBuffer().encode('utf-8', 'surrogateescape'), dtype=types[st]).reshape(rows, cols)
        if vol is None:
            vol = np.empty((len(names), rows, cols), np.int16)
        to_hu(a, img.GetSlope(), img.GetIntercept(), vol[k])
    return vol


t0, c0 = time.perf_counter(), time.process_time()
vol = {'pydicom-typical': pydicom_typical, 'pydicom-2pass': pydicom_2pass, 'gdcm-py': gdcm_py}[mode](arg)
sec, cpu = time.perf_counter() - t0, time.process_time() - c0
vol = np.ascontiguousarray(vol)
print(json.dumps({
    'seconds': sec,
    'cpu_seconds': cpu,
    'dims': [int(vol.shape[2]), int(vol.shape[1]), int(vol.shape[0])],
    'slice_sums': vol.sum(axis=(1, 2), dtype=np.int64).tolist(),
    'md5': hashlib.md5(memoryview(vol).cast('B')).hexdigest(),
    'versions': versions,
    'vmhwm_kib': vmhwm(),
}))
