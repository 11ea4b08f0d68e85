package weights

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Entry is one tensor to write; Data holds exactly Elems·Size bytes,
// little-endian and row-major.
type Entry struct {
	Name  string // unique within the file
	DType DType  // element type
	Shape []int  // nil for a scalar
	Data  []byte // Elems·Size bytes
}

// WriteFile writes a safetensors file holding entries, in order, and the
// metadata (nil for none). It returns the bytes written. The header is
// padded with spaces so the data section starts 8-byte aligned, as the
// reference writer does.
func WriteFile(w io.Writer, entries []Entry, metadata map[string]string) (int64, error) {
	infos, err := layoutEntries(entries)
	if err != nil {
		return 0, err
	}
	hdr := encodeHeader(infos, metadata)
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := &countWriter{w: bw}
	var pre [8]byte
	binary.LittleEndian.PutUint64(pre[:], uint64(len(hdr)))
	cw.Write(pre[:])
	cw.Write(hdr)
	for _, e := range entries {
		cw.Write(e.Data)
	}
	if cw.err == nil {
		cw.err = bw.Flush()
	}
	return cw.n, cw.err
}

// countWriter counts bytes and keeps the first error, so a sequence of
// writes needs one check.
type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// layoutEntries checks entries and assigns consecutive data offsets.
func layoutEntries(entries []Entry) ([]TensorInfo, error) {
	infos := make([]TensorInfo, len(entries))
	seen := map[string]bool{}
	var off int64
	for i, e := range entries {
		t := TensorInfo{Name: e.Name, DType: e.DType, Shape: e.Shape, Begin: off}
		if err := checkName(e.Name); err != nil {
			return nil, err
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("weights: write: duplicate tensor %q", e.Name)
		}
		seen[e.Name] = true
		if e.DType.Size() == 0 {
			return nil, fmt.Errorf("weights: write: tensor %q: unknown dtype %q", e.Name, e.DType)
		}
		for _, d := range e.Shape {
			if d < 0 {
				return nil, fmt.Errorf("weights: write: tensor %q: negative dimension in %v", e.Name, e.Shape)
			}
		}
		if want := t.Elems() * e.DType.Size(); int64(len(e.Data)) != want {
			return nil, fmt.Errorf("weights: write: tensor %q: %d bytes for %s %v (want %d)", e.Name, len(e.Data), e.DType, e.Shape, want)
		}
		off += int64(len(e.Data))
		t.End = off
		infos[i] = t
	}
	return infos, nil
}

func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("weights: write: empty tensor name")
	case name == metadataKey:
		return fmt.Errorf("weights: write: %q is reserved", name)
	}
	return nil
}

// encodeHeader renders the JSON header: metadata first (keys sorted), then
// the tensors in the given order, padded with spaces to a multiple of 8.
// Its length is headerLen of the same fragments, which the shard packer
// relies on to size shards exactly.
func encodeHeader(infos []TensorInfo, metadata map[string]string) []byte {
	frags := make([]string, 0, len(infos)+1)
	if len(metadata) > 0 {
		frags = append(frags, metaFragment(metadata))
	}
	for _, t := range infos {
		frags = append(frags, entryFragment(t))
	}
	s := "{" + strings.Join(frags, ",") + "}"
	return []byte(s + strings.Repeat(" ", padTo8(len(s))-len(s)))
}

// headerLen is len(encodeHeader(...)) for fragments of total length sum.
func headerLen(count, sum int) int {
	n := 2 + sum
	if count > 1 {
		n += count - 1
	}
	return padTo8(n)
}

func padTo8(n int) int { return (n + 7) &^ 7 }

func quote(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

func entryFragment(t TensorInfo) string {
	var sb strings.Builder
	sb.WriteString(quote(t.Name))
	sb.WriteString(`:{"dtype":`)
	sb.WriteString(quote(string(t.DType)))
	sb.WriteString(`,"shape":[`)
	for i, d := range t.Shape {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(d))
	}
	fmt.Fprintf(&sb, `],"data_offsets":[%d,%d]}`, t.Begin, t.End)
	return sb.String()
}

func metaFragment(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	sb.WriteString(quote(metadataKey) + ":{")
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(quote(k) + ":" + quote(m[k]))
	}
	sb.WriteString("}")
	return sb.String()
}
