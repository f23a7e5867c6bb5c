package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/tests/testenv"
)

// A rolling restart's stop, through run as the binary runs it: the first
// signal (stop) drains, the second (insist) ends the drain.

type running struct {
	t            *testing.T
	addr, ops    string
	logs         *testenv.SyncBuffer
	stop, insist context.CancelFunc
	done         chan struct{} // closed when run returns, with err
	err          error
	client       *http.Client // keep-alive, as a proxy's upstream connections
}

// startRun starts run in development mode on port 0 with the operator
// listener on, and waits for its start-up line.
func startRun(t *testing.T, env map[string]string) *running {
	t.Helper()
	vars := map[string]string{"ONESTROKE_LISTEN": "127.0.0.1:0", "ONESTROKE_OPS_LISTEN": "127.0.0.1:0",
		"ONESTROKE_DATA_DIR": t.TempDir(), "ONESTROKE_DEV": "true", "ONESTROKE_LOG_FORMAT": "json"}
	for k, v := range env {
		vars[k] = v
	}
	stop, stopCancel := context.WithCancel(context.Background())
	insist, insistCancel := context.WithCancel(context.Background())
	r := &running{t: t, logs: &testenv.SyncBuffer{}, stop: stopCancel, insist: insistCancel, done: make(chan struct{}),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 10 * time.Second}}
	go func() {
		r.err = run(stop, insist, nil, func(k string) string { return vars[k] }, r.logs)
		close(r.done)
	}()
	t.Cleanup(func() {
		stopCancel()
		insistCancel()
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
			t.Error("run did not return")
		}
	})
	require.Eventually(t, func() bool {
		for _, line := range strings.Split(r.logs.String(), "\n") {
			var entry struct {
				Msg  string
				Addr string
				Ops  string `json:"ops_addr"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "onestroke listening" {
				r.addr, r.ops = entry.Addr, entry.Ops
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "run logs its address")
	return r
}

// get sends a GET on the keep-alive client and returns the status, whether
// the answer closes its connection, and whether it came on a reused one.
func (r *running) get(url string, headers map[string]string) (status int, closes, reused bool) {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(r.t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
	}))
	resp, err := r.client.Do(req)
	require.NoError(r.t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Close, reused
}

// login mints a device and makes its first request; it returns the
// code-only headers of its later requests.
func (r *running) login(user string) map[string]string {
	r.t.Helper()
	resp, err := r.client.Post("http://"+r.addr+"/_dev/wx-login?user="+user, "", nil)
	require.NoError(r.t, err)
	var d device
	require.NoError(r.t, json.NewDecoder(resp.Body).Decode(&d))
	resp.Body.Close()
	status, _, _ := r.get("http://"+r.addr+"/applet/session", d.first())
	require.Equal(r.t, http.StatusOK, status)
	return d.cached()
}

// logIndex is where msg first appears in the log, -1 when it does not.
func (r *running) logIndex(msg string) int { return strings.Index(r.logs.String(), `"msg":"`+msg) }

func TestRun_SIGTERMDrainsThenStopsAcceptingAndFinishesRequestsInFlight(t *testing.T) {
	const drain = 1500 * time.Millisecond
	r := startRun(t, map[string]string{"ONESTROKE_DRAIN": drain.String(), "ONESTROKE_SHUTDOWN_TIMEOUT": "10s"})
	api, ops := "http://"+r.addr, "http://"+r.ops
	alice := r.login("alice")
	for _, base := range []string{api, ops} {
		status, closes, _ := r.get(base+"/readyz", nil)
		require.Equal(t, http.StatusOK, status, base)
		assert.False(t, closes, "keep-alive before the stop")
	}
	status, _, _ := r.get(api+"/applet/session/paints/list", alice)
	require.Equal(t, http.StatusOK, status)
	status, _, reused := r.get(api+"/applet/session/paints/list", alice)
	require.Equal(t, http.StatusOK, status)
	require.True(t, reused, "the client keeps its connection before the stop")

	// A save whose body is still arriving when the drain ends: it is in
	// flight through the whole shutdown.
	body, rest := io.Pipe()
	defer rest.Close()
	saved := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, api+"/applet/session/paints/save", body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-WX-Code", alice["X-WX-Code"])
		resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
		if err != nil {
			t.Errorf("the save in flight failed: %v", err)
			saved <- nil
			return
		}
		saved <- resp
	}()
	_, err := rest.Write([]byte(`{"id":"inflight1",`))
	require.NoError(t, err)

	stopped := time.Now()
	r.stop()
	require.Eventually(t, func() bool { return r.logIndex("drain started") >= 0 }, 2*time.Second, 5*time.Millisecond)
	for _, base := range []string{api, ops} {
		status, _, _ := r.get(base+"/readyz", nil)
		assert.Equal(t, http.StatusServiceUnavailable, status, "%s/readyz during the drain", base)
	}
	status, _, _ = r.get(api+"/healthz", nil)
	assert.Equal(t, http.StatusOK, status, "alive during the drain")
	for i := 0; i < 3; i++ {
		status, closes, reused := r.get(api+"/applet/session/paints/list", alice)
		assert.Equal(t, http.StatusOK, status, "still serving during the drain")
		assert.True(t, closes, "Connection: close during the drain")
		assert.False(t, reused, "a connection answered during the drain is not used again")
	}
	assert.Equal(t, -1, r.logIndex("drained"), "still draining")

	require.Eventually(t, func() bool { return r.logIndex("drained") >= 0 }, drain+2*time.Second, 5*time.Millisecond)
	assert.GreaterOrEqual(t, time.Since(stopped), drain, "the drain lasts its period")
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", r.addr, time.Second)
		if err == nil {
			c.Close()
			return false
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	}, 2*time.Second, 5*time.Millisecond, "after the drain new connections are refused")
	select {
	case <-r.done:
		t.Fatalf("run returned with a request in flight: %v", r.err)
	default:
	}

	_, err = rest.Write([]byte(`"actions":"[{\"t\":1}]"}`))
	require.NoError(t, err)
	require.NoError(t, rest.Close())
	resp := <-saved
	require.NotNil(t, resp)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the request in flight when the drain ended completes")
	assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, string(raw))

	select {
	case <-r.done:
		require.NoError(t, r.err, "a clean stop")
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after the last request")
	}
	started, drained, stoppedAt := r.logIndex("drain started"), r.logIndex("drained"), r.logIndex("onestroke stopped")
	assert.True(t, started < drained && drained < stoppedAt, "phases logged in order: %s", r.logs.String())
	assert.Contains(t, r.logs.String(), `"reason":"drain period over"`)
}

func TestRun_SecondSignalEndsTheDrainAtOnce(t *testing.T) {
	r := startRun(t, map[string]string{"ONESTROKE_DRAIN": "1m"})
	r.stop()
	require.Eventually(t, func() bool { return r.logIndex("drain started") >= 0 }, 2*time.Second, 5*time.Millisecond)
	status, _, _ := r.get("http://"+r.addr+"/readyz", nil)
	require.Equal(t, http.StatusServiceUnavailable, status)
	insisted := time.Now()
	r.insist()
	select {
	case <-r.done:
		require.NoError(t, r.err)
	case <-time.After(10 * time.Second):
		t.Fatal("a second signal did not end the one-minute drain")
	}
	assert.Less(t, time.Since(insisted), 5*time.Second)
	assert.Contains(t, r.logs.String(), `"reason":"second signal"`)
	assert.Contains(t, r.logs.String(), "onestroke stopped")
}

func TestRun_DrainOfZeroStopsAcceptingAtOnce(t *testing.T) {
	r := startRun(t, map[string]string{"ONESTROKE_DRAIN": "0"})
	stopped := time.Now()
	r.stop()
	select {
	case <-r.done:
		require.NoError(t, r.err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return")
	}
	assert.Less(t, time.Since(stopped), 2*time.Second)
	_, err := net.DialTimeout("tcp", r.addr, time.Second)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
}

func TestSignalPhases_FirstSignalStopsSecondInsistsThenTheDefaultIsBack(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	var reset atomic.Bool
	stop, insist := signalPhases(sigs, func() { reset.Store(true) })
	assert.NoError(t, stop.Err())
	sigs <- syscall.SIGTERM
	<-stop.Done()
	assert.NoError(t, insist.Err(), "one signal only stops")
	assert.False(t, reset.Load())
	sigs <- os.Interrupt
	<-insist.Done()
	assert.Eventually(t, reset.Load, time.Second, time.Millisecond, "a third signal gets the default action: it kills")
}
