package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
)

// ---- set-up requests (net/http; not timed) ----

// loginUsers signs in n users named prefix-i and returns their codes.
func (r *runner) loginUsers(svc *service, mock *wechattest.Server, prefix string, n int) ([]string, error) {
	codes := make([]string, n)
	for i := range codes {
		d, err := mock.Mint(fmt.Sprintf("%s-%d", prefix, i), wechattest.Profile{})
		if err != nil {
			return nil, err
		}
		if err := r.expectUser(d.Headers(), svc); err != nil {
			return nil, fmt.Errorf("signing in %s-%d: %w", prefix, i, err)
		}
		codes[i] = d.Code
	}
	return codes, nil
}

// loginTokens signs in n users named prefix-i through POST /v2/login and
// returns their tokens.
func (r *runner) loginTokens(svc *service, mock *wechattest.Server, prefix string, n int) ([]string, error) {
	tokens := make([]string, n)
	for i := range tokens {
		d, err := mock.Mint(fmt.Sprintf("%s-%d", prefix, i), wechattest.Profile{})
		if err != nil {
			return nil, err
		}
		if tokens[i], err = r.v2Login(svc, d.Code); err != nil {
			return nil, fmt.Errorf("signing in %s-%d: %w", prefix, i, err)
		}
	}
	return tokens, nil
}

// v2Login logs in with code and returns the token.
func (r *runner) v2Login(svc *service, code string) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, svc.url("/v2/login"), strings.NewReader(`{"code":"`+code+`"}`))
	req.Header.Set("Content-Type", "application/json")
	body, status, err := r.do(req)
	if err != nil {
		return "", err
	}
	var v struct {
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &v) != nil || v.Data.Token == "" {
		return "", fmt.Errorf("POST /v2/login answered %d %s", status, truncate(body, 120))
	}
	return v.Data.Token, nil
}

// expectUser sends a session request and checks that it answers a user.
func (r *runner) expectUser(h http.Header, svc *service) error {
	req, _ := http.NewRequest(http.MethodGet, svc.url("/session"), nil)
	req.Header = h
	body, status, err := r.do(req)
	if err != nil {
		return err
	}
	if status != http.StatusOK || !bytes.Contains(body, []byte(`"openId"`)) {
		return fmt.Errorf("GET /session answered %d %s", status, truncate(body, 300))
	}
	return nil
}

func (r *runner) save(svc *service, code, id, actions string) error {
	req, _ := http.NewRequest(http.MethodPost, svc.url("/session/paints/save"), bytes.NewReader(saveBody(id, actions)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-WX-Code", code)
	body, status, err := r.do(req)
	if err != nil {
		return err
	}
	if status != http.StatusOK || !bytes.Contains(body, []byte(`"code":0`)) {
		return fmt.Errorf("save answered %d %s", status, truncate(body, 300))
	}
	return nil
}

// seedConcurrency is how many saves the seeding keeps in flight.
const seedConcurrency = 16

// seed saves up to n drawings for the user of code, within budget. It
// returns how many it saved and how long that took.
func (r *runner) seed(ctx context.Context, svc *service, code string, n int, actions string, budget time.Duration) (int, time.Duration, error) {
	t0 := time.Now()
	deadline := t0.Add(budget)
	var next, saved atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < seedConcurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if err := r.save(svc, code, fmt.Sprintf("s%011d", i), actions); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					next.Store(int64(n)) // stop the others
					return
				}
				saved.Add(1)
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return int(saved.Load()), time.Since(t0), firstErr
}

// listAnswer returns the number of drawings in code's list answer, and the
// answer.
func (r *runner) listAnswer(svc *service, code string) (int, []byte, error) {
	req, _ := http.NewRequest(http.MethodGet, svc.url("/session/paints/list"), nil)
	req.Header.Set("X-WX-Code", code)
	body, status, err := r.do(req)
	if err != nil {
		return 0, nil, err
	}
	var v struct {
		Code int               `json:"code"`
		Data []json.RawMessage `json:"data"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &v) != nil || v.Code != 0 {
		return 0, nil, fmt.Errorf("list answered %d %s", status, truncate(body, 300))
	}
	return len(v.Data), body, nil
}

// pageItems returns the number of items in a v2 page answer.
func (r *runner) pageItems(svc *service, path, token string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+svc.addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	body, status, err := r.do(req)
	if err != nil {
		return 0, err
	}
	var v struct {
		Code int `json:"code"`
		Data struct {
			Items []json.RawMessage `json:"items"`
		} `json:"data"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &v) != nil || v.Code != 0 {
		return 0, fmt.Errorf("GET %s answered %d %s", path, status, truncate(body, 300))
	}
	return len(v.Data.Items), nil
}

func (r *runner) do(req *http.Request) ([]byte, int, error) {
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return body, resp.StatusCode, err
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// countWarnings counts the JSON log lines at WARN or ERROR in a service log.
func countWarnings(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n := 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		// The pprof listener that -profile turns on warns by design.
		if (bytes.Contains(line, []byte(`"level":"WARN"`)) || bytes.Contains(line, []byte(`"level":"ERROR"`))) &&
			!bytes.Contains(line, []byte("pprof debug listener is on")) {
			n++
		}
	}
	return n
}
