package memstore

import (
	"context"
	"crypto/sha256"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var (
	_ ports.TokenSessionStore = (*TokenSessions)(nil)
	_ ports.LoginCodes        = (*LoginCodes)(nil)
)

// TokenSessions keeps the modern protocol's sessions in memory: the
// embedded default, gone on restart (clients log in again). Memory follows
// the live sessions: a Create sweeps the owner's ended ones, and every
// sweepEvery all of them.
type TokenSessions struct {
	mu        sync.Mutex
	byDigest  map[domain.TokenDigest]string  // → session id
	sessions  map[string]*tokenEntry         // session id → session
	byOwner   map[string]map[string]struct{} // owner → session ids
	nextSweep time.Time
}

type tokenEntry struct {
	s       domain.TokenSession // a copy: callers get copies too
	digests []domain.TokenDigest
}

// NewTokenSessions returns an empty store.
func NewTokenSessions() *TokenSessions {
	return &TokenSessions{byDigest: map[domain.TokenDigest]string{}, sessions: map[string]*tokenEntry{}, byOwner: map[string]map[string]struct{}{}}
}

func cancelled(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return domain.Wrap(domain.EUNAVAILABLE, err, "The session store call was cancelled.")
	}
	return nil
}

func inShard(d domain.TokenDigest, owner string) error {
	if d.Shard() != domain.UserShard(owner) {
		return domain.Errorf(domain.EINVALID, "The token does not fall into its owner's shard.")
	}
	return nil
}

// Create implements ports.TokenSessionStore.
func (m *TokenSessions) Create(ctx context.Context, digest domain.TokenDigest, sess *domain.TokenSession, now time.Time, policy domain.SessionPolicy) ([]string, error) {
	if err := cancelled(ctx); err != nil {
		return nil, err
	}
	owner := sess.OpenID()
	if err := inShard(digest, owner); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(now)
	var existing []*domain.TokenSession
	for id := range m.byOwner[owner] {
		existing = append(existing, &m.sessions[id].s)
	}
	ended := domain.SessionsToEnd(existing, now, policy)
	for _, id := range ended {
		m.deleteLocked(id)
	}
	m.sessions[sess.ID()] = &tokenEntry{s: *sess, digests: []domain.TokenDigest{digest}}
	m.byDigest[digest] = sess.ID()
	if m.byOwner[owner] == nil {
		m.byOwner[owner] = map[string]struct{}{}
	}
	m.byOwner[owner][sess.ID()] = struct{}{}
	return ended, nil
}

// AddToken implements ports.TokenSessionStore.
func (m *TokenSessions) AddToken(ctx context.Context, owner, sessionID string, digest domain.TokenDigest, now time.Time) error {
	if err := cancelled(ctx); err != nil {
		return err
	}
	if err := inShard(digest, owner); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.sessions[sessionID]
	if e == nil || e.s.OpenID() != owner || !e.s.Live(now) {
		return domain.SessionExpired(nil)
	}
	e.digests = append(e.digests, digest)
	m.byDigest[digest] = sessionID
	if over := len(e.digests) - domain.MaxTokensPerSession; over > 0 {
		for _, d := range e.digests[:over] {
			delete(m.byDigest, d)
		}
		e.digests = slices.Delete(e.digests, 0, over)
	}
	return nil
}

// Authenticate implements ports.TokenSessionStore.
func (m *TokenSessions) Authenticate(ctx context.Context, digest domain.TokenDigest, now time.Time, policy domain.SessionPolicy) (*domain.TokenSession, error) {
	if err := cancelled(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.sessions[m.byDigest[digest]]
	if e == nil {
		return nil, domain.SessionExpired(nil)
	}
	if err := e.s.Authenticate(now); err != nil {
		return nil, err
	}
	e.s.Touch(now, policy)
	s := e.s
	return &s, nil
}

// Sessions implements ports.TokenSessionStore.
func (m *TokenSessions) Sessions(ctx context.Context, owner string, now time.Time) ([]*domain.TokenSession, error) {
	if err := cancelled(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []*domain.TokenSession{}
	for id := range m.byOwner[owner] {
		if s := m.sessions[id].s; s.Live(now) {
			out = append(out, &s)
		}
	}
	SortNewestFirst(out)
	return out, nil
}

// SortNewestFirst orders sessions as ports.TokenSessionStore.Sessions
// returns them: created last first, ties by id.
func SortNewestFirst(s []*domain.TokenSession) {
	slices.SortFunc(s, func(a, b *domain.TokenSession) int {
		if c := b.CreatedAt().Compare(a.CreatedAt()); c != 0 {
			return c
		}
		return strings.Compare(a.ID(), b.ID())
	})
}

// Revoke implements ports.TokenSessionStore.
func (m *TokenSessions) Revoke(ctx context.Context, owner, sessionID string, now time.Time) error {
	if err := cancelled(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.sessions[sessionID]
	if e == nil || e.s.OpenID() != owner || !e.s.Live(now) {
		return domain.Errorf(domain.ENOTFOUND, "You have no session %q.", sessionID)
	}
	m.deleteLocked(sessionID)
	return nil
}

// RevokeAll implements ports.TokenSessionStore.
func (m *TokenSessions) RevokeAll(ctx context.Context, owner string, now time.Time) (int, error) {
	if err := cancelled(ctx); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id := range m.byOwner[owner] {
		if m.sessions[id].s.Live(now) {
			n++
		}
		m.deleteLocked(id)
	}
	return n, nil
}

func (m *TokenSessions) deleteLocked(id string) {
	e := m.sessions[id]
	if e == nil {
		return
	}
	for _, d := range e.digests {
		delete(m.byDigest, d)
	}
	delete(m.sessions, id)
	owner := e.s.OpenID()
	delete(m.byOwner[owner], id)
	if len(m.byOwner[owner]) == 0 {
		delete(m.byOwner, owner)
	}
}

// sweepLocked drops ended sessions every sweepEvery.
func (m *TokenSessions) sweepLocked(now time.Time) {
	if now.Before(m.nextSweep) {
		return
	}
	m.nextSweep = now.Add(sweepEvery)
	for id, e := range m.sessions {
		if !e.s.Live(now) {
			m.deleteLocked(id)
		}
	}
}

// Len returns the number of stored sessions, ended or not; for tests.
func (m *TokenSessions) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

// LoginCodes is the in-process ports.LoginCodes: one instance has no one
// to share its codes with.
type LoginCodes struct {
	now       ports.Clock
	mu        sync.Mutex
	codes     map[[sha256.Size]byte]codeState
	nextSweep time.Time
}

// codeKey is the key a code is kept under: its digest (ports.LoginCodes
// keeps codes by digest only), so that not even this process's memory
// holds a code that could still be exchanged.
func codeKey(code string) [sha256.Size]byte { return sha256.Sum256([]byte(code)) }

type codeState struct {
	done  ports.LoginResult
	until time.Time
}

// NewLoginCodes returns an empty store that tells time with now (nil means
// time.Now).
func NewLoginCodes(now ports.Clock) *LoginCodes {
	if now == nil {
		now = time.Now
	}
	return &LoginCodes{now: now, codes: map[[sha256.Size]byte]codeState{}}
}

// Claim implements ports.LoginCodes.
func (c *LoginCodes) Claim(ctx context.Context, code string, lease time.Duration) (bool, ports.LoginResult, error) {
	if err := cancelled(ctx); err != nil {
		return false, ports.LoginResult{}, err
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	key := codeKey(code)
	if st, ok := c.codes[key]; ok && now.Before(st.until) {
		return false, st.done, nil
	}
	// Codes live minutes: memory stays bounded by the live ones. A sweep
	// walks them all, so it runs at most every sweepEvery, not per claim
	// (per claim, a burst of logins would cost a walk of every code of the
	// last five minutes each).
	if !now.Before(c.nextSweep) {
		c.nextSweep = now.Add(sweepEvery)
		for k, st := range c.codes {
			if !now.Before(st.until) {
				delete(c.codes, k)
			}
		}
	}
	c.codes[key] = codeState{until: now.Add(lease)}
	return true, ports.LoginResult{}, nil
}

// Complete implements ports.LoginCodes.
func (c *LoginCodes) Complete(ctx context.Context, code string, res ports.LoginResult, ttl time.Duration) error {
	if err := cancelled(ctx); err != nil {
		return err
	}
	if res.Owner == "" || res.SessionID == "" {
		return domain.Errorf(domain.EINVALID, "A login result needs an owner and a session.")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.codes[codeKey(code)] = codeState{done: res, until: c.now().Add(ttl)}
	return nil
}

// Release implements ports.LoginCodes.
func (c *LoginCodes) Release(ctx context.Context, code string) error {
	if err := cancelled(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.codes, codeKey(code))
	return nil
}

// Len returns the number of codes held, ended or not; for tests.
func (c *LoginCodes) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.codes)
}
