package codec

// Resource bounds. Every length and count read from a stream is checked
// against these, and against what the remaining input could possibly
// encode, before memory is allocated for it; see the package documentation.
const (
	// MaxImageSamples caps Width×Height×Components of a decoded JPEG frame
	// and Rows×Columns×SamplesPerPixel of an RLE frame: 64 Mi samples
	// (128 MiB as uint16), e.g. 8192×8192 monochrome, which is above any
	// CT, MR or CR frame while staying well inside a browser's wasm heap.
	MaxImageSamples = 1 << 26

	// MaxScans caps the number of scans in one JPEG stream. Real files
	// have 1 (sequential, lossless) to about a dozen (progressive); each
	// scan may touch every block, so an unbounded count would let a small
	// stream of empty scans burn unbounded CPU time.
	MaxScans = 256
)
