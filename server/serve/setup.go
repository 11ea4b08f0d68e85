package serve

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"ctlens/tools/phantom/synth"
	"ctlens/weights"
)

// The pieces a fresh clone needs before it can serve: the wasm, a model
// and a sample study. Each is made once into a cache folder; the command
// server/ and the browser tests share these helpers.

// ModuleRoot is the ctlens module's root folder, found by `go env GOMOD`
// from the current directory (go run and go test run inside the module).
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w (is the Go toolchain on PATH?)", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the ctlens module: run from the repository (go run ./server)")
	}
	return filepath.Dir(mod), nil
}

// Program is one js/wasm program to build: a package and its output.
type Program struct{ Pkg, Out string }

// The site's three programs.
const (
	AppPkg    = "./app/web"
	EnginePkg = "./app/worker"
	ImportPkg = "./app/importer"
)

// BuildPrograms builds progs at the same time: the compile is parallel
// within one build, but each link is single-threaded and a cold build of
// the three one after another took minutes. The first error is
// returned, after every build has ended.
func BuildPrograms(ctx context.Context, root string, progs ...Program) error {
	errs := make([]error, len(progs))
	var wg sync.WaitGroup
	for i, p := range progs {
		wg.Go(func() { errs[i] = buildJS(ctx, root, p.Pkg, p.Out) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func buildJS(ctx context.Context, root, pkg, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("GOOS=js GOARCH=wasm go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// SampleOptions is the built-in sample study: one synthetic chest CT
// series (tools/phantom) small enough to import in a second or two.
func SampleOptions(size string) (synth.Options, error) {
	sz, err := synth.ParseSize(size)
	if err != nil {
		return synth.Options{}, err
	}
	return synth.Options{Seed: 1, Size: sz}, nil
}

// EnsureSample makes the phantom study in dir once (nothing when dir
// already holds it) and returns the folder of its DICOM files.
func EnsureSample(ctx context.Context, dir string, opts synth.Options) (string, error) {
	study := filepath.Join(dir, "case0001")
	if ents, err := os.ReadDir(study); err == nil && len(ents) > 0 {
		return study, nil
	}
	// Generate into a fresh folder and rename: an interrupted run never
	// leaves a half study that later starts would take as done.
	tmp := dir + ".tmp" + fmt.Sprint(os.Getpid())
	os.RemoveAll(tmp)
	if err := synth.Generate(ctx, tmp, 1, 1, opts, nil); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("generating the sample study: %w", err)
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return study, nil
}

// EnsureTinyModel writes the tiny random model (`ctlens model tiny`) into
// dir once. Its weights are random: it runs the whole pipeline and writes
// noise, a placeholder until trained weights ship. The generator lives in
// tools/internal, so it runs as `go run ./tools/ctlens` from root.
func EnsureTinyModel(ctx context.Context, root, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, weights.ManifestFile)); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmp := dir + ".tmp" + fmt.Sprint(os.Getpid())
	os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "go", "run", "./tools/ctlens", "model", "tiny", "--out", tmp)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("go run ./tools/ctlens model tiny: %w\n%s", err, b)
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return nil
}
