//go:build !js

package wgpu

import (
	"context"
	"testing"
)

// A decode step reads back a few bytes every token: the staging buffer is
// kept and reused instead of allocated per readback, and big reads do not
// displace it.
func TestStagingKeptForSmallReads(t *testing.T) {
	d, err := Open(context.Background(), Options{})
	if err != nil {
		t.Fatalf("open GPU device: %v", err)
	}
	defer d.Close()
	src, err := d.Upload("src", Bytes([]uint32{7, 8, 9, 10}), Storage)
	if err != nil {
		t.Fatal(err)
	}
	big, err := d.NewBuffer("big", 2*keptStaging, Storage)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	read := func(b *Buffer, off, n uint64) []byte {
		out, err := d.NewBatch("read").SubmitRead(ctx, b, off, n)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := FromBytes[uint32](read(src, 4, 4)); got[0] != 8 {
		t.Fatalf("read %v, want [8]", got)
	}
	kept := d.staging
	if kept == nil {
		t.Fatal("no staging buffer kept after a small read")
	}
	if got := FromBytes[uint32](read(src, 8, 8)); got[0] != 9 || got[1] != 10 {
		t.Fatalf("read %v, want [9 10]", got)
	}
	read(big, 0, 2*keptStaging)
	if d.staging != kept {
		t.Errorf("staging buffer replaced: small reads allocate per readback, or a big read displaced it")
	}
	if got := FromBytes[uint32](read(src, 0, 4)); got[0] != 7 {
		t.Fatalf("read after a big read %v, want [7]", got)
	}
}
