package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

// cmdStatic is the floor a list answer is held against: a bare net/http
// server that writes one fixed body (a list answer the service gave) with
// the headers the service sends, doing nothing else. What it costs to move
// a 10-drawing answer and a 10,000-drawing first page over the same
// connections is the least any server pays for them. It prints one JSON
// line with its address and serves until ctx ends.
func cmdStatic(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("static", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	bodyFile := fs.String("body", "", "the file whose bytes every answer carries")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bodyFile == "" || fs.NArg() > 0 {
		return errors.New("usage: static -body FILE [-listen ADDR]")
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		return err
	}
	length := []string{strconv.Itoa(len(body))}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/json; charset=utf-8"}
		h["Cache-Control"] = []string{"no-store"}
		h["Content-Length"] = length
		_, _ = w.Write(body)
	})
	return serveBare(ctx, *listen, handler, stdout, map[string]any{"msg": "static listening", "bytes": len(body)})
}

// measureFloor serves body from a fresh static server and drives it as
// the list scenario of row drives the service.
func (r *runner) measureFloor(ctx context.Context, row Row, body []byte) {
	file, err := os.CreateTemp(r.workdir, "answer-*.json")
	if err == nil {
		_, err = file.Write(body)
		if cerr := file.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		r.fail(row, err)
		return
	}
	p, err := startProc("static", file.Name()+".log", os.Environ(), r.self, "static", "-listen", "127.0.0.1:0", "-body", file.Name())
	if err != nil {
		r.fail(row, err)
		return
	}
	r.reap.addProc(p)
	defer p.stop(5 * time.Second)
	line, err := p.waitLine(ctx, "static listening", 15*time.Second)
	if err != nil {
		r.fail(row, err)
		return
	}
	var info struct {
		Addr string `json:"addr"`
	}
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		r.fail(row, fmt.Errorf("the static server's line %q: %w", line, err))
		return
	}
	r.measure(ctx, row, p.pid(), nil, info.Addr, cachedSources(info.Addr, basePath+"/session/paints/list", []string{"floor"}))
}
