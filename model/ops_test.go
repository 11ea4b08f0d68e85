package model

import (
	"reflect"
	"slices"
	"testing"

	"ctlens/shaders"
)

// TestOpTableCoversOps is the parity table's guard: every method of Ops has
// exactly one row in OpTable and every row names a method, and each kernel
// row names shaders kernel families that exist. A method added to Ops
// without a row fails here, so no op reaches a backend without a parity case.
func TestOpTableCoversOps(t *testing.T) {
	typ := reflect.TypeFor[Ops]()
	methods := map[string]bool{}
	for i := 0; i < typ.NumMethod(); i++ {
		methods[typ.Method(i).Name] = true
	}
	rows := map[string]bool{}
	families := shaders.Families()
	for _, r := range OpTable {
		if rows[r.Method] {
			t.Errorf("OpTable lists %s twice", r.Method)
		}
		rows[r.Method] = true
		if !methods[r.Method] {
			t.Errorf("OpTable lists %s, which is not a method of Ops", r.Method)
		}
		switch r.Kind {
		case OpKernel:
			if len(r.Families) == 0 {
				t.Errorf("kernel op %s names no kernel family", r.Method)
			}
			for _, f := range r.Families {
				if !slices.Contains(families, f) {
					t.Errorf("op %s: shaders has no kernel family %q (have %v)", r.Method, f, families)
				}
			}
		case OpMemory:
			if len(r.Families) != 0 {
				t.Errorf("memory op %s names kernel families %v", r.Method, r.Families)
			}
		}
	}
	for m := range methods {
		if !rows[m] {
			t.Errorf("Ops.%s has no row in OpTable (add it, with its kernel families, and a backend parity case)", m)
		}
	}
}
