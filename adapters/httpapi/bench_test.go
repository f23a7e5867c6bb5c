package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/onestroke/onestroke/adapters/httpapi"
	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/mock"
	"github.com/onestroke/onestroke/ports/porttest"
)

// discard is a ResponseWriter that keeps nothing, so benchmarks measure the
// handler and not a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkCachedSessionRequest is GET /applet/session with a code through
// the whole router: limits, metrics, the session layer, the answer.
func BenchmarkCachedSessionRequest(b *testing.B) {
	store := memstore.NewSessionStore(nil)
	u := porttest.User(b, "oGZUI0egBJY1zhBYw2KhdUfwVJJE", `{"nickName":"alice","gender":1,"language":"zh_CN","city":"Shenzhen","province":"Guangdong","country":"China","avatarUrl":"https://wx.qlogo.cn/mmopen/vi_32/alice/132"}`)
	if err := store.Login(context.Background(), domain.Session{Code: "c1", User: u}, time.Hour); err != nil {
		b.Fatal(err)
	}
	h := httpapi.New(httpapi.Config{Sessions: &app.SessionService{Store: store}, Drawings: &app.DrawingService{}})
	req := httptest.NewRequest(http.MethodGet, "/applet/session", nil)
	req.Header.Set("X-WX-Code", "c1")
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

// BenchmarkListResponse encodes the legacy list answer of 100 drawings of
// 2,000 actions each: the JSON-string escaping of every actions text.
func BenchmarkListResponse(b *testing.B) {
	actions := `[` + strings.Repeat(`{"type":"lineTo","x":123.5,"y":456.25,"color":"#ff0000","width":3},`, 1999) + `{"type":"lineTo","x":1,"y":2,"color":"#ff0000","width":3}]`
	drawings := make([]*domain.Drawing, 100)
	for i := range drawings {
		drawings[i], _ = domain.UnmarshalDrawingFromStorage(domain.StoredDrawing{Owner: "oALICE", ID: fmt.Sprintf("d%03d", i),
			Actions: domain.ActionsFromStorage(actions), CreatedAt: time.Now(), UpdatedAt: time.Now()})
	}
	repo := &mock.DrawingRepository{ListFn: func(context.Context, string, int) ([]*domain.Drawing, error) { return drawings, nil }}
	store := memstore.NewSessionStore(nil)
	u := porttest.User(b, "oALICE", `{}`)
	_ = store.Login(context.Background(), domain.Session{Code: "c1", User: u}, time.Hour)
	h := httpapi.New(httpapi.Config{Sessions: &app.SessionService{Store: store}, Drawings: &app.DrawingService{Repo: repo}})
	req := httptest.NewRequest(http.MethodGet, "/applet/session/paints/list", nil)
	req.Header.Set("X-WX-Code", "c1")
	w := &discard{h: http.Header{}}
	b.SetBytes(int64(100 * len(actions)))
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
	_ = io.Discard
}

// BenchmarkBearerMeRequest is GET /applet/v2/me with a token through the
// whole router: the token's look-up, the profile's, the answer. Beside
// BenchmarkCachedSessionRequest it shows what the modern cached path adds.
func BenchmarkBearerMeRequest(b *testing.B) {
	sessions := memstore.NewTokenSessions()
	s, tok, d := porttest.NewTokenSession(b, "oGZUI0egBJY1zhBYw2KhdUfwVJJE", "phone", time.Now())
	if _, err := sessions.Create(context.Background(), d, s, time.Now(), domain.SessionPolicy{}); err != nil {
		b.Fatal(err)
	}
	tokens := &app.TokenService{Sessions: sessions, Codes: memstore.NewLoginCodes(nil), Profiles: memstore.NewProfiles(), Now: time.Now}
	h := httpapi.New(httpapi.Config{Sessions: &app.SessionService{Store: memstore.NewSessionStore(nil)}, Drawings: &app.DrawingService{}, Tokens: tokens})
	req := httptest.NewRequest(http.MethodGet, "/applet/v2/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Reveal())
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}
