// Package codec decodes the compressed pixel data found in DICOM CT
// archives: JPEG (ITU-T T.81) in its Huffman-coded sequential,
// progressive and lossless forms, and DICOM RLE Lossless (PS3.5 Annex G).
// It is pure Go with no cgo and no unsafe, written from the standards, so
// it builds for GOOS=js GOARCH=wasm as well as natively. Container
// parsing (finding the frames, Basic Offset Table, PixelRepresentation,
// rescale) is not done here: callers pass one frame's bytes, i.e. the
// concatenation of that frame's fragments.
//
// # JPEG
//
// DecodeJPEG and DecodeJPEGConfig accept these processes (T.81 Table B.1)
// and DICOM transfer syntaxes:
//
//	SOF0  baseline sequential DCT, 8-bit          1.2.840.10008.1.2.4.50
//	SOF1  extended sequential DCT, 8/12-bit       1.2.840.10008.1.2.4.51
//	SOF2  progressive DCT, 8/12-bit (spectral     1.2.840.10008.1.2.4.53, .55
//	      selection and successive approximation) (retired syntaxes)
//	SOF3  lossless, process 14: predictors 1–7,   1.2.840.10008.1.2.4.57, .70
//	      precision 2–16, any point transform
//
// with 1 to 4 components, sampling factors 1–4 (interleaved or one scan
// per component), restart intervals (DRI/RSTn), any number of DHT/DQT
// segments, 8- and 16-bit quantization tables, fill bytes before
// markers, and APPn/COM segments (skipped).
//
// The result is an Image: samples interleaved by pixel, each below
// 1<<Precision, stored as uint16 whatever the precision. Deliberate
// simplifications, because CT is single-component:
//   - no colour conversion: a YCbCr frame is returned as Y, Cb, Cr, as
//     coded (DICOM YBR_FULL / YBR_FULL_422 conversion is the caller's);
//   - subsampled components are upsampled by replication (each coded
//     sample covers Hmax/H × Vmax/V output pixels), not IJG's "fancy"
//     interpolation, so colour edges differ from libjpeg output;
//   - samples are raw bit patterns: for signed data (PixelRepresentation
//     1) the caller reinterprets them, exactly as for native pixel data.
//
// Lossless frames decode bit-exactly; the point transform Pt is undone by
// shifting left (H.1.2.3), as IJG does. The inverse DCT is a separable
// float64 transform whose output is the exact A.3.3 IDCT correctly
// rounded (this is tested sample by sample against a direct double sum on
// real 8- and 12-bit files); IJG-based decoders such as dcmtk's dcmdjpeg
// use a fixed-point IDCT and differ from it by 1 on about 1–3% of samples.
//
// Not supported, reported as *UnsupportedError: arithmetic coding
// (SOF9–SOF11, DAC), hierarchical mode (SOF5–7, SOF13–15, DHP, EXP), JPEG-LS
// (SOF55/LSE, transfer syntaxes .80/.81, "JPEG-LS is not supported"),
// JPEG 2000 codestreams (.90/.91), a height given by DNL, more than 4
// components, and images beyond the bounds below.
//
// Leniency follows common practice for archive data: a missing EOI is
// accepted once a scan has been decoded; bytes between the end of a
// scan's entropy-coded data and the next marker are skipped, and so is an
// RSTn after the last restart interval; anything after EOI (such as a
// fragment's even-length padding byte) is ignored.
// Everything else is checked: segment lengths, table definitions and
// references, scan parameters against the process, the RSTn sequence,
// and entropy-coded data that ends before the scan does.
//
// # RLE
//
// DecodeRLE decodes one RLE Lossless frame for 8, 16 or 32 BitsAllocated
// and any number of samples that fits in the 15 segments, into
// little-endian bytes interleaved by pixel, the layout of native
// (uncompressed) pixel data with PlanarConfiguration 0.
//
// # Errors
//
// All errors are either *FormatError (the data violates the format) or
// *UnsupportedError (a valid feature or size this package does not
// handle); both name the codec, the marker or structure being decoded
// (Where) and the byte offset in the input (Offset, -1 if none), e.g.
//
//	codec: jpeg: invalid RST5 at offset 1203: found where RST1 was expected
//	codec: jpeg: unsupported SOF55 at offset 2: JPEG-LS is not supported (...)
//	codec: rle: invalid segment 2 at offset 5190: segment ends after 4000 of 262144 bytes
//
// The decoders are written not to panic on any input, and are fuzzed
// (FuzzDecodeJPEG, FuzzDecodeRLE) and tested on corrupted real streams to
// keep it so.
//
// # Bounds
//
// Every length and count read from a stream is validated before memory is
// allocated for it:
//   - Width×Height×Components (JPEG) and Rows×Columns×Samples (RLE) are at
//     most MaxImageSamples (64 Mi samples, 128 MiB of output); JPEG
//     buffers padded to whole MCUs are at most twice that.
//   - What the data can encode: a JPEG component's buffers are allocated
//     at its first scan, only if the bytes left could hold one bit per
//     data unit (sample or 8×8 block), the least any Huffman code costs;
//     an RLE segment must be at least 1/64 of its plane, the best PackBits
//     can compress (a 2-byte run of 128). A tiny stream claiming a huge
//     image is thus rejected before allocation, and the memory a stream
//     can make the decoder use is a fixed multiple of its length: per bit
//     of input and per component at most 64 samples for DCT (128 bytes of
//     plane, and as much again for progressive coefficients) and 1 sample
//     for lossless, plus the output image; for RLE at most 128 bytes per
//     input byte. Never more than the caps above.
//   - At most MaxScans scans per JPEG stream, bounding the CPU time of
//     streams made of many cheap scans over a large image; at most 4
//     components, 256 codes per Huffman table, 15 RLE segments.
//   - Decoding never reads outside the input or writes outside the
//     buffers sized above; runs and coefficient indices that would are
//     reported as FormatError.
//
// DecodeJPEG, DecodeJPEGConfig and DecodeRLE keep no shared mutable state
// and may be called concurrently.
package codec
