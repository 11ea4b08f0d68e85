// gdcm_read: GDCM's C++ API reading a CT series into one int16 HU volume,
// the native baseline of ctlens's import benchmark (tools/bench import).
//
//   gdcm_read DIR      read every file of DIR
//   gdcm_read -base    load the libraries, read nothing
//
// Prints one JSON line in the protocol of readers.py: the seconds spent
// reading (listing, IPPSorter's header scan, ImageReader per file, rescale),
// the CPU seconds over that span and, after the clock stops, the digest:
// dims, per-slice sums and the MD5 of the int16 voxels, slices ascending
// along the normal. HU is stored ×
// slope + intercept rounded half away from zero, clamped to int16 (PS3.3
// C.11.1), as ctlens computes it. vmhwm_kib is the process's peak RSS
// (VmHWM), read last: see importbench's package doc for why.
#include "gdcmIPPSorter.h"
#include "gdcmImageReader.h"
#include "gdcmMD5.h"
#include "gdcmVersion.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

// vmhwm returns VmHWM from /proc/self/status in KiB, 0 where there is none.
static long vmhwm() {
  FILE *f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  long kib = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmHWM: %ld", &kib) == 1) break;
  std::fclose(f);
  return kib;
}

static int fail(const std::string &msg) {
  std::fprintf(stderr, "gdcm_read: %s\n", msg.c_str());
  return 1;
}

template <typename T>
static void rescale(const char *src, int16_t *dst, size_t n, double slope, double icpt) {
  for (size_t i = 0; i < n; i++) {
    T v;
    std::memcpy(&v, src + i * sizeof(T), sizeof(T));
    double hu = std::round(double(v) * slope + icpt);  // half away from zero
    dst[i] = int16_t(std::clamp(hu, -32768.0, 32767.0));
  }
}

int main(int argc, char **argv) {
  if (argc != 2) return fail("usage: gdcm_read DIR | -base");
  if (std::string(argv[1]) == "-base") {
    std::printf("{\"base\": true, \"versions\": {\"gdcm\": \"%s\"}, \"vmhwm_kib\": %ld}\n", gdcm::Version::GetVersion(), vmhwm());
    return 0;
  }
  auto t0 = std::chrono::steady_clock::now();
  std::clock_t c0 = std::clock();  // process CPU time (user + system) on glibc
  std::vector<std::string> names;
  for (auto &e : std::filesystem::directory_iterator(argv[1]))
    if (e.is_regular_file()) names.push_back(e.path().string());
  std::sort(names.begin(), names.end());
  gdcm::IPPSorter sorter;
  sorter.SetComputeZSpacing(false);
  if (!sorter.Sort(names)) return fail(std::string("IPPSorter could not sort ") + argv[1]);
  const std::vector<std::string> &files = sorter.GetFilenames();

  size_t plane = 0, cols = 0, rows = 0;
  std::unique_ptr<int16_t[]> vol;  // not value-initialised: pages are touched once, by the decode
  std::vector<char> scratch;
  for (size_t k = 0; k < files.size(); k++) {
    gdcm::ImageReader r;
    r.SetFileName(files[k].c_str());
    if (!r.Read()) return fail("cannot read " + files[k]);
    const gdcm::Image &img = r.GetImage();
    if (k == 0) {
      cols = img.GetDimension(0), rows = img.GetDimension(1), plane = cols * rows;
      vol.reset(new int16_t[plane * files.size()]);
    }
    if (img.GetDimension(0) != cols || img.GetDimension(1) != rows) return fail(files[k] + ": size differs");
    int16_t *dst = vol.get() + k * plane;
    gdcm::PixelFormat::ScalarType st = img.GetPixelFormat().GetScalarType();
    double slope = img.GetSlope(), icpt = img.GetIntercept();
    if (st == gdcm::PixelFormat::INT16 && slope == 1 && icpt == 0 && img.GetBufferLength() == 2 * plane) {
      // Decode straight into the volume: the fast path GDCM offers.
      if (!img.GetBuffer(reinterpret_cast<char *>(dst))) return fail("cannot decode " + files[k]);
      continue;
    }
    scratch.resize(img.GetBufferLength());
    if (!img.GetBuffer(scratch.data())) return fail("cannot decode " + files[k]);
    switch (st) {
      case gdcm::PixelFormat::INT16: rescale<int16_t>(scratch.data(), dst, plane, slope, icpt); break;
      case gdcm::PixelFormat::UINT16: rescale<uint16_t>(scratch.data(), dst, plane, slope, icpt); break;
      case gdcm::PixelFormat::INT8: rescale<int8_t>(scratch.data(), dst, plane, slope, icpt); break;
      case gdcm::PixelFormat::UINT8: rescale<uint8_t>(scratch.data(), dst, plane, slope, icpt); break;
      default: return fail(files[k] + ": pixel format " + img.GetPixelFormat().GetScalarTypeAsString() + " not handled");
    }
  }
  double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;

  char md5[33] = {0};
  gdcm::MD5::Compute(reinterpret_cast<const char *>(vol.get()), plane * files.size() * 2, md5);
  std::printf("{\"seconds\": %.9f, \"cpu_seconds\": %.9f, \"dims\": [%zu, %zu, %zu], \"slice_sums\": [", sec, cpu, cols,
              rows, files.size());
  for (size_t k = 0; k < files.size(); k++) {
    long long s = 0;
    for (size_t i = 0; i < plane; i++) s += vol[k * plane + i];
    std::printf("%s%lld", k ? ", " : "", s);
  }
  std::printf("], \"md5\": \"%s\", \"versions\": {\"gdcm\": \"%s\"}, \"vmhwm_kib\": %ld}\n", md5, gdcm::Version::GetVersion(), vmhwm());
  return 0;
}
