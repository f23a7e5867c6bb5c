package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/domain"
)

var etagFormat = regexp.MustCompile(`^"[0-9a-f]{16}"$`)

const drawings = "/applet/v2/drawings"

// with returns h and one more header.
func with(h http.Header, k, v string) http.Header {
	out := h.Clone()
	out.Set(k, v)
	return out
}

func TestV2Drawings_PutGetListDelete(t *testing.T) {
	e := newEnv(t, nil)
	alice := auth(e.v2Login("alice", "phone"))

	r := e.do(http.MethodPut, drawings+"/d1", alice, jsonCT, `{"title":"Sunset","actions":[{"method":"save","data":[]}, {"method":"restore","data":[]}]}`)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	assert.Equal(t, "/applet/v2/drawings/d1", r.header.Get("Location"))
	etag := r.header.Get("ETag")
	assert.Regexp(t, etagFormat, etag)
	item := r.body["data"].(map[string]any)
	assert.Equal(t, "d1", item["id"])
	assert.Equal(t, "Sunset", item["title"])
	assert.Equal(t, etag, item["etag"])
	assert.EqualValues(t, len(`[{"method":"save","data":[]}, {"method":"restore","data":[]}]`), item["bytes"], "the array's text as sent")
	assert.NotContains(t, item, "titleInReview")
	rfc3339UTC(t, item["createdAt"])
	rfc3339UTC(t, item["updatedAt"])

	r = e.do(http.MethodGet, drawings+"/d1", alice, "", "")
	got := data(t, r).(map[string]any)
	assert.Equal(t, etag, r.header.Get("ETag"))
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	assert.Equal(t, []any{map[string]any{"method": "save", "data": []any{}}, map[string]any{"method": "restore", "data": []any{}}}, got["actions"], "the JSON array itself")
	assert.Equal(t, "Sunset", got["title"])
	assert.Equal(t, item["createdAt"], got["createdAt"])

	r = e.do(http.MethodPut, drawings+"/d1", alice, jsonCT, `{"actions":[1]}`)
	require.Equal(t, http.StatusOK, r.status, "a replace: %s", r.raw)
	assert.NotEqual(t, etag, r.header.Get("ETag"), "every save a new ETag")
	assert.Empty(t, r.header.Get("Location"))
	assert.Equal(t, "Sunset", r.body["data"].(map[string]any)["title"], "a PUT without title keeps it")

	list := data(t, e.do(http.MethodGet, drawings, alice, "", "")).(map[string]any)
	assert.Nil(t, list["next"])
	items := list["items"].([]any)
	require.Len(t, items, 1)
	assert.Equal(t, r.header.Get("ETag"), items[0].(map[string]any)["etag"])
	assert.NotContains(t, items[0], "actions", "pages carry no actions")

	r = e.do(http.MethodDelete, drawings+"/d1", alice, "", "")
	assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, r.raw)
	r = e.do(http.MethodGet, drawings+"/d1", alice, "", "")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "ERR_NOT_FOUND", businessReason(t, r))
	r = e.do(http.MethodDelete, drawings+"/d1", alice, "", "")
	assert.Equal(t, http.StatusNotFound, r.status)
}

func TestV2Drawings_AnotherUsersDrawingIsNotFound(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := auth(e.v2Login("alice", "phone")), auth(e.v2Login("bob", "phone"))
	require.Equal(t, http.StatusCreated, e.do(http.MethodPut, drawings+"/d1", alice, jsonCT, `{"actions":[1]}`).status)
	assert.Equal(t, http.StatusNotFound, e.do(http.MethodGet, drawings+"/d1", bob, "", "").status)
	assert.Equal(t, http.StatusNotFound, e.do(http.MethodDelete, drawings+"/d1", bob, "", "").status)
	r := e.do(http.MethodPut, drawings+"/d1", bob, jsonCT, `{"actions":[2]}`)
	assert.Equal(t, http.StatusCreated, r.status, "bob's own d1")
	assert.Empty(t, data(t, e.do(http.MethodGet, drawings+"?limit=1", bob, "", "")).(map[string]any)["next"])
	got := data(t, e.do(http.MethodGet, drawings+"/d1", alice, "", "")).(map[string]any)
	assert.Equal(t, []any{1.0}, got["actions"])
}

func TestV2Drawings_ConditionalRequests(t *testing.T) {
	e := newEnv(t, nil)
	alice := auth(e.v2Login("alice", "phone"))
	r := e.do(http.MethodPut, drawings+"/d1", with(alice, "If-None-Match", "*"), jsonCT, `{"actions":[1]}`)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	first := r.header.Get("ETag")
	r = e.do(http.MethodPut, drawings+"/d1", with(alice, "If-None-Match", "*"), jsonCT, `{"actions":[2]}`)
	assert.Equal(t, http.StatusPreconditionFailed, r.status, r.raw)
	assert.Equal(t, "ERR_CONFLICT", businessReason(t, r))

	r = e.do(http.MethodPut, drawings+"/d1", with(alice, "If-Match", first), jsonCT, `{"actions":[3]}`)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	second := r.header.Get("ETag")
	// The other phone still holds the first ETag: its save is refused.
	r = e.do(http.MethodPut, drawings+"/d1", with(alice, "If-Match", first), jsonCT, `{"actions":[4]}`)
	assert.Equal(t, http.StatusPreconditionFailed, r.status)
	assert.Equal(t, "ERR_CONFLICT", businessReason(t, r))
	r = e.do(http.MethodDelete, drawings+"/d1", with(alice, "If-Match", first), "", "")
	assert.Equal(t, http.StatusPreconditionFailed, r.status)
	assert.Equal(t, second, e.do(http.MethodGet, drawings+"/d1", alice, "", "").header.Get("ETag"), "nothing changed")

	// Several tags, in one header or several, and W/ never matching.
	r = e.do(http.MethodPut, drawings+"/d1", with(alice, "If-Match", `W/`+second+`, "0000000000000000"`), jsonCT, `{"actions":[5]}`)
	assert.Equal(t, http.StatusPreconditionFailed, r.status, "a weak tag does not match: %s", r.raw)
	h := alice.Clone()
	h["If-Match"] = []string{`"0000000000000000"`, first + ", " + second}
	r = e.do(http.MethodPut, drawings+"/d1", h, jsonCT, `{"actions":[5]}`)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = e.do(http.MethodDelete, drawings+"/d1", with(alice, "If-Match", "*"), "", "")
	assert.Equal(t, http.StatusOK, r.status)
	r = e.do(http.MethodDelete, drawings+"/d1", with(alice, "If-Match", "*"), "", "")
	assert.Equal(t, http.StatusPreconditionFailed, r.status, "If-Match: * on a drawing that is gone")
	r = e.do(http.MethodPut, drawings+"/d1", with(alice, "If-Match", second), jsonCT, `{"actions":[6]}`)
	assert.Equal(t, http.StatusPreconditionFailed, r.status, "If-Match never creates")
	assert.Equal(t, http.StatusNotFound, e.do(http.MethodGet, drawings+"/d1", alice, "", "").status)
}

func TestV2Drawings_TitlesPassTheContentCheck(t *testing.T) {
	e := newEnv(t, nil)
	alice := auth(e.v2Login("alice", "phone"))
	r := e.do(http.MethodPut, drawings+"/d1", alice, jsonCT, `{"title":"A REVIEW one","actions":[1]}`)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	assert.Equal(t, true, r.body["data"].(map[string]any)["titleInReview"])
	assert.Equal(t, true, data(t, e.do(http.MethodGet, drawings+"/d1", alice, "", "")).(map[string]any)["titleInReview"])
	items := data(t, e.do(http.MethodGet, drawings, alice, "", "")).(map[string]any)["items"].([]any)
	assert.Equal(t, true, items[0].(map[string]any)["titleInReview"])

	calls := e.platform.calls.Load()
	r = e.do(http.MethodPut, drawings+"/d1", alice, jsonCT, `{"title":"A REVIEW one","actions":[2]}`)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, calls, e.platform.calls.Load(), "an unchanged title is not checked again")

	r = e.do(http.MethodPut, drawings+"/d1", alice, jsonCT, `{"title":"RISKY","actions":[3]}`)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Equal(t, "ERR_CONTENT_RISKY", businessReason(t, r))
	e.platform.set(domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "WeChat is down."), false)
	r = e.do(http.MethodPut, drawings+"/d1", alice, jsonCT, `{"title":"Fine","actions":[3]}`)
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "ERR_WECHAT_UNAVAILABLE", businessReason(t, r))
	e.platform.set(nil, false)
	got := data(t, e.do(http.MethodGet, drawings+"/d1", alice, "", "")).(map[string]any)
	assert.Equal(t, "A REVIEW one", got["title"], "nothing stored by the refused PUTs")
	assert.Equal(t, []any{2.0}, got["actions"])
	r = e.do(http.MethodPut, drawings+"/d1", alice, jsonCT, `{"title":"","actions":[3]}`)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "", r.body["data"].(map[string]any)["title"])
	assert.NotContains(t, r.body["data"], "titleInReview")
}

// A drawing is one drawing whichever protocol saved it: the legacy list
// shows a v2 PUT's actions as the array's text, verbatim, and v2 shows a
// legacy save's actions as the JSON itself, with the title kept.
func TestV2Drawings_TheLegacyRoutesSeeTheSameDrawingsBothWays(t *testing.T) {
	e := newEnv(t, nil)
	login := e.v2Login("alice", "phone")
	alice := auth(login)
	const array = `[ {"method":"save"} ,{"method":"lineTo","data":[1.50,2e1]} ]`
	require.Equal(t, http.StatusCreated, e.do(http.MethodPut, drawings+"/v2made", alice, jsonCT, `{"title":"T","actions":`+array+`}`).status)

	legacy := e.do(http.MethodGet, "/applet/session/paints/list", alice, "", "")
	require.Equal(t, http.StatusOK, legacy.status, legacy.raw)
	assert.Equal(t, []any{map[string]any{"id": "v2made", "actions": array}}, legacy.body["data"], "verbatim, whitespace and number forms included")

	// The same user through the legacy protocol (X-WX-Code) sees it too.
	code := e.login("alice")
	legacy = e.do(http.MethodGet, "/applet/session/paints/list", code, "", "")
	assert.Equal(t, []any{map[string]any{"id": "v2made", "actions": array}}, legacy.body["data"])

	r := e.do(http.MethodPost, "/applet/session/paints/save", code, jsonCT, `{"id":"v2made","actions":"[{\"method\":\"restore\"}]"}`)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = e.do(http.MethodPost, "/applet/session/paints/save", code, jsonCT, `{"id":"old","actions":"[1,2]"}`)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	got := data(t, e.do(http.MethodGet, drawings+"/v2made", alice, "", "")).(map[string]any)
	assert.Equal(t, []any{map[string]any{"method": "restore"}}, got["actions"])
	assert.Equal(t, "T", got["title"], "a legacy save keeps the title")
	items := data(t, e.do(http.MethodGet, drawings, alice, "", "")).(map[string]any)["items"].([]any)
	var ids []string
	for _, it := range items {
		ids = append(ids, it.(map[string]any)["id"].(string))
	}
	assert.ElementsMatch(t, []string{"v2made", "old"}, ids)
	r = e.do(http.MethodDelete, drawings+"/old", alice, "", "")
	require.Equal(t, http.StatusOK, r.status)
	legacy = e.do(http.MethodGet, "/applet/session/paints/list", code, "", "")
	assert.Len(t, legacy.body["data"], 1, "the v2 delete is seen by the legacy list")
}

// A legacy save may store any JSON text; GET hands it out as the JSON it
// is, and text that is not JSON (the original service stored what it was
// sent) as a string, so that the answer parses.
func TestV2Drawings_GetOfActionsThatAreNotAnArray(t *testing.T) {
	e := newEnv(t, nil)
	alice := auth(e.v2Login("alice", "phone"))
	r := e.do(http.MethodPost, "/applet/session/paints/save", alice, jsonCT, `{"id":"obj","actions":"{\"a\":1}"}`)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, map[string]any{"a": 1.0}, data(t, e.do(http.MethodGet, drawings+"/obj", alice, "", "")).(map[string]any)["actions"])
}

func TestV2Drawings_PagesWalkEveryDrawingOnce(t *testing.T) {
	e := newEnv(t, nil)
	alice := auth(e.v2Login("alice", "phone"))
	for i := range 7 {
		require.Equal(t, http.StatusCreated, e.do(http.MethodPut, fmt.Sprintf("%s/d%d", drawings, i), alice, jsonCT, `{"actions":[1]}`).status)
	}
	seen := map[string]int{}
	cursor := ""
	pages := 0
	for {
		q := "?limit=3"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		page := data(t, e.do(http.MethodGet, drawings+q, alice, "", "")).(map[string]any)
		pages++
		for _, it := range page["items"].([]any) {
			seen[it.(map[string]any)["id"].(string)]++
		}
		if pages == 1 { // saved and deleted between pages
			require.Equal(t, http.StatusOK, e.do(http.MethodPut, drawings+"/d0", alice, jsonCT, `{"actions":[2]}`).status)
			require.Equal(t, http.StatusOK, e.do(http.MethodDelete, drawings+"/d1", alice, "", "").status)
		}
		if page["next"] == nil {
			break
		}
		cursor = page["next"].(string)
	}
	delete(seen, "d1") // deleted during the walk: once at most
	assert.Equal(t, map[string]int{"d0": 1, "d2": 1, "d3": 1, "d4": 1, "d5": 1, "d6": 1}, seen)
	assert.Equal(t, 2, pages, "6 left after the first page of 3: one more page")

	def := data(t, e.do(http.MethodGet, drawings, alice, "", "")).(map[string]any)
	assert.Len(t, def["items"], 6, "the default page (20) holds them all")
}

func TestV2Drawings_SavedDrawingsAreTheSameJSONInEveryAnswer(t *testing.T) {
	e := newEnv(t, nil)
	alice := auth(e.v2Login("alice", "phone"))
	r := e.do(http.MethodPut, drawings+"/d1", alice, jsonCT, `{"title":"一笔 \u2028 <b>&","actions":["\u0000"]}`)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(e.do(http.MethodGet, drawings+"/d1", alice, "", "").raw), &raw))
	var d map[string]any
	require.NoError(t, json.Unmarshal(raw["data"], &d))
	assert.Equal(t, "一笔 \u2028 <b>&", d["title"])
	assert.Equal(t, []any{"\u0000"}, d["actions"])
	assert.True(t, strings.Contains(string(raw["data"]), `["\u0000"]`), "the array's text as sent")
}
