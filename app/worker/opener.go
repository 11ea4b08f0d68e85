package main

import (
	"context"
	"io"
	"sync/atomic"

	"ctlens/weights"
)

// NetworkError is a fetch that never got an answer (offline, server
// gone), as opposed to an HTTP error status.
type NetworkError struct {
	URL string
	Err error
}

// Error names the URL.
func (e *NetworkError) Error() string { return "network: " + e.URL + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *NetworkError) Unwrap() error { return e.Err }

// countingOpener adds up the bytes read through open in *n: the bytes the
// network served, once the cache stands in front of it.
func countingOpener(open weights.Opener, n *int64) weights.Opener {
	return func(ctx context.Context, f weights.FileRef) (io.ReadCloser, error) {
		rc, err := open(ctx, f)
		if err != nil {
			return nil, err
		}
		return &countingReader{rc: rc, n: n}, nil
	}
}

type countingReader struct {
	rc io.ReadCloser
	n  *int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	atomic.AddInt64(r.n, int64(n))
	return n, err
}

func (r *countingReader) Close() error { return r.rc.Close() }
