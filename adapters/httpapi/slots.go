package httpapi

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/onestroke/onestroke/domain"
)

// drawingHandler serves a drawing route: its user (never nil) and, for
// save and delete, the body already read.
type drawingHandler func(w http.ResponseWriter, r *http.Request, user *domain.UserInfo, form paintForm)

var errNoSession = domain.Errorf(domain.EUNAUTHORIZED, "This route needs a session: send X-WX-Code (and on the first request X-WX-RawData and X-WX-Signature).")

// drawing guards a drawing route. In order:
//  1. an anonymous request is answered ERR_NO_SESSION before anything else;
//  2. the user takes one of its DrawingsPerUser slots, which it holds to
//     the end: one user's requests, body reads included, can never hold
//     more than that share of the service;
//  3. the body, if any, is read within MaxBodyBytes and BodyTimeout;
//  4. only then one of the DrawingConcurrency slots is taken, for the work
//     itself: a slow upload never holds a slot that other users wait for.
//
// Memory is bounded by the per-user slots for bodies being read and by the
// global slots for the work on them.
func (s *Server) drawing(readBody bool, next drawingHandler) userHandler {
	return func(w http.ResponseWriter, r *http.Request, user *domain.UserInfo) {
		if user == nil || user.IsZero() {
			s.writeBusinessError(w, r, errNoSession)
			return
		}
		release, err := s.userSlots.acquire(r.Context(), user.OpenID(), s.cfg.DrawingWait)
		if err != nil {
			s.writeSlotError(w, r, err)
			return
		}
		defer release()
		var form paintForm
		if readBody {
			if form, err = s.readPaintForm(w, r); err != nil {
				s.writeBusinessError(w, r, err)
				return
			}
		}
		if err := acquire(r.Context(), s.drawingSlots, s.cfg.DrawingWait); err != nil {
			s.writeSlotError(w, r, err)
			return
		}
		defer func() { <-s.drawingSlots }()
		next(w, r, user, form)
	}
}

var errBusy = domain.Errorf(domain.EUNAVAILABLE, "The service is busy; try again.")

// acquire takes a token of slots, waiting up to wait. It returns errBusy
// when none came free in time, or the context's error when the client left.
func acquire(ctx context.Context, slots chan struct{}, wait time.Duration) error {
	select {
	case slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case slots <- struct{}{}:
		return nil
	case <-t.C:
		return errBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writeSlotError answers a request that got no slot; nothing, when the
// client has left.
func (s *Server) writeSlotError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	s.writeBusinessError(w, r, err)
}

// userSlots bounds the drawing requests each user has in the service at
// once. A user's entry lives only while it has requests holding or waiting
// for a slot, so memory follows the requests in flight, not the users seen.
type userSlots struct {
	per int
	mu  sync.Mutex
	m   map[string]*userSem
}

type userSem struct {
	slots chan struct{}
	refs  int // requests holding or waiting for one of slots
}

func newUserSlots(per int) *userSlots {
	return &userSlots{per: per, m: map[string]*userSem{}}
}

// acquire takes one of user's slots, waiting up to wait, and returns the
// function that gives it back.
func (u *userSlots) acquire(ctx context.Context, user string, wait time.Duration) (func(), error) {
	u.mu.Lock()
	sem := u.m[user]
	if sem == nil {
		sem = &userSem{slots: make(chan struct{}, u.per)}
		u.m[user] = sem
	}
	sem.refs++
	u.mu.Unlock()
	done := func() {
		u.mu.Lock()
		if sem.refs--; sem.refs == 0 {
			delete(u.m, user)
		}
		u.mu.Unlock()
	}
	if err := acquire(ctx, sem.slots, wait); err != nil {
		done()
		return nil, err
	}
	return func() { <-sem.slots; done() }, nil
}

// held returns the number of users with requests in flight; for tests.
func (u *userSlots) held() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.m)
}
