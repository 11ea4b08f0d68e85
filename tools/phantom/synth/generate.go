package synth

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// sink receives the DICOM files: a folder, or a zip archive.
type sink interface {
	// create opens path (slash-separated, relative) for writing. Files are
	// created and closed one at a time, in order.
	create(path string) (io.WriteCloser, error)
}

type dirSink struct{ root string }

func (d dirSink) create(path string) (io.WriteCloser, error) {
	full := filepath.Join(d.root, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(full)
	if err != nil {
		return nil, err
	}
	return &bufFile{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

type bufFile struct {
	f *os.File
	w *bufio.Writer
}

// Write buffers p.
func (b *bufFile) Write(p []byte) (int, error) { return b.w.Write(p) }

// Close flushes the buffer and closes the file.
func (b *bufFile) Close() error {
	if err := b.w.Flush(); err != nil {
		b.f.Close()
		return err
	}
	return b.f.Close()
}

// zipSink writes entries with a fixed modification time so that the archive,
// too, is byte-identical for a seed.
type zipSink struct {
	zw  *zip.Writer
	mod time.Time
}

func (z *zipSink) create(path string) (io.WriteCloser, error) {
	w, err := z.zw.CreateHeader(&zip.FileHeader{Name: path, Method: zip.Deflate, Modified: z.mod})
	if err != nil {
		return nil, err
	}
	return nopCloser{w}, nil
}

type nopCloser struct{ io.Writer }

// Close does nothing: the zip entry ends when the next one starts.
func (nopCloser) Close() error { return nil }

// scratch is one worker's render buffers, reused across slices.
type scratch struct{ hu, body []float32 }

// pixels renders one frame and encodes it as little-endian 16-bit stored
// values: model HU, plus Gaussian noise from the frame's own stream (so the
// result does not depend on which worker renders it), clamped to the CT
// range and mapped through the series' rescale.
func (c *Case) pixels(s *seriesPlan, fr framePlan, sc *scratch) []byte {
	n := s.cols * s.rows
	if len(sc.hu) != n {
		sc.hu, sc.body = make([]float32, n), make([]float32, n)
	}
	pl := s.plane(fr)
	render(c.layers, &pl, sc.hu, sc.body)
	r := stream(c.seed, "noise", fr.key)
	lo, hi := s.enc.storedRange()
	out := make([]byte, 2*n)
	for i, v := range sc.hu {
		hu := clamp(float64(v)+c.noise*r.normal(), -1024, 3071)
		st := int(roundHalfAway((hu - s.enc.intercept) / s.enc.slope))
		st = max(lo, min(hi, st))
		if s.enc.padding != nil && sc.body[i] < 0.5 {
			st = *s.enc.padding
		}
		binary.LittleEndian.PutUint16(out[2*i:], uint16(st))
	}
	return out
}

// ordered runs produce(worker, i) for i in [0, n) on up to workers
// goroutines and hands the results to consume in index order, keeping at
// most 2·workers results in memory.
func ordered(ctx context.Context, n, workers int, produce func(w, i int) ([]byte, error), consume func(i int, b []byte) error) error {
	type result struct {
		b   []byte
		err error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slots := make([]chan result, n)
	for i := range slots {
		slots[i] = make(chan result, 1)
	}
	window := make(chan struct{}, 2*workers)
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for i := 0; i < n; i++ {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := range jobs {
				if err := ctx.Err(); err != nil {
					slots[i] <- result{err: err}
					continue
				}
				b, err := produce(w, i)
				slots[i] <- result{b, err}
			}
		}(w)
	}
	var err error
loop:
	for i := 0; i < n; i++ {
		select {
		case r := <-slots[i]:
			if r.err != nil {
				err = r.err
				break loop
			}
			if err = consume(i, r.b); err != nil {
				break loop
			}
			<-window
		case <-ctx.Done():
			err = ctx.Err()
			break loop
		}
	}
	cancel()
	wg.Wait()
	return err
}

func workerCount(n int) int {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return n
}

// Write renders the case's series and writes their files to a folder
// (root) or into zw when it is not nil.
func (c *Case) Write(ctx context.Context, root string, zw *zip.Writer) error {
	var sk sink = dirSink{root}
	if zw != nil {
		sk = &zipSink{zw: zw, mod: c.studyTime()}
	}
	workers := workerCount(c.opts.Workers)
	scr := make([]scratch, workers)
	for _, s := range c.series {
		if s.multi {
			if err := c.writeMulti(ctx, sk, s, workers, scr); err != nil {
				return err
			}
			continue
		}
		err := ordered(ctx, len(s.files), workers, func(w, i int) ([]byte, error) {
			f := s.files[i]
			pix := c.pixels(s, f.frames[0], &scr[w])
			hdr, err := fileHeader(ctImageStorage, f.sopUID, c.ctImage(s, f), len(pix))
			if err != nil {
				return nil, fmt.Errorf("%s/%s: %w", c.Name, f.name, err)
			}
			return append(hdr, pix...), nil
		}, func(i int, b []byte) error {
			return writeFile(sk, c.Name+"/"+s.files[i].name, b)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func writeFile(sk sink, path string, b []byte) error {
	w, err := sk.create(path)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		w.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return w.Close()
}

// writeMulti streams one Enhanced CT object: the header with every frame's
// functional groups, then the frames as they are rendered.
func (c *Case) writeMulti(ctx context.Context, sk sink, s *seriesPlan, workers int, scr []scratch) error {
	f := s.files[0]
	frameBytes := 2 * s.cols * s.rows
	hdr, err := fileHeader(enhancedCTImageStorage, f.sopUID, c.enhancedCT(s, f), frameBytes*len(f.frames))
	if err != nil {
		return fmt.Errorf("%s/%s: %w", c.Name, f.name, err)
	}
	path := c.Name + "/" + f.name
	w, err := sk.create(path)
	if err != nil {
		return err
	}
	if _, err := w.Write(hdr); err != nil {
		w.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	err = ordered(ctx, len(f.frames), workers, func(wk, i int) ([]byte, error) {
		return c.pixels(s, f.frames[i], &scr[wk]), nil
	}, func(i int, b []byte) error {
		_, err := w.Write(b)
		return err
	})
	if err != nil {
		w.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return w.Close()
}

// Result summarises one written case.
type Result struct {
	Name    string
	Truth   *Truth
	Files   int
	Elapsed time.Duration
}

// ErrNotEmpty is returned when the output folder already holds files:
// mixing two runs would leave stale ground truth beside new images.
var ErrNotEmpty = errors.New("output folder is not empty")

// Generate writes cases start … start+n−1 into out: caseNNNN/ with the
// DICOM files (or out.zip holding them when the zip variant is set), and
// caseNNNN.json (ground truth) and caseNNNN.txt (report) beside it.
// progress, when not nil, is called after each case.
func Generate(ctx context.Context, out string, start, n int, opts Options, progress func(Result)) (err error) {
	if n < 1 || start < 1 {
		return fmt.Errorf("need at least one case numbered from 1 (got n=%d, start=%d)", n, start)
	}
	if err := opts.Size.validate(); err != nil {
		return err
	}
	if ents, err := os.ReadDir(out); err == nil && len(ents) > 0 {
		return fmt.Errorf("%s: %w; choose a new folder or delete this one", out, ErrNotEmpty)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("%w", err)
	}
	var zw *zip.Writer
	if opts.Variants[Zip] {
		zp := filepath.Clean(out) + ".zip"
		if _, err := os.Stat(zp); err == nil {
			return fmt.Errorf("%s exists; delete it or choose another -out", zp)
		}
		zf, err := os.Create(zp)
		if err != nil {
			return fmt.Errorf("%w", err)
		}
		defer zf.Close() // after an error; the success path closes it below
		bw := bufio.NewWriterSize(zf, 1<<20)
		zw = zip.NewWriter(bw)
		defer func() {
			if err == nil {
				err = closeZip(zw, bw, zf)
			}
		}()
	}
	for i := start; i < start+n; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		t0 := time.Now()
		c, err := NewCase(opts, i)
		if err != nil {
			return err
		}
		if err := c.Write(ctx, out, zw); err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		js, err := json.MarshalIndent(c.Truth(), "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, c.Name+".json"), append(js, '\n'), 0o644); err != nil {
			return fmt.Errorf("%w", err)
		}
		if err := os.WriteFile(filepath.Join(out, c.Name+".txt"), []byte(c.Truth().Report.Text), 0o644); err != nil {
			return fmt.Errorf("%w", err)
		}
		if progress != nil {
			files := 0
			for _, s := range c.series {
				files += len(s.files)
			}
			progress(Result{Name: c.Name, Truth: c.Truth(), Files: files, Elapsed: time.Since(t0)})
		}
	}
	return nil
}

// closeZip finishes the archive: central directory, buffer, file.
func closeZip(zw *zip.Writer, bw *bufio.Writer, f *os.File) error {
	if err := zw.Close(); err != nil {
		return fmt.Errorf("zip: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("zip: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("zip: %w", err)
	}
	return nil
}
