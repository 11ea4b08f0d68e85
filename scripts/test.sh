#!/usr/bin/env bash
# Runs every ctlens test on a fresh Debian machine: installs the system
# packages the tests need when they are missing, then vets, builds for
# js/wasm, runs the Go tests (native GPU kernels on Mesa lavapipe, headless
# Chromium for the browser suite) and a short run of every fuzz target.
#
#   scripts/test.sh            everything (what CI runs)
#   SHORT=1 scripts/test.sh    skip heavy kernel cases and fuzzing (quick local loop)
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: lavapipe (Vulkan on the CPU) for native GPU
# tests, chromium for the browser suite, nodejs to run wasm test binaries, and
# third-party DICOM readers used as oracles; PyTorch for tools/train, with
# OpenBLAS: without it (--no-install-recommends) Debian's torch falls back to
# the reference BLAS, 30x slower at matrix products (6 vs 190 GFLOPS here).
need=(mesa-vulkan-drivers chromium nodejs dcmtk libgdcm-tools dicom3tools python3-pydicom python3-numpy python3-gdcm libgdcm-dev g++ python3-torch libopenblas0-openmp)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm (the tokenizer parity test installs @huggingface/tokenizers with it)
# ships inside some nodejs builds and as its own package in Debian's.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
	echo "== installing: ${missing[*]}"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "== gofmt, go vet (native and js/wasm)"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt: not formatted:"; echo "$unformatted"; exit 1
fi
go vet ./...
GOOS=js GOARCH=wasm go vet $(GOOS=js GOARCH=wasm go list ./... | grep -v -e /tools/ -e /server)

echo "== go test"
short=""
[ -n "${SHORT:-}" ] && short="-short"
go test $short -timeout 40m ./...

if [ -z "${SHORT:-}" ]; then
	# A count, not a duration: with a duration Go 1.26's fuzz coordinator can
	# report its own deadline as a failure ("context deadline exceeded", no
	# failing input) when a worker is mid-call at the boundary on a loaded
	# machine (golang/go#75804, fixed in Go 1.27); it happened here in CI.
	# Minimizing new inputs is off too: a smoke run needs no minimized corpus.
	echo "== fuzz (${FUZZ_EXECS:=10000} executions per target)"
	for pkg in $(go list ./...); do
		dir=$(go list -f '{{.Dir}}' "$pkg")
		for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/func //'); do
			echo "-- $pkg $target"
			out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZ_EXECS}x" -fuzzminimizetime 0 "$pkg" 2>&1) || { echo "$out"; exit 1; }
		done
	done
fi
echo "== all tests passed"
