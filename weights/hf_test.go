package weights

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func stFile(t *testing.T, entries ...Entry) *fstest.MapFile {
	t.Helper()
	var b bytes.Buffer
	if _, err := WriteFile(&b, entries, nil); err != nil {
		t.Fatal(err)
	}
	return &fstest.MapFile{Data: b.Bytes()}
}

func TestCheckpointLayouts(t *testing.T) {
	a := Entry{"a.weight", F32, []int{2}, f32Bytes([]float32{1, 2})}
	b := Entry{"b.weight", BF16, []int{1}, []byte{0x80, 0x3f}}
	cases := []struct {
		name  string
		fsys  fstest.MapFS
		names []string
		err   string
	}{
		{"single", fstest.MapFS{"model.safetensors": stFile(t, a, b)}, []string{"a.weight", "b.weight"}, ""},
		{"glob", fstest.MapFS{"x.safetensors": stFile(t, a), "y.safetensors": stFile(t, b)}, []string{"a.weight", "b.weight"}, ""},
		{"index", fstest.MapFS{
			IndexFile:       {Data: []byte(`{"weight_map":{"a.weight":"1.safetensors","b.weight":"2.safetensors"}}`)},
			"1.safetensors": stFile(t, a), "2.safetensors": stFile(t, b),
			"stray.safetensors": stFile(t, a), // not in the index: ignored
		}, []string{"a.weight", "b.weight"}, ""},
		{"index names a missing tensor", fstest.MapFS{
			IndexFile:       {Data: []byte(`{"weight_map":{"a.weight":"1.safetensors","c":"1.safetensors"}}`)},
			"1.safetensors": stFile(t, a),
		}, nil, `tensor "c"`},
		{"index escapes", fstest.MapFS{IndexFile: {Data: []byte(`{"weight_map":{"a":"../x.safetensors"}}`)}}, nil, "bad file name"},
		{"duplicate across files", fstest.MapFS{"x.safetensors": stFile(t, a), "y.safetensors": stFile(t, a)}, nil, "in both"},
		{"empty", fstest.MapFS{}, nil, "no model.safetensors.index.json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ck, err := OpenCheckpoint(c.fsys)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer ck.Close()
			if !slices.Equal(ck.Names(), c.names) {
				t.Errorf("names %v, want %v", ck.Names(), c.names)
			}
			if v, _, err := ck.Float32s("b.weight"); err != nil || !slices.Equal(v, []float32{1}) {
				t.Errorf("b.weight = %v, %v", v, err)
			}
			if _, _, err := ck.Float32s("nope"); err == nil {
				t.Errorf("missing tensor read")
			}
		})
	}
}

func TestSplitFused(t *testing.T) {
	v := make([]float32, 10*3)
	for i := range v {
		v[i] = float32(i)
	}
	q, k, vv, err := SplitQKV(v, []int{10, 3}, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(q, v[:12]) || !slices.Equal(k, v[12:21]) || !slices.Equal(vv, v[21:]) {
		t.Errorf("qkv split %v %v %v", q, k, vv)
	}
	gate, up, err := SplitGateUp(v, []int{10, 3})
	if err != nil || !slices.Equal(gate, v[:15]) || !slices.Equal(up, v[15:]) {
		t.Errorf("gate/up split %v %v %v", gate, up, err)
	}
	// Appending to a part must not overwrite the next one.
	_ = append(q, -1)
	if k[0] != 12 {
		t.Errorf("parts share capacity")
	}
	for _, bad := range [][]int{{4, 4, 4}, {-1, 11}} {
		if _, err := SplitRowsF32(v, []int{10, 3}, bad...); err == nil {
			t.Errorf("rows %v accepted", bad)
		}
	}
	if _, _, err := SplitGateUp(v[:9], []int{3, 3}); err == nil {
		t.Errorf("odd gate_up accepted")
	}
}
