package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
)

// The v2 drawing routes (PROTOCOL §7) end to end: the binary's wiring on
// port 0 (the embedded store, the mock WeChat's content check), the legacy
// routes on the same drawings.

// walkDrawings follows the v2 pages from the start with limit, calling
// between after each page, and returns how often each id was seen.
func (s *service) walkDrawings(auth map[string]string, limit int, between func(page int)) map[string]int {
	s.t.Helper()
	seen := map[string]int{}
	cursor := ""
	for page := 0; ; page++ {
		path := fmt.Sprintf("/applet/v2/drawings?limit=%d", limit)
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		status, body, raw := s.call("GET", path, auth, "")
		require.Equal(s.t, http.StatusOK, status, raw)
		data := body["data"].(map[string]any)
		items := data["items"].([]any)
		require.LessOrEqual(s.t, len(items), limit)
		for _, it := range items {
			item := it.(map[string]any)
			assert.NotContains(s.t, item, "actions")
			seen[item["id"].(string)]++
		}
		if data["next"] == nil {
			return seen
		}
		require.Less(s.t, page, 1000, "the walk ends")
		if between != nil {
			between(page)
		}
		cursor = data["next"].(string)
	}
}

func TestE2E_V2Drawings_PagesReachEveryDrawingOnceWhileItsPhonesSaveAndDelete(t *testing.T) {
	s := start(t, testConfig(t, nil))
	v2 := bearerOf(s.v2Login(s.mint("alice").Code, "tablet"))
	d := s.mint("alice")
	status, _, raw := s.call("GET", "/applet/session", d.first(), "")
	require.Equal(t, http.StatusOK, status, raw)
	legacy := d.cached() // the same user on a phone of the legacy protocol

	throughout := map[string]bool{}
	var victims []string
	for i := range 45 {
		id := fmt.Sprintf("d%02d", i)
		if i%2 == 0 {
			status, _, raw = s.call("PUT", "/applet/v2/drawings/"+id, v2, `{"actions":[{"method":"save","data":[]}]}`)
			require.Equal(t, http.StatusCreated, status, raw)
		} else {
			status, _, raw = s.call("POST", "/applet/session/paints/save", legacy, `{"id":"`+id+`","actions":"[1]"}`)
			require.Equal(t, http.StatusOK, status, raw)
		}
		if i%6 == 5 {
			victims = append(victims, id)
		} else {
			throughout[id] = true
		}
	}

	// Between pages, both phones save drawings already seen and not yet
	// seen, delete some, and create others.
	created := 0
	seen := s.walkDrawings(v2, 4, func(page int) {
		id := fmt.Sprintf("d%02d", (page*11)%45)
		if throughout[id] {
			status, _, raw := s.call("POST", "/applet/session/paints/save", legacy, `{"id":"`+id+`","actions":"[2]"}`)
			require.Equal(t, http.StatusOK, status, raw)
			status, _, raw = s.call("PUT", "/applet/v2/drawings/"+fmt.Sprintf("d%02d", (page*7+3)%45), v2, `{"actions":[3],"title":"p"}`)
			require.Contains(t, []int{http.StatusOK, http.StatusCreated}, status, raw)
		}
		if page < len(victims) {
			status, _, raw := s.call("DELETE", "/applet/v2/drawings/"+victims[page], v2, "")
			require.Equal(t, http.StatusOK, status, raw)
		}
		status, _, raw := s.call("POST", "/applet/session/paints/save", legacy, fmt.Sprintf(`{"id":"new%d","actions":"[]"}`, created))
		require.Equal(t, http.StatusOK, status, raw)
		created++
	})
	for id := range throughout {
		assert.Equal(t, 1, seen[id], "%s existed throughout: exactly once", id)
	}
	for id, n := range seen {
		assert.Equal(t, 1, n, "%s at most once", id)
	}

	// And while a third phone saves and deletes all the time.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			switch i % 3 {
			case 0:
				s.call("PUT", fmt.Sprintf("/applet/v2/drawings/d%02d", rng.IntN(45)), v2, `{"actions":[4]}`)
			case 1:
				s.call("POST", "/applet/session/paints/save", legacy, fmt.Sprintf(`{"id":"busy%d","actions":"[]"}`, rng.IntN(10)))
			case 2:
				s.call("DELETE", fmt.Sprintf("/applet/v2/drawings/busy%d", rng.IntN(10)), v2, "")
			}
		}
	})
	seen = s.walkDrawings(v2, 5, func(int) { time.Sleep(2 * time.Millisecond) })
	close(stop)
	wg.Wait()
	for id := range throughout {
		assert.Equal(t, 1, seen[id], "%s existed throughout: exactly once", id)
	}
	for id, n := range seen {
		assert.Equal(t, 1, n, "%s at most once", id)
	}
}

func TestE2E_V2Drawings_ETagsTitlesAndTheLegacyList(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, map[string]string{"ONESTROKE_DATA_DIR": dir})
	s := start(t, cfg)
	alice := bearerOf(s.v2Login(s.mint("alice").Code, "phone"))

	status, h, body, raw := s.send("PUT", "/applet/v2/drawings/d1", alice, `{"title":"Sunset","actions":[{"method":"save"}]}`)
	require.Equal(t, http.StatusCreated, status, raw)
	etag := h.Get("ETag")
	assert.Regexp(t, `^"[0-9a-f]{16}"$`, etag)
	assert.Equal(t, etag, body["data"].(map[string]any)["etag"])

	// The content check of the mock WeChat (msg_sec_check, scene forum).
	status, _, body, _ = s.send("PUT", "/applet/v2/drawings/d2", alice, `{"title":"a `+wechattest.DefaultRiskyMarker+`","actions":[]}`)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Equal(t, "ERR_CONTENT_RISKY", body["error"].(map[string]any)["reason"])
	status, _, body, _ = s.send("PUT", "/applet/v2/drawings/d2", alice, `{"title":"a `+wechattest.DefaultReviewMarker+`","actions":[]}`)
	require.Equal(t, http.StatusCreated, status)
	assert.Equal(t, true, body["data"].(map[string]any)["titleInReview"])

	// Another phone saves d1; the first one's conditional save is refused.
	status, h, _, _ = s.send("PUT", "/applet/v2/drawings/d1", alice, `{"actions":[{"method":"restore"}]}`)
	require.Equal(t, http.StatusOK, status)
	current := h.Get("ETag")
	status, _, body, _ = s.send("PUT", "/applet/v2/drawings/d1", map[string]string{"Authorization": alice["Authorization"], "If-Match": etag}, `{"actions":[]}`)
	assert.Equal(t, http.StatusPreconditionFailed, status)
	assert.Equal(t, "ERR_CONFLICT", body["error"].(map[string]any)["reason"])

	_, body, _ = s.call("GET", "/applet/session/paints/list", alice, "")
	assert.ElementsMatch(t, []any{
		map[string]any{"id": "d1", "actions": `[{"method":"restore"}]`},
		map[string]any{"id": "d2", "actions": `[]`},
	}, body["data"])

	// A restart keeps the drawings, their ETags and their titles.
	s.stop()
	s = start(t, cfg)
	alice = bearerOf(s.v2Login(s.mint("alice").Code, "phone"))
	status, h, body, _ = s.send("GET", "/applet/v2/drawings/d1", alice, "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, current, h.Get("ETag"))
	assert.Equal(t, "Sunset", body["data"].(map[string]any)["title"])
	status, _, _ = s.call("DELETE", "/applet/v2/drawings/d1", map[string]string{"Authorization": alice["Authorization"], "If-Match": current}, "")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, map[string]int{"d2": 1}, s.walkDrawings(alice, 10, nil))
}
