package tokenizer

import (
	"strings"
	"testing"
)

// benchText is about 1 MiB of report text mixed with the random corpus.
func benchText() string {
	var b strings.Builder
	reports, random := reportCorpus(4000, 21), randomCorpus(4000, 22)
	for i := 0; b.Len() < 1<<20; i++ {
		b.WriteString(reports[i%len(reports)])
		b.WriteString(" ")
		if i%4 == 0 {
			b.WriteString(random[i%len(random)])
		}
	}
	return b.String()
}

// BenchmarkEncode encodes 1 MiB per op (MB/s is the throughput). "warm"
// reuses the per-word cache across ops, as a long-lived tokenizer does;
// "cold" clears it before each op.
func BenchmarkEncode(b *testing.B) {
	text := benchText()
	fs := fixtures(b)
	for _, f := range fs {
		switch f.name {
		case "trained-gpt2", "llama3", "phi3":
		default:
			continue
		}
		tok, err := Load(bytesReader(f.json))
		if err != nil {
			b.Fatal(err)
		}
		for _, cold := range []bool{false, true} {
			name := f.name + "/warm"
			if cold {
				name = f.name + "/cold"
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				b.ReportAllocs()
				var n int
				for b.Loop() {
					if cold {
						tok.model.mu.Lock()
						clear(tok.model.cache)
						tok.model.mu.Unlock()
					}
					n = len(tok.Encode(text, false))
				}
				b.ReportMetric(float64(len(text))/float64(n), "bytes/token")
			})
		}
	}
}

// BenchmarkDecode decodes the ids of 1 MiB of text per op.
func BenchmarkDecode(b *testing.B) {
	text := benchText()
	for _, f := range fixtures(b)[:3] {
		tok, err := Load(bytesReader(f.json))
		if err != nil {
			b.Fatal(err)
		}
		ids := tok.Encode(text, false)
		b.Run(f.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				tok.Decode(ids, false)
			}
		})
	}
}
