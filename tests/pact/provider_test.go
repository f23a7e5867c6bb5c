//go:build pact

package pact

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pact-foundation/pact-go/v2/models"
	"github.com/pact-foundation/pact-go/v2/provider"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/boltstore"
	"github.com/onestroke/onestroke/adapters/httpapi"
	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/adapters/wechat"
	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
)

const providerTTL = 2 * time.Hour

// The provider's app credentials at the mock WeChat; the secret also seals
// the session_key of every token session, as in cmd/onestroke.
const (
	providerAppID     = "wxPROVIDER"
	providerAppSecret = "provider-secret"
)

// providerPolicy is the token sessions' policy: the service's defaults
// (ONESTROKE_TOKEN_IDLE 7d, ONESTROKE_TOKEN_MAX_AGE 30d, 10 devices).
var providerPolicy = domain.SessionPolicy{}.WithDefaults()

// seededSessionKey is the session_key a seeded token session holds sealed.
const seededSessionKey = domain.SessionKey("tiihtNczf5v6AKRyjwEUhQ==")

// world is the provider under verification: the real router and use cases
// on the in-process adapters, with the mock WeChat over HTTP. Every
// interaction gets a fresh one, and its provider states are set up through
// the ports.
type world struct {
	clock    *porttest.Clock
	sessions *memstore.SessionStore
	drawings *boltstore.Repository
	tokens   ports.TokenSessionStore
	profiles ports.ProfileRepository
	sealer   *domain.SessionKeySealer
	access   *app.AccessTokenService
	wx       *wechattest.Server
	handler  http.Handler
	close    func()
}

func newWorld(t *testing.T) *world {
	w := &world{clock: porttest.NewClock(time.Now())}
	w.wx = wechattest.New(providerAppID, providerAppSecret, w.clock.Now)
	wxSrv := httptest.NewServer(w.wx)
	dir := t.TempDir()
	repo, err := boltstore.Open(dir)
	require.NoError(t, err)
	w.drawings = repo
	w.sessions = memstore.NewSessionStore(w.clock.Now)
	exchanger := wechat.NewClient(providerAppID, providerAppSecret, wxSrv.URL, 2*time.Second)
	// Wired as cmd/onestroke wires the in-process adapters: one exchange
	// gate for both protocols, the token sessions and login codes in
	// memory, the profiles in the drawing store, the session_key sealed
	// under the app secret.
	gate := &app.ExchangeGate{}
	w.tokens = memstore.NewTokenSessions()
	w.profiles = repo
	w.sealer, err = domain.NewSessionKeySealer(exchanger.AppSecret)
	require.NoError(t, err)
	// The deployment's access_token in memory, sealed under the app
	// secret, and wechat.Platform on it as the phone-number and
	// content-check ports, as cmd/onestroke wires them without Redis.
	accessSealer, err := domain.NewAccessTokenSealer(exchanger.AppSecret)
	require.NoError(t, err)
	w.access = &app.AccessTokenService{
		Store:  app.SealAccessTokens(memstore.NewAccessTokens(w.clock.Now), accessSealer),
		Source: exchanger,
		Now:    w.clock.Now,
	}
	platform := wechat.NewPlatform(exchanger, w.access)
	codes := memstore.NewLoginCodes(w.clock.Now) // both protocols' codes, as cmd/onestroke shares them
	tokens := &app.TokenService{
		Sessions:  w.tokens,
		Codes:     codes,
		Profiles:  w.profiles,
		Exchanger: exchanger,
		Sealer:    w.sealer,
		Gate:      gate,
		Policy:    providerPolicy,
		Now:       w.clock.Now,
		Phones:    platform,
		Content:   platform,
		AppID:     exchanger.AppID,
	}
	w.handler = httpapi.New(httpapi.Config{
		Sessions: &app.SessionService{Store: w.sessions, Codes: codes, TTL: providerTTL, Exchanger: exchanger, Gate: gate},
		Tokens:   tokens,
		// Titles pass the nickName's content check, as cmd/onestroke wires it.
		Drawings: &app.DrawingService{Repo: repo, Now: w.clock.Now, Content: tokens},
	})
	w.close = func() { w.access.WaitRefresh(); repo.Close(); wxSrv.Close() }
	return w
}

// createTokenSession seeds a live session of openID, created now, that
// token reaches: through the port, as a login would store it.
func (w *world) createTokenSession(token domain.Token, openID, sessionID, device string) error {
	now := w.clock.Now()
	sealed, err := w.sealer.Seal(seededSessionKey, sessionID)
	if err != nil {
		return err
	}
	sess, err := domain.NewTokenSession(sessionID, domain.WxSession{OpenID: openID}, sealed, device, now, providerPolicy)
	if err != nil {
		return err
	}
	if _, err := w.tokens.Create(context.Background(), token.Digest(), sess, now, providerPolicy); err != nil {
		return err
	}
	// WeChat knows the user of a session: a login made it. msg_sec_check
	// and getuserphonenumber refuse an openid WeChat never answered.
	w.wx.AcceptCode("login-of-"+sessionID, openID, seededSessionKey, "")
	return nil
}

// params returns a provider state's parameters. pact-go nests them under
// "params"; plain maps are accepted too.
func params(s models.ProviderState) map[string]any {
	if p, ok := s.Parameters["params"].(map[string]any); ok {
		return p
	}
	return s.Parameters
}

func str(p map[string]any, k string) (string, error) {
	v, ok := p[k].(string)
	if !ok || v == "" {
		return "", fmt.Errorf("provider state parameter %q is missing", k)
	}
	return v, nil
}

// strs returns the string parameters keys, in order.
func strs(p map[string]any, keys ...string) ([]string, error) {
	out := make([]string, len(keys))
	for i, k := range keys {
		v, err := str(p, k)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func TestProvider_HonoursTheClientLibraryPact(t *testing.T) {
	var mu sync.Mutex
	current := newWorld(t)
	t.Cleanup(func() { current.close() })
	now := func() *world { mu.Lock(); defer mu.Unlock(); return current }
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { now().handler.ServeHTTP(rw, r) }))
	defer srv.Close()

	// Provider states, set up through the ports.
	acceptCode := func(setup bool, s models.ProviderState) (models.ProviderStateResponse, error) {
		if !setup {
			return nil, nil
		}
		v, err := strs(params(s), "code", "openid", "session_key")
		if err != nil {
			return nil, err
		}
		now().wx.AcceptCode(v[0], v[1], domain.SessionKey(v[2]), "")
		return nil, nil
	}
	verifiedSession := func(setup bool, s models.ProviderState) (models.ProviderStateResponse, error) {
		if !setup {
			return nil, nil
		}
		v, err := strs(params(s), "code", "openid", "rawData")
		if err != nil {
			return nil, err
		}
		code, openID := v[0], v[1]
		raw, err := domain.DecodeRawData(wechattest.EncodeURIComponent(v[2]))
		if err != nil {
			return nil, err
		}
		w := now()
		return nil, w.sessions.Login(context.Background(), domain.Session{Code: code, User: domain.NewUserInfo(raw, openID)}, providerTTL)
	}
	// "No session" is a session that existed and expired: seeded, then the
	// store's clock runs past its TTL.
	expiredSession := func(setup bool, s models.ProviderState) (models.ProviderStateResponse, error) {
		if !setup {
			return nil, nil
		}
		code, err := str(params(s), "code")
		if err != nil {
			return nil, err
		}
		w := now()
		raw, _ := domain.DecodeRawData("%7B%7D")
		if err := w.sessions.Login(context.Background(), domain.Session{Code: code, User: domain.NewUserInfo(raw, "oEXPIRED")}, providerTTL); err != nil {
			return nil, err
		}
		w.clock.Advance(providerTTL + time.Second)
		return nil, nil
	}
	refuseCode := func(setup bool, s models.ProviderState) (models.ProviderStateResponse, error) {
		if !setup {
			return nil, nil
		}
		p := params(s)
		code, err := str(p, "code")
		if err != nil {
			return nil, err
		}
		errcode, ok := p["errcode"].(float64)
		if !ok {
			return nil, fmt.Errorf("provider state parameter errcode is missing")
		}
		now().wx.RefuseCode(code, int(errcode))
		return nil, nil
	}
	hasDrawings := func(setup bool, s models.ProviderState) (models.ProviderStateResponse, error) {
		if !setup {
			return nil, nil
		}
		p := params(s)
		openID, err := str(p, "openid")
		if err != nil {
			return nil, err
		}
		list, ok := p["drawings"].([]any)
		if !ok || len(list) == 0 {
			return nil, fmt.Errorf("provider state parameter drawings is missing")
		}
		w := now()
		for i, item := range list {
			d, _ := item.(map[string]any)
			id, _ := d["id"].(string)
			actions, _ := d["actions"].(string)
			at := w.clock.Now().Add(time.Duration(i) * time.Second)
			parsed, err := domain.ParseActions(actions, domain.DefaultMaxActionsBytes)
			if err != nil {
				return nil, err
			}
			err = w.drawings.Save(context.Background(), openID, id, domain.Quota{}, func(*domain.Drawing) (*domain.Drawing, error) {
				return domain.NewDrawing(openID, id, parsed, at)
			})
			if err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	// A token session; the token is the pact's (it falls into the user's
	// shard, as every token the service mints does).
	hasToken := func(setup bool, s models.ProviderState) (models.ProviderStateResponse, error) {
		if !setup {
			return nil, nil
		}
		p := params(s)
		v, err := strs(p, "token", "openid", "sessionId")
		if err != nil {
			return nil, err
		}
		device, _ := p["device"].(string)
		tok, err := domain.ParseToken(v[0])
		if err != nil {
			return nil, fmt.Errorf("provider state parameter token: %w", err)
		}
		return nil, now().createTokenSession(tok, v[1], v[2], device)
	}
	// An expired token is a session that was live and went idle: seeded,
	// then the clock runs past the idle timeout.
	expiredToken := func(setup bool, s models.ProviderState) (models.ProviderStateResponse, error) {
		if !setup {
			return nil, nil
		}
		v, err := strs(params(s), "token", "openid", "sessionId")
		if err != nil {
			return nil, err
		}
		tok, err := domain.ParseToken(v[0])
		if err != nil {
			return nil, fmt.Errorf("provider state parameter token: %w", err)
		}
		w := now()
		if err := w.createTokenSession(tok, v[1], v[2], ""); err != nil {
			return nil, err
		}
		w.clock.Advance(providerPolicy.Idle + time.Second)
		return nil, nil
	}
	// Another live session of the user, on another device: its token is
	// minted here, the client never sends it.
	anotherSession := func(setup bool, s models.ProviderState) (models.ProviderStateResponse, error) {
		if !setup {
			return nil, nil
		}
		p := params(s)
		v, err := strs(p, "openid", "sessionId")
		if err != nil {
			return nil, err
		}
		device, _ := p["device"].(string)
		tok, _, err := domain.MintToken(v[0])
		if err != nil {
			return nil, err
		}
		return nil, now().createTokenSession(tok, v[0], v[1], device)
	}
	hasProfile := func(setup bool, s models.ProviderState) (models.ProviderStateResponse, error) {
		if !setup {
			return nil, nil
		}
		v, err := strs(params(s), "openid", "nickName", "avatarUrl")
		if err != nil {
			return nil, err
		}
		u := domain.ProfileUpdate{NickName: &v[1], AvatarURL: &v[2]}
		_, err = now().profiles.UpdateProfile(context.Background(), v[0], func(p domain.Profile) (domain.Profile, error) { return p.Apply(u) })
		return nil, err
	}
	// WeChat gives this getPhoneNumber code (single-use, as every one) the
	// number for the user's openid.
	phoneCode := func(setup bool, s models.ProviderState) (models.ProviderStateResponse, error) {
		if !setup {
			return nil, nil
		}
		v, err := strs(params(s), "code", "openid", "phoneNumber", "purePhoneNumber", "countryCode")
		if err != nil {
			return nil, err
		}
		now().wx.AcceptPhoneCode(v[0], v[1], domain.PhoneNumber{PhoneNumber: v[2], PurePhoneNumber: v[3], CountryCode: v[4]})
		return nil, nil
	}
	// WeChat's getuserphonenumber refuses the next code with errcode (the
	// one call of the interaction carries the state's code).
	refusePhoneCode := func(setup bool, s models.ProviderState) (models.ProviderStateResponse, error) {
		if !setup {
			return nil, nil
		}
		p := params(s)
		if _, err := str(p, "code"); err != nil {
			return nil, err
		}
		errcode, ok := p["errcode"].(float64)
		if !ok {
			return nil, fmt.Errorf("provider state parameter errcode is missing")
		}
		now().wx.Inject(wechattest.APIPhoneNumber, wechattest.Fault{Errcode: int(errcode)}, 1)
		return nil, nil
	}
	hasPhoneNumber := func(setup bool, s models.ProviderState) (models.ProviderStateResponse, error) {
		if !setup {
			return nil, nil
		}
		v, err := strs(params(s), "openid", "phoneNumber", "purePhoneNumber", "countryCode")
		if err != nil {
			return nil, err
		}
		n := domain.PhoneNumber{PhoneNumber: v[1], PurePhoneNumber: v[2], CountryCode: v[3]}
		_, err = now().profiles.UpdateProfile(context.Background(), v[0], func(p domain.Profile) (domain.Profile, error) { return p.WithPhoneNumber(n) })
		return nil, err
	}
	// WeChat's msg_sec_check judges text containing the nickName risky, or
	// puts it under review (the mock's content markers).
	contentCheck := func(risky bool) models.StateHandler {
		return func(setup bool, s models.ProviderState) (models.ProviderStateResponse, error) {
			if !setup {
				return nil, nil
			}
			nick, err := str(params(s), "nickName")
			if err != nil {
				return nil, err
			}
			if risky {
				now().wx.SetContentMarkers(nick, "")
			} else {
				now().wx.SetContentMarkers("", nick)
			}
			return nil, nil
		}
	}
	// Drawings with a title and a fixed revision (so that the pact knows
	// their ETags), created a second apart in the order given.
	hasV2Drawings := func(setup bool, s models.ProviderState) (models.ProviderStateResponse, error) {
		if !setup {
			return nil, nil
		}
		p := params(s)
		openID, err := str(p, "openid")
		if err != nil {
			return nil, err
		}
		list, ok := p["drawings"].([]any)
		if !ok || len(list) == 0 {
			return nil, fmt.Errorf("provider state parameter drawings is missing")
		}
		w := now()
		for i, item := range list {
			d, _ := item.(map[string]any)
			id, _ := d["id"].(string)
			title, _ := d["title"].(string)
			actions, _ := d["actions"].(string)
			rev, err := strconv.ParseUint(fmt.Sprint(d["revision"]), 16, 64)
			if err != nil || rev == 0 {
				return nil, fmt.Errorf("provider state parameter revision of %q: not 16 hex digits", id)
			}
			parsed, err := domain.ParseActions(actions, domain.DefaultMaxActionsBytes)
			if err != nil {
				return nil, err
			}
			at := w.clock.Now().Add(time.Duration(i) * time.Second)
			err = w.drawings.Save(context.Background(), openID, id, domain.Quota{}, func(*domain.Drawing) (*domain.Drawing, error) {
				return domain.UnmarshalDrawingFromStorage(domain.StoredDrawing{Owner: openID, ID: id, Actions: parsed, Title: title,
					Revision: rev, CreatedAt: at, UpdatedAt: at})
			})
			if err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	nothing := func(bool, models.ProviderState) (models.ProviderStateResponse, error) { return nil, nil }

	handlers := models.StateHandlers{
		"WeChat accepts code CODE-ALICE-1 for user alice":     acceptCode,
		"WeChat accepts code CODE-ALICE-2 for user alice":     acceptCode,
		"WeChat accepts code CODE-ALICE-3 for user alice":     acceptCode,
		"WeChat refuses code CODE-BAD":                        refuseCode,
		"a verified session exists for code CODE-ALICE":       verifiedSession,
		"user alice has drawings":                             hasDrawings,
		"no session exists for code CODE-GONE":                expiredSession,
		"no session exists for code CODE-MALFORMED":           nothing,
		"nobody is logged in":                                 nothing,
		"WeChat accepts code CODE-V2-1 for user alice":        acceptCode,
		"WeChat accepts code CODE-V2-2 for user alice":        acceptCode,
		"WeChat accepts code CODE-V2-3 for user alice":        acceptCode,
		"WeChat refuses code CODE-V2-BAD":                     refuseCode,
		"alice has a token":                                   hasToken,
		"alice's token has expired":                           expiredToken,
		"alice has another session":                           anotherSession,
		"alice has a profile":                                 hasProfile,
		"WeChat accepts code CODE-V2-4 for user alice":        acceptCode,
		"WeChat has a phone code for alice":                   phoneCode,
		"WeChat refuses phone code PHONE-CODE-USED":           refusePhoneCode,
		"alice has a phone number":                            hasPhoneNumber,
		"WeChat's content check finds a nickName risky":       contentCheck(true),
		"WeChat's content check puts a nickName under review": contentCheck(false),
		"alice has a v2 drawing":                              hasV2Drawings,
		"alice has two v2 drawings":                           hasV2Drawings,
	}
	// pact-go only warns about a state without a handler: fail instead, so a
	// new state in the client's pact cannot pass unverified.
	for _, name := range pactStates(t, clientPact) {
		require.Contains(t, handlers, name, "no provider state handler for %q", name)
	}

	err := provider.NewVerifier().VerifyProvider(t, provider.VerifyRequest{
		Provider:        "onestroke",
		ProviderBaseURL: srv.URL,
		PactFiles:       []string{clientPact},
		// pact-go runs BeforeEach once per provider state, so an interaction
		// with two states would lose the first; a fresh world after every
		// state teardown gives each interaction a clean one instead.
		AfterEach: func() error {
			mu.Lock()
			defer mu.Unlock()
			current.close()
			current = newWorld(t)
			return nil
		},
		StateHandlers:        handlers,
		DisableColoredOutput: true,
	})
	require.NoError(t, err)
}

// pactStates lists the provider state names a pact file uses.
func pactStates(t *testing.T, file string) []string {
	t.Helper()
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	var pact struct {
		Interactions []struct {
			ProviderStates []struct{ Name string } `json:"providerStates"`
		} `json:"interactions"`
	}
	require.NoError(t, json.Unmarshal(raw, &pact))
	var names []string
	for _, i := range pact.Interactions {
		for _, s := range i.ProviderStates {
			names = append(names, s.Name)
		}
	}
	require.NotEmpty(t, names)
	return names
}
