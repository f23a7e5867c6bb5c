package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatic_AnswersTheFileWithTheServiceHeaders(t *testing.T) {
	body := `{"code":0,"msg":"success","data":[{"id":"d1","actions":"[1]"}]}`
	file := filepath.Join(t.TempDir(), "answer.json")
	require.NoError(t, os.WriteFile(file, []byte(body), 0o600))

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- cmdStatic(ctx, []string{"-listen", "127.0.0.1:0", "-body", file}, pw, io.Discard) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	var info struct {
		Addr  string `json:"addr"`
		Bytes int    `json:"bytes"`
	}
	require.NoError(t, json.Unmarshal([]byte(line), &info))
	assert.Equal(t, len(body), info.Bytes)

	for range 2 {
		resp, err := http.Get("http://" + info.Addr + "/applet/session/paints/list")
		require.NoError(t, err)
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, body, string(got))
		assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
		assert.Equal(t, int64(len(body)), resp.ContentLength)
	}
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("static did not stop with its context")
	}
}

func TestStatic_NeedsABody(t *testing.T) {
	err := cmdStatic(context.Background(), nil, io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-body")
}

func TestCountWarnings_IgnoresThePprofListenerWarning(t *testing.T) {
	log := strings.Join([]string{
		`{"level":"INFO","msg":"onestroke listening"}`,
		`{"level":"WARN","msg":"pprof debug listener is on; keep it off the internet"}`,
		`{"level":"WARN","msg":"dependency not ready"}`,
		`{"level":"ERROR","msg":"panic serving request"}`,
	}, "\n")
	path := filepath.Join(t.TempDir(), "svc.log")
	require.NoError(t, os.WriteFile(path, []byte(log), 0o600))
	assert.Equal(t, 2, countWarnings(path))
}
