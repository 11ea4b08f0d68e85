// Command server serves ctlens on localhost: the PWA, its wasm, the default
// weights and the sample study, with security headers that keep everything
// on this origin. Until the app lands (issue #6) it serves a placeholder
// page that says so.
//
//	go run ./server [-addr 127.0.0.1:8080]
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
)

// Config is everything the server needs; the zero value is not valid, use
// DefaultConfig.
type Config struct {
	// Addr is host:port to listen on.
	Addr string
}

// DefaultConfig serves on loopback only: the app is for this machine.
func DefaultConfig() Config { return Config{Addr: "127.0.0.1:8080"} }

func main() {
	cfg := DefaultConfig()
	flag.StringVar(&cfg.Addr, "addr", cfg.Addr, "host:port to listen on")
	flag.Parse()
	fmt.Fprintf(os.Stderr, "ctlens: serving on http://%s/\n", cfg.Addr)
	log.Fatal(http.ListenAndServe(cfg.Addr, Handler(cfg)))
}
