package protocol

import (
	"reflect"
	"strings"
	"testing"

	"ctlens/volume"
)

func testVolume() *volume.Volume {
	v := &volume.Volume{
		Dims: [3]int{3, 2, 2}, Phases: 1, Spacing: [3]float64{0.7, 0.7, 2.5},
		Origin: [3]float64{-100, -120, 35}, Direction: [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}},
		Windows:   []volume.Window{{Name: "Lung", Center: -600, Width: 1500}},
		Meta:      volume.Metadata{PatientName: "Doe^Jane", StudyDate: "20240301"},
		Instances: []volume.InstanceRef{{ClassUID: "1.2.840.10008.5.1.4.1.1.2", InstanceUID: "1.2.3"}},
		Files:     2, Warnings: []string{"uneven slice spacing"},
	}
	for i := range v.Len() {
		v.Voxels = append(v.Voxels, int16(i*137-1024))
	}
	return v
}

func TestEventRoundTrip(t *testing.T) {
	v := testVolume()
	events := []Event{
		{Progress: &Progress{Stage: "pixels", Done: 3, Total: 9, Series: "CHEST", File: "a/IM3"}},
		{Scanned: &Scanned{Files: 4, Ignored: []string{"DICOMDIR"}, Problems: []Skipped{{Path: "x.txt", Reason: "not DICOM"}}}},
		{Series: &Series{Volume: v, Problems: []Skipped{{Path: "IM9", Reason: "truncated"}}}},
		{Series: &Series{Problems: []Skipped{{Path: "series 2", Reason: "no slices could be decoded"}}}},
		{Done: true},
		{Error: "cancelled"},
	}
	for i, ev := range events {
		head, vox, err := EncodeEvent(7+i, ev)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(head, `"Voxels":[`) {
			t.Errorf("event %d: the voxels went into the JSON head", i)
		}
		if id, err := EventID(head); err != nil || id != 7+i {
			t.Errorf("event %d: EventID %d, %v", i, id, err)
		}
		// What the worker and the page do: the head, then the voxels in
		// pieces (5 bytes at most here: pieces of 2 voxels), put back
		// together by an Assembler.
		msgs := [][2]any{{head, []byte(nil)}}
		wire := Bytes(vox)
		for off := 0; off < len(wire); off += 4 {
			msgs = append(msgs, [2]any{EncodePiece(7+i, int64(off/2)), wire[off:min(off+4, len(wire))]})
		}
		var a Assembler
		var back Event
		var id int
		for k, m := range msgs {
			b := m[1].([]byte)
			mid, ev, ok, err := a.Add(m[0].(string), len(b), func(dst []byte) { copy(dst, b) })
			if err != nil {
				t.Fatalf("event %d, message %d: %v", i, k, err)
			}
			if ok != (k == len(msgs)-1) {
				t.Fatalf("event %d: message %d of %d completed: %v", i, k, len(msgs), ok)
			}
			id, back = mid, ev
		}
		if id != 7+i {
			t.Errorf("event %d: id %d", i, id)
		}
		if ev.Series != nil && ev.Series.Volume != nil && len(ev.Series.Volume.Voxels) == 0 {
			t.Fatalf("EncodeEvent emptied the caller's volume")
		}
		if !reflect.DeepEqual(back, ev) {
			t.Errorf("event %d: round trip\n have %+v\n want %+v", i, back, ev)
		}
		if back.Final() != (ev.Done || ev.Error != "") {
			t.Errorf("event %d: Final %v", i, back.Final())
		}
	}
}

func TestAssemblerRefuses(t *testing.T) {
	v := testVolume()
	head, vox, err := EncodeEvent(3, Event{Series: &Series{Volume: v}})
	if err != nil {
		t.Fatal(err)
	}
	wire := Bytes(vox)
	fill := func(b []byte) func([]byte) { return func(dst []byte) { copy(dst, b) } }
	progress, _, _ := EncodeEvent(3, Event{Progress: &Progress{Stage: "pixels"}})
	for _, c := range []struct {
		name string
		msgs [][2]any
		want string
	}{
		{"piece out of order", [][2]any{{head, []byte(nil)}, {EncodePiece(3, 2), wire[4:8]}}, "does not fit"},
		{"piece past the end", [][2]any{{head, []byte(nil)}, {EncodePiece(3, 0), append(append([]byte(nil), wire...), 0, 0)}}, "does not fit"},
		{"odd piece", [][2]any{{head, []byte(nil)}, {EncodePiece(3, 0), wire[:3]}}, "does not fit"},
		{"piece without a head", [][2]any{{EncodePiece(3, 0), wire}}, "does not fit"},
		{"event before the voxels", [][2]any{{head, []byte(nil)}, {progress, []byte(nil)}}, "lacked 12 of its voxels"},
		{"bytes with a head", [][2]any{{progress, []byte{1, 2}}}, "came with an event head"},
	} {
		var a Assembler
		var err error
		for _, m := range c.msgs {
			b := m[1].([]byte)
			if _, _, _, err = a.Add(m[0].(string), len(b), fill(b)); err != nil {
				break
			}
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
}

func TestDecodeEventRefuses(t *testing.T) {
	v := testVolume()
	head, vox, err := EncodeEvent(1, Event{Series: &Series{Volume: v}})
	if err != nil {
		t.Fatal(err)
	}
	progress, _, _ := EncodeEvent(1, Event{Progress: &Progress{Stage: "headers"}})
	huge := strings.Replace(head, `"Dims":[3,2,2]`, `"Dims":[100000,100000,1000]`, 1)
	zero := strings.Replace(head, `"Dims":[3,2,2]`, `"Dims":[3,0,2]`, 1)
	for _, c := range []struct {
		name, head string
		voxels     []int16
		want       string
	}{
		{"short blob", head, vox[:len(vox)-1], "came with 11 voxels, want 12"},
		{"no blob", head, nil, "came with 0 voxels"},
		{"blob without volume", progress, vox, "carries no volume"},
		{"huge dims", huge, vox, "voxels × 1 phases"},
		{"zero dim", zero, vox, "a volume of [3 0 2] voxels"},
		{"not JSON", "{", nil, "bad event"},
	} {
		if _, _, err := DecodeEvent(c.head, c.voxels); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
}

func TestStartRoundTrip(t *testing.T) {
	head, err := EncodeStart(5, Start{Source: "study.zip", MaxVoxels: 1 << 20, Files: 3})
	if err != nil {
		t.Fatal(err)
	}
	id, s, err := DecodeStart(head)
	if err != nil || id != 5 || s.Source != "study.zip" || s.MaxVoxels != 1<<20 || s.Files != 3 {
		t.Fatalf("DecodeStart: %d %+v %v", id, s, err)
	}
	if _, _, err := DecodeStart(`{"start":{}}`); err == nil {
		t.Error("a start without an id was taken")
	}
	if _, _, err := DecodeStart(`{"id":2,"start":{"files":-1}}`); err == nil {
		t.Error("a start for -1 files was taken")
	}
}

func TestBytesLittleEndian(t *testing.T) {
	b := Bytes([]int16{0x0102, -2})
	if want := []byte{0x02, 0x01, 0xfe, 0xff}; !reflect.DeepEqual(b, want) {
		t.Errorf("Bytes: % x, want % x", b, want)
	}
}

func TestBytesText(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 5 << 30: "5.0 GiB", 200 << 20: "200 MiB"} {
		if have := BytesText(n); have != want {
			t.Errorf("%d: have %q, want %q", n, have, want)
		}
	}
}
