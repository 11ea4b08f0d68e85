package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ds")
	var so, se bytes.Buffer
	if err := run(context.Background(), []string{"-out", out, "-n", "4", "-seed", "2", "-size", "4x16x16", "-q"}, &so, &se); err != nil {
		t.Fatalf("%v\n%s", err, se.String())
	}
	for _, w := range []string{"4 cases", "cases/s", "closed_vqa/finding", "mean tokens", "phantom 32x32x8"} {
		if !strings.Contains(so.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, so.String())
		}
	}
	if _, err := os.Stat(filepath.Join(out, "meta.json")); err != nil {
		t.Error(err)
	}
}

func TestRunErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-n", "3"}, "-out is required"},
		{[]string{"-out", t.TempDir(), "-size", "16x64"}, "want DxHxW"},
		{[]string{"-out", t.TempDir(), "-size", "16xAx64"}, "not a positive whole number"},
		{[]string{"-out", t.TempDir(), "-phantom-size", "8x8x8"}, "-phantom-size"},
		{[]string{"-out", t.TempDir(), "extra"}, "unexpected argument"},
	} {
		err := run(context.Background(), c.args, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}
