package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
)

// The slow-list scenario (hardening finding 4): one user with a page of big
// drawings whose actions double when quoted, read by many clients that
// read slowly. A service that builds each answer whole holds one per
// reader; one that streams holds about a drawing each.

// bigEscapingActions returns the JSON text of about size bytes that is a
// list holding one string of escaped quotes: quoted for an answer, every
// `\"` becomes `\\\"`, so the text doubles.
func bigEscapingActions(size int) string {
	n := (size - 4) / 2
	return `["` + strings.Repeat(`\"`, n) + `"]`
}

// slowReadOptions shape the readers.
type slowReadOptions struct {
	Readers  int
	Duration time.Duration // how long each reader reads, then closes
	Chunk    int           // bytes read at a time
	Pause    time.Duration // between reads
	RecvBuf  int           // the socket's receive buffer
}

// slowReaders sends req on opts.Readers connections at once and reads each
// answer slowly for opts.Duration, then closes the connection (a reader
// whose answer ends sends req again). OK counts answers that began
// "HTTP/1.1 200"; BodyBytes is everything read.
func slowReaders(ctx context.Context, dial func() (net.Conn, error), req []byte, opts slowReadOptions) LoadResult {
	res := LoadResult{Conns: opts.Readers, Statuses: map[int]int64{}, Hist: hdrhistogram.New(1, 60_000_000, 3)}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range opts.Readers {
		wg.Go(func() {
			ok, n, status, err := slowRead(ctx, dial, req, opts)
			mu.Lock()
			defer mu.Unlock()
			res.OK += ok
			res.BodyBytes += n
			if err != nil {
				res.Errors++
				res.Statuses[status]++
				if res.FirstError == "" {
					res.FirstError = err.Error()
				}
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	return res
}

func slowRead(ctx context.Context, dial func() (net.Conn, error), req []byte, opts slowReadOptions) (ok, read int64, status int, err error) {
	conn, err := dial()
	if err != nil {
		return 0, 0, 0, err
	}
	defer conn.Close()
	if tc, isTCP := conn.(*net.TCPConn); isTCP && opts.RecvBuf > 0 {
		_ = tc.SetReadBuffer(opts.RecvBuf)
	}
	deadline := time.Now().Add(opts.Duration)
	_ = conn.SetDeadline(deadline.Add(5 * time.Second))
	buf := make([]byte, opts.Chunk)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if _, err := conn.Write(req); err != nil {
			return ok, read, 0, err
		}
		br := bufio.NewReaderSize(conn, opts.Chunk)
		line, err := br.ReadSlice('\n')
		if err != nil {
			return ok, read, 0, fmt.Errorf("status line: %w", err)
		}
		if !bytes.HasPrefix(line, []byte("HTTP/1.1 200")) {
			return ok, read, 0, fmt.Errorf("answered %q", bytes.TrimSpace(line))
		}
		ok++
		// The answer ends when the server's chunked or Content-Length body
		// does; the readers never get that far within the window for the
		// page this scenario seeds, so they read raw bytes until then and
		// treat the connection's end as the answer's.
		for time.Now().Before(deadline) && ctx.Err() == nil {
			n, err := br.Read(buf)
			read += int64(n)
			if errors.Is(err, io.EOF) {
				return ok, read, 200, errors.New("the service closed the connection before the reader's window ended")
			} else if err != nil {
				return ok, read, 0, err
			}
			time.Sleep(opts.Pause)
		}
	}
	return ok, read, 0, nil
}

// runSlowList seeds one user with the page, restarts the service (so that
// its VmHWM is the readers' alone), and runs the readers.
func (r *runner) runSlowList(ctx context.Context, cfg string, env []string, mock *wechattest.Server) {
	o := r.opt
	row := Row{Scenario: scSlowList, Config: cfg, Conns: o.slowReaders, FreshHWM: true}
	// One user's page read by every reader at once stands for as many
	// users with such a page: the per-user slots (4 by default) must not
	// hold the readers back, so that the service's 32 drawing slots do.
	env = append(env[:len(env):len(env)], "ONESTROKE_DATA_DIR="+filepath.Join(r.workdir, cfg, "slow-list-data"),
		fmt.Sprintf("ONESTROKE_DRAWINGS_PER_USER=%d", max(o.slowReaders, 1)))
	r.logf("[%s] slow list: seeding %d drawings of %d bytes of actions", cfg, o.slowDrawings, o.slowActionsBytes)
	svc, err := r.startService(ctx, cfg+"-slow-list-seed", env)
	if err != nil {
		r.fail(row, err)
		return
	}
	codes, err := r.loginUsers(svc, mock, "slow", 1)
	if err == nil {
		var saved int
		saved, _, err = r.seed(ctx, svc, codes[0], o.slowDrawings, bigEscapingActions(o.slowActionsBytes), 5*time.Minute)
		if err == nil && saved < o.slowDrawings {
			err = fmt.Errorf("seeded %d of %d drawings", saved, o.slowDrawings)
		}
	}
	var items int
	var answer []byte
	if err == nil {
		items, answer, err = r.listAnswer(svc, codes[0])
	}
	svc.p.stop(10 * time.Second)
	if err != nil {
		r.fail(row, fmt.Errorf("seeding: %w", err))
		return
	}
	row.Note = fmt.Sprintf("first page: %d drawings, a %s answer; each reader reads %d bytes every %s through a %d-byte receive buffer for %s, then closes",
		items, fmtBytes(float64(len(answer))), o.slowChunk, o.slowPause, o.slowRecvBuf, o.slowDuration)
	answer = nil

	r.logf("[%s] slow list: restarting the service for %d slow readers", cfg, o.slowReaders)
	svc, err = r.startService(ctx, cfg+"-slow-list", env)
	if err != nil {
		r.fail(row, err)
		return
	}
	defer svc.p.stop(10 * time.Second)
	if codes, err = r.loginUsers(svc, mock, "slow", 1); err != nil {
		r.fail(row, err)
		return
	}
	dial, err := loopbackDialer(svc.addr)
	if err != nil {
		r.fail(row, err)
		return
	}
	before, _ := procCPU(svc.p.pid())
	res := slowReaders(ctx, dial, getRequest(svc.addr, basePath+"/session/paints/list", "X-WX-Code: "+codes[0]), slowReadOptions{
		Readers: o.slowReaders, Duration: o.slowDuration, Chunk: o.slowChunk, Pause: o.slowPause, RecvBuf: o.slowRecvBuf,
	})
	if ctx.Err() != nil {
		return
	}
	after, _ := procCPU(svc.p.pid())
	row.HWMKB, _ = procStatusKB(svc.p.pid(), "VmHWM")
	if secs := res.Elapsed.Seconds(); secs > 0 {
		row.CPUSvc = (after - before).Seconds() / secs
	}
	row.Res, row.Ran = res, true
	r.rep.Rows = append(r.rep.Rows, row)
	r.logf("%s, %s, %d readers: %d answers begun, %s read, errors %d, server VmHWM %.1f MiB",
		row.Scenario, cfg, row.Conns, res.OK, fmtBytes(float64(res.BodyBytes)), res.Errors, float64(row.HWMKB)/1024)
}
