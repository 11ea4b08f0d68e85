// Command server serves ctlens on this machine: it builds the app's wasm
// and its two workers' (the model engine's and the DICOM importer's),
// makes the sample study and (only when weights/demo is missing) a tiny random
// model on first run, then serves the PWA, the model and the sample with
// security headers that keep everything on this origin.
//
//	go run ./server [-addr 127.0.0.1:8080] [-weights DIR] [-sample DIR] [-wasm FILE] [-engine-wasm FILE] [-import-wasm FILE]
//
// Everything it makes goes into the user cache folder (ctlens/ under
// os.UserCacheDir), so later starts take a second or two.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"ctlens/server/serve"
	"ctlens/weights"
)

// sampleSize is the built-in sample: one synthetic chest CT series, small
// enough that the browser imports it in a second or two.
const sampleSize = "256x256x64"

func main() {
	log.SetFlags(0)
	log.SetPrefix("ctlens: ")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		log.Fatal(err)
	}
}

// run serves until ctx ends; ready, when not nil, is called with the
// listening address once the site is up.
func run(ctx context.Context, args []string, ready func(addr string)) error {
	cacheDefault, err := os.UserCacheDir()
	if err != nil {
		cacheDefault = os.TempDir()
	}
	cacheDefault = filepath.Join(cacheDefault, "ctlens")
	flags := flag.NewFlagSet("server", flag.ContinueOnError)
	var (
		addr     = flags.String("addr", "127.0.0.1:8080", "host:port to listen on (loopback by default: the app is for this machine)")
		weightsF = flags.String("weights", "", "model directory to serve (default: weights/demo when it has a manifest.json, else a tiny random model made once in the cache folder)")
		sample   = flags.String("sample", "", "study folder to serve as the built-in sample (default: a synthetic phantom series made once in the cache folder)")
		wasm     = flags.String("wasm", "", "prebuilt app wasm (default: build ./app/web for js/wasm at start)")
		engWasm  = flags.String("engine-wasm", "", "prebuilt model worker wasm (default: build ./app/worker for js/wasm at start)")
		impWasm  = flags.String("import-wasm", "", "prebuilt DICOM import worker wasm (default: build ./app/importer for js/wasm at start)")
		cache    = flags.String("cache", cacheDefault, "folder for the built wasm, its compressed forms, the sample and the tiny model")
	)
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; every option is a flag (see -help)", flags.Arg(0))
	}

	// Listen first: a taken port is reported before a minute of building.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("-addr %s: %w", *addr, err)
	}
	defer ln.Close() // on the error paths; Serve closes it otherwise
	start := time.Now()
	root, rootErr := serve.ModuleRoot()

	// The three wasm programs not given prebuilt are built at once.
	var builds []serve.Program
	for _, w := range []struct {
		path *string
		flag string
		prog serve.Program
	}{
		{wasm, "-wasm", serve.Program{Pkg: serve.AppPkg, Out: "app.wasm"}},
		{engWasm, "-engine-wasm", serve.Program{Pkg: serve.EnginePkg, Out: "engine.wasm"}},
		{impWasm, "-import-wasm", serve.Program{Pkg: serve.ImportPkg, Out: "import.wasm"}},
	} {
		if *w.path != "" {
			continue
		}
		if rootErr != nil {
			return fmt.Errorf("%w (or give a prebuilt %s)", rootErr, w.flag)
		}
		*w.path = filepath.Join(*cache, w.prog.Out)
		builds = append(builds, serve.Program{Pkg: w.prog.Pkg, Out: *w.path})
	}
	if len(builds) > 0 {
		t := time.Now()
		var pkgs []string
		for _, b := range builds {
			pkgs = append(pkgs, b.Pkg)
		}
		log.Printf("building the app and its workers (GOOS=js GOARCH=wasm go build %s)…", strings.Join(pkgs, ", "))
		if err := serve.BuildPrograms(ctx, root, builds...); err != nil {
			return err
		}
		log.Printf("built in %s", since(t))
	}

	if *weightsF == "" {
		demo := ""
		if rootErr == nil {
			demo = filepath.Join(root, "weights", "demo")
		}
		if _, err := os.Stat(filepath.Join(demo, weights.ManifestFile)); demo != "" && err == nil {
			*weightsF = demo
		} else {
			if rootErr != nil {
				return fmt.Errorf("%w (or give -weights DIR)", rootErr)
			}
			*weightsF = filepath.Join(*cache, "tiny-model")
			if _, err := os.Stat(filepath.Join(*weightsF, weights.ManifestFile)); errors.Is(err, fs.ErrNotExist) {
				log.Printf("making a tiny random model (go run ./tools/ctlens model tiny)…")
			}
			t := time.Now()
			if err := serve.EnsureTinyModel(ctx, root, *weightsF); err != nil {
				return err
			}
			log.Printf("model: %s, a TINY RANDOM placeholder (its reports are noise): weights/demo is missing; ready in %s", *weightsF, since(t))
		}
	}

	sampleName := "Sample study"
	if *sample == "" {
		opts, err := serve.SampleOptions(sampleSize)
		if err != nil {
			return err
		}
		dir := filepath.Join(*cache, "sample-"+sampleSize)
		if _, err := os.Stat(filepath.Join(dir, "case0001")); err != nil {
			log.Printf("making the sample study (a %s synthetic chest CT)…", sampleSize)
		}
		t := time.Now()
		if *sample, err = serve.EnsureSample(ctx, dir, opts); err != nil {
			return err
		}
		sampleName = "Sample: synthetic chest CT (phantom)"
		log.Printf("sample study: %s (%s)", *sample, since(t))
	}

	t := time.Now()
	site, err := serve.New(serve.Config{
		WasmPath: *wasm, EngineWasmPath: *engWasm, ImportWasmPath: *impWasm, CacheDir: filepath.Join(*cache, "wasm"),
		WeightsDir: *weightsF, SampleDir: *sample, SampleName: sampleName,
	})
	if err != nil {
		return err
	}
	st := site.Stats()
	how := "compressed in " + st.CompressTime.Round(10*time.Millisecond).String()
	if st.CompressTime == 0 {
		how = "compressed forms from the cache"
	}
	log.Printf("wasm %.1f MB (brotli %.1f MB, gzip %.1f MB), model worker %.1f MB (brotli %.1f MB), import worker %.1f MB (brotli %.1f MB); %s; ready in %s; version %s",
		mb(st.WasmBytes), mb(st.BrotliBytes), mb(st.GzipBytes), mb(st.EngineBytes), mb(st.EngineBrotliBytes),
		mb(st.ImportBytes), mb(st.ImportBrotliBytes), how, since(t), st.Version)

	srv := &http.Server{Handler: site, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	log.Printf("serving on http://%s/ (started in %s; Ctrl-C stops)", ln.Addr(), since(start))
	if ready != nil {
		ready(ln.Addr().String())
	}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func since(t time.Time) time.Duration { return time.Since(t).Round(10 * time.Millisecond) }

func mb(n int) float64 { return float64(n) / 1e6 }
