package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"ctlens/tools/bench/importbench"
	"ctlens/volume/dicomread"
)

// TestMain lets the test binary play the bench binary's hidden child: run()
// re-executes os.Executable, which under go test is this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == importbench.ChildCommand {
		if err := importbench.ChildMain(context.Background(), os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// needReaders fails, naming the Debian packages, when a third-party reader
// cannot run: the benchmark without them would compare ctlens with nothing.
func needReaders(t *testing.T) {
	t.Helper()
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("%s not found\nhint: apt-get install python3 python3-pydicom python3-numpy python3-gdcm", py)
	}
	for mod, pkg := range map[string]string{"pydicom": "python3-pydicom", "numpy": "python3-numpy", "gdcm": "python3-gdcm"} {
		if out, err := exec.Command(py, "-c", "import "+mod).CombinedOutput(); err != nil {
			t.Fatalf("%s cannot import %s: %v\n%s\nhint: apt-get install %s", py, mod, err, out, pkg)
		}
	}
	if _, err := exec.LookPath("g++"); err != nil {
		t.Fatalf("no g++ for the GDCM C++ reader\nhint: apt-get install g++ libgdcm-dev")
	}
}

// TestImportTiny runs the import benchmark end to end on a 64×64×16
// phantom with every reader, twice: as a table and as JSON. run() itself
// fails if any reader's volume differs from ctlens's; the test then checks
// that every reader has a row with sane numbers, that the agreed mean is
// what ctlens/volume gives when called directly, and that the three goals
// are reported.
func TestImportTiny(t *testing.T) {
	needReaders(t)
	dir := t.TempDir()
	args := []string{"import", "-size", "64x64x16", "-seed", "3", "-runs", "2", "-dir", dir, "-q"}

	var out, stderr bytes.Buffer
	if err := run(context.Background(), args, &out, &stderr); err != nil {
		t.Fatalf("bench import: %v\n%s", err, stderr.String())
	}
	table := out.String()
	for _, name := range importbench.ReaderNames() {
		found := false
		for _, line := range strings.Split(table, "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == name {
				found = true
			}
		}
		if !found {
			t.Errorf("table has no row for %s:\n%s", name, table)
		}
	}
	for _, want := range []string{"agreement: every run of every reader", "faster than pydicom", "close to GDCM", "peak memory < 2×"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}

	out.Reset()
	if err := run(context.Background(), append(args, "-runs", "1", "-json"), &out, &stderr); err != nil {
		t.Fatalf("bench import -json: %v\n%s", err, stderr.String())
	}
	var rep importbench.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("-json output: %v\n%s", err, out.String())
	}
	if have, want := len(rep.Rows), len(importbench.ReaderNames()); have != want {
		t.Fatalf("%d rows, want %d", have, want)
	}
	for i, r := range rep.Rows {
		if r.Reader != importbench.ReaderNames()[i] {
			t.Errorf("row %d is %s, want %s", i, r.Reader, importbench.ReaderNames()[i])
		}
		if len(r.Seconds) != 1 || r.Median <= 0 || r.MBps <= 0 || r.SlicesPerSec <= 0 || r.PeakMiB <= 0 || r.TimeVsCtlens <= 0 {
			t.Errorf("%s: implausible row %+v", r.Reader, r)
		}
		if r.Mem == "rss" && r.BaseMiB <= 0 {
			t.Errorf("%s: no baseline RSS", r.Reader)
		}
	}
	if rep.Series.Files != 16 || rep.Series.VolumeBytes != 64*64*16*2 {
		t.Errorf("series %+v, want 16 files and a %d-byte volume", rep.Series, 64*64*16*2)
	}
	if len(rep.Goals) != 3 {
		t.Errorf("goals %+v, want 3", rep.Goals)
	}

	// The agreed mean must be the volume's own: a check of the reference
	// that does not go through the bench's child or digest code.
	fsys, closer, err := dicomread.Open(rep.Series.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	res, err := dicomread.Import(context.Background(), fsys, nil)
	if err != nil || len(res.Volumes) != 1 {
		t.Fatalf("import: %v, %d volumes", err, len(res.Volumes))
	}
	if have, want := rep.MeanHU, res.Volumes[0].Stats().Mean; have != want {
		t.Errorf("agreed mean %v HU, ctlens/volume says %v", have, want)
	}
}

// TestRunRefusesBadArgs: every mistake is an error that names the fix.
func TestRunRefusesBadArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export"}, "unknown subcommand"},
		{[]string{"import", "-size", "64x64"}, "-size"},
		{[]string{"import", "-runs", "0", "-dir", t.TempDir()}, "-runs 0"},
		{[]string{"import", "-readers", "dcmtk", "-dir", t.TempDir()}, "unknown reader"},
		{[]string{"import", "extra"}, "unexpected argument"},
	} {
		var out, stderr bytes.Buffer
		err := run(context.Background(), tc.args, &out, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run %q: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}
