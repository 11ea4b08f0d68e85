package codec

import "testing"

// Throughput is reported as MB/s of decoded output (512×512 samples ×
// 2 bytes for 16-bit storage), the figure that matters when paging a CT
// series into a volume; compressed input bytes are logged too.
func benchmarkFile(b *testing.B, rel string) {
	f := readDICOM(b, conformanceFile(b, rel))
	data := f.frameData[0]
	b.SetBytes(int64(f.rows * f.cols * 2))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := DecodeJPEG(data); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(len(data))/sec/1e6, "in-MB/s")
}

func BenchmarkDecodeJPEGLossless57(b *testing.B) {
	benchmarkFile(b, "cornerstone3D/CTImage.dcm_JPEGProcess14TransferSyntax_1.2.840.10008.1.2.4.57.dcm")
}

func BenchmarkDecodeJPEGBaseline50(b *testing.B) {
	benchmarkFile(b, "cornerstone3D/CTImage.dcm_JPEGProcess1TransferSyntax_1.2.840.10008.1.2.4.50.dcm")
}

func BenchmarkDecodeJPEGExtended51(b *testing.B) {
	benchmarkFile(b, "cornerstone3D/CTImage.dcm_JPEGProcess2_4TransferSyntax_1.2.840.10008.1.2.4.51.dcm")
}

func BenchmarkDecodeJPEGProgressive55(b *testing.B) {
	benchmarkFile(b, "cornerstone3D/CTImage.dcm_JPEGProcess10_12TransferSyntax_1.2.840.10008.1.2.4.55.dcm")
}

func BenchmarkDecodeRLE(b *testing.B) {
	f := readDICOM(b, conformanceFile(b, "cornerstone3D/CTImage.dcm_RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm"))
	data := f.frameData[0]
	b.SetBytes(int64(f.rows * f.cols * 2))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := DecodeRLE(data, f.rows, f.cols, f.bitsAlloc, f.samples); err != nil {
			b.Fatal(err)
		}
	}
}
