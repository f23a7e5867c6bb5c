// Package e2e runs the built onestroke binary as a process, the way an
// operator and a newcomer do: start, signals, restart, the README.
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "onestroke-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "onestroke")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	build := exec.Command(goTool, "build", "-o", binary, "./cmd/onestroke")
	build.Dir = "../.."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build onestroke:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running onestroke process.
type proc struct {
	cmd  *exec.Cmd
	url  string
	mu   sync.Mutex
	logs strings.Builder
	done chan error
}

func (p *proc) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// devEnv is development mode on a free port, as make run starts it, with
// the operator listener off (several binaries run at once).
var devEnv = []string{"ONESTROKE_DEV=true", "ONESTROKE_LISTEN=127.0.0.1:0", "ONESTROKE_OPS_LISTEN=off", "ONESTROKE_LOG_FORMAT=json"}

// startBinary runs the binary in development mode with env on a free port
// and waits until it logs its address.
func startBinary(t *testing.T, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary)
	cmd.Env = append(os.Environ(), append(devEnv[:len(devEnv):len(devEnv)], env...)...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &proc{cmd: cmd, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			var entry struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "onestroke listening" {
				addr <- entry.Addr
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case a := <-addr:
		p.url = "http://" + a
	case err := <-p.done:
		t.Fatalf("onestroke exited before listening: %v\n%s", err, p.Logs())
	case <-time.After(20 * time.Second):
		t.Fatalf("onestroke did not start listening:\n%s", p.Logs())
	}
	return p
}

// stop sends SIGTERM and returns the exit error.
func (p *proc) stop(t *testing.T) error {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("onestroke did not stop on SIGTERM")
		return nil
	}
}

func call(t *testing.T, method, url string, headers map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(raw)
}

func login(t *testing.T, p *proc, user string) string {
	t.Helper()
	status, raw := call(t, "POST", p.url+"/_dev/wx-login?user="+user, nil, "")
	require.Equal(t, http.StatusOK, status, raw)
	var d struct {
		Code    string            `json:"code"`
		Headers map[string]string `json:"headers"`
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &d))
	status, raw = call(t, "GET", p.url+"/applet/session", d.Headers, "")
	require.Equal(t, http.StatusOK, status, raw)
	return d.Code
}

func TestBinary_SIGTERMStopsCleanlyAndDrawingsSurviveARestart(t *testing.T) {
	dataDir := t.TempDir()
	p := startBinary(t, "ONESTROKE_DATA_DIR="+dataDir)
	code := login(t, p, "alice")
	status, raw := call(t, "POST", p.url+"/applet/session/paints/save", map[string]string{"X-WX-Code": code}, `{"id":"persist1","actions":"[{\"t\":1}]"}`)
	require.Equal(t, http.StatusOK, status, raw)
	require.NoError(t, p.stop(t), "exit status 0 on SIGTERM")
	assert.Contains(t, p.Logs(), "onestroke stopped")

	again := startBinary(t, "ONESTROKE_DATA_DIR="+dataDir)
	code = login(t, again, "alice")
	status, raw = call(t, "GET", again.url+"/applet/session/paints/list", map[string]string{"X-WX-Code": code}, "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, `{"code":0,"msg":"success","data":[{"id":"persist1","actions":"[{\"t\":1}]"}]}`, raw)
	require.NoError(t, again.stop(t))
}

func TestBinary_BadConfigurationExitsWithAClearMessage(t *testing.T) {
	cmd := exec.Command(binary)
	cmd.Env = append(os.Environ(), "ONESTROKE_SESSION_TTL=forever", "ONESTROKE_WX_APPID=wx123")
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "ONESTROKE_SESSION_TTL")
	assert.Contains(t, string(out), "ONESTROKE_WX_SECRET is empty")
}

// Security review finding 7, as an operator meets it: a production start
// whose appid did not arrive refuses to start instead of running a mock.
func TestBinary_NeitherAnAppIDNorDevelopmentModeRefusesToStart(t *testing.T) {
	cmd := exec.Command(binary)
	cmd.Env = append(os.Environ(), "ONESTROKE_LISTEN=127.0.0.1:0", "ONESTROKE_OPS_LISTEN=off", "ONESTROKE_DATA_DIR="+t.TempDir(),
		"ONESTROKE_REDIS_URL=redis://127.0.0.1:1/0")
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "ONESTROKE_WX_APPID is not set")
	assert.Contains(t, string(out), "ONESTROKE_DEV=true")
	assert.NotContains(t, string(out), "DEVELOPMENT MODE")
}

func TestBinary_SecondProcessOnTheSameDataDirFailsClearly(t *testing.T) {
	dataDir := t.TempDir()
	startBinary(t, "ONESTROKE_DATA_DIR="+dataDir)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary)
	cmd.Env = append(os.Environ(), append(devEnv[:len(devEnv):len(devEnv)], "ONESTROKE_DATA_DIR="+dataDir)...)
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "locked by another process")
}

// runWalkthrough runs the README's curl block between <!-- NAME:begin -->
// and <!-- NAME:end -->, exactly as written, against the binary in
// development mode, and returns the binary and the lines the block printed.
func runWalkthrough(t *testing.T, name string) (*proc, []string) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("the README walk-through needs curl: %v", err)
	}
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)<!-- " + name + ":begin -->\\s*```sh\\n(.*?)```\\s*<!-- " + name + ":end -->").FindSubmatch(readme)
	require.NotNil(t, m, "README has the %s block", name)
	script := string(m[1])
	require.Contains(t, script, "B=http://localhost:5757\n")

	p := startBinary(t, "ONESTROKE_DATA_DIR="+t.TempDir())
	script = strings.Replace(script, "B=http://localhost:5757\n", "B="+p.url+"\n", 1)
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return p, strings.Split(strings.TrimSpace(string(out)), "\n")
}

// TestREADME_WalkthroughWorks runs the README's curl walk-through of the
// legacy protocol.
func TestREADME_WalkthroughWorks(t *testing.T) {
	_, lines := runWalkthrough(t, "walkthrough")
	require.Len(t, lines, 6, "one answer per curl that prints: %q", lines)
	assert.Contains(t, lines[0], `"wxUserInfo":{"nickName":"alice"`)
	assert.Equal(t, lines[0], lines[1], "the cached answer equals the first")
	assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, lines[2])
	assert.Equal(t, `{"code":0,"msg":"success","data":[{"id":"mi3k9x2a7q4z","actions":"[{\"type\":\"moveTo\",\"x\":10,\"y\":20},{\"type\":\"lineTo\",\"x\":90,\"y\":40}]"}]}`, lines[3])
	assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, lines[4])
	assert.Contains(t, lines[5], `"F2C224D4-2BCE-4C64-AF9F-A6D872000D1A":1,"reason":"ERR_SESSION_EXPIRED"`)
}

// TestREADME_WalkthroughDrawingsWorks runs the README's walk-through of
// the v2 drawing routes.
func TestREADME_WalkthroughDrawingsWorks(t *testing.T) {
	_, lines := runWalkthrough(t, "walkthrough-drawings")
	require.Len(t, lines, 5, "one answer per curl that prints: %q", lines)
	assert.Regexp(t, `^"[0-9a-f]{16}"$`, lines[0], "the ETag")
	assert.Regexp(t, `^\{"code":0,"msg":"success","data":\{"items":\[\{"id":"sun1","title":"Sunset","createdAt":"[^"]+Z","updatedAt":"[^"]+Z","bytes":60,"etag":"\\"[0-9a-f]{16}\\""\}\],"next":null\}\}$`, lines[1])
	assert.Contains(t, lines[1], lines[0][1:len(lines[0])-1], "the page's etag is the header's")
	assert.Regexp(t, `^\{"code":0,"msg":"success","data":\{"id":"sun1","title":"Sunset",.*"bytes":29,`, lines[2])
	assert.NotContains(t, lines[2], lines[0][1:len(lines[0])-1], "a new ETag")
	assert.Contains(t, lines[3], `{"code":-1,"msg":"fail","error":{"reason":"ERR_CONFLICT"`)
	assert.Equal(t, `{"code":0,"msg":"success","data":[{"id":"sun1","actions":"[{\"method\":\"save\",\"data\":[]}]"}]}`, lines[4])
}

// TestREADME_WalkthroughV2Works runs the README's walk-through of the
// modern sessions.
func TestREADME_WalkthroughV2Works(t *testing.T) {
	p, lines := runWalkthrough(t, "walkthrough-v2")
	require.Len(t, lines, 8, "one answer per curl that prints: %q", lines)
	assert.Regexp(t, `^\{"code":0,"msg":"success","data":\{"token":"ost_[A-Za-z0-9_-]{43}","sessionId":"[A-Za-z0-9_-]{22}","openId":"o[^"]+",`, lines[0])
	assert.Regexp(t, `^\{"code":0,"msg":"success","data":\{"openId":"o[^"]+","unionId":"[^"]+","nickName":"Bob"\}\}$`, lines[1])
	assert.Regexp(t, `^\{"wxUserInfo":\{"nickName":"Bob","openId":"o[^"]+"\}\}$`, lines[2])
	assert.Regexp(t, `^\{"code":0,"msg":"success","data":\[\{"sessionId":"[A-Za-z0-9_-]{22}","device":"curl",.*"current":true\}\]\}$`, lines[3])
	assert.Regexp(t, `^\{"code":0,"msg":"success","data":\{"phoneNumber":"[0-9+ ]+","purePhoneNumber":"[0-9]+","countryCode":"86"\}\}$`, lines[4])
	assert.Regexp(t, `^\{"code":0,"msg":"success","data":\{"openGId":"[^"]+"`, lines[5], "the share info the mock encrypted, opened")
	assert.NotContains(t, lines[5], "watermark")
	assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, lines[6])
	assert.Contains(t, lines[7], `{"code":-1,"msg":"fail","error":{"reason":"ERR_SESSION_EXPIRED"`)
	token := regexp.MustCompile(`ost_[A-Za-z0-9_-]{43}`).FindString(lines[0])
	assert.NotContains(t, p.Logs(), token, "the token is in no log line")
}
