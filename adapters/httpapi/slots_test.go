package httpapi_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/httpapi"
)

// slowSave starts a save whose body arrives only in part: the client
// announces 4 kB and sends a few bytes, as a slow (or hostile) uploader
// does. It returns the connection, which the test closes.
func (e *env) slowSave(code string) net.Conn {
	e.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.api.URL, "http://"))
	require.NoError(e.t, err)
	e.t.Cleanup(func() { conn.Close() })
	_, err = fmt.Fprintf(conn, "POST /applet/session/paints/save HTTP/1.1\r\nHost: x\r\nX-WX-Code: %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n{\"id\":\"slow\",", code)
	require.NoError(e.t, err)
	return conn
}

// answerOf reads the status of the answer on a slowSave connection.
func answerOf(t *testing.T, conn net.Conn, within time.Duration) int {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(within)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// Security review finding 5: slots used to be taken before the body was
// read, so one user's slow uploads held every drawing slot of the service.
func TestDrawingSlots_SlowUploadsOfOneUserDoNotHoldOtherUsersOut(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) {
		c.DrawingConcurrency = 2
		c.DrawingWait = 300 * time.Millisecond
	})
	hog := e.login("hog").Get("X-Wx-Code")
	alice := e.login("alice")
	for range 2 {
		e.slowSave(hog)
	}
	time.Sleep(100 * time.Millisecond) // the slow saves are being served
	start := time.Now()
	r := e.do(http.MethodPost, "/applet/session/paints/save", alice, "application/json", `{"id":"d1","actions":"[]"}`)
	assert.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Less(t, time.Since(start), 300*time.Millisecond, "alice did not wait for a slot")
	r = e.do(http.MethodGet, "/applet/session/paints/list", alice, "", "")
	assert.Equal(t, http.StatusOK, r.status, r.raw)
}

func TestDrawingSlots_OneUserHoldsAtMostItsShare(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) {
		c.DrawingsPerUser = 3
		c.DrawingWait = 200 * time.Millisecond
	})
	hog := e.login("hog")
	for range 3 {
		e.slowSave(hog.Get("X-Wx-Code"))
	}
	time.Sleep(100 * time.Millisecond)
	r := e.do(http.MethodPost, "/applet/session/paints/save", hog, "application/json", `{"id":"d1","actions":"[]"}`)
	assert.Equal(t, http.StatusServiceUnavailable, r.status, r.raw)
	assert.Equal(t, "ERR_UNAVAILABLE", businessReason(t, r))
	assert.Empty(t, e.drawings(e.wx.OpenID("hog")), "nothing stored")
	r = e.do(http.MethodPost, "/applet/session/paints/save", e.login("alice"), "application/json", `{"id":"d1","actions":"[]"}`)
	assert.Equal(t, http.StatusOK, r.status, "another user is served: %s", r.raw)
}

func TestDrawingSlots_ABodyThatDoesNotArriveInTimeIsRefused(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.BodyTimeout = 300 * time.Millisecond })
	hog := e.login("hog").Get("X-Wx-Code")
	start := time.Now()
	conn := e.slowSave(hog)
	assert.Equal(t, http.StatusRequestTimeout, answerOf(t, conn, 5*time.Second))
	assert.Less(t, time.Since(start), 3*time.Second, "answered at the body deadline, not the server's read timeout")
	assert.Empty(t, e.drawings(e.wx.OpenID("hog")), "nothing stored")
}
