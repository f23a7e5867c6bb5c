package wechattest

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"
)

// The WeChat APIs the mock answers, by the names Inject and Calls take.
const (
	APICode2Session = "jscode2session"
	APIStableToken  = "stable_token"
	APIPhoneNumber  = "getuserphonenumber"
	APIMsgSecCheck  = "msg_sec_check"
)

// Fault is what Inject makes the next calls of one API do instead of
// answering: wait Hang first (until the caller gives up, if that comes
// sooner), then, when Errcode is not zero, answer {"errcode":Errcode}.
// A Fault with Hang alone delays the real answer.
type Fault struct {
	Errcode int
	Hang    time.Duration
}

// Inject makes the next n calls of api (APIStableToken, …) meet f; n < 1
// means every call from now on, until Clear.
func (s *Server) Inject(api string, f Fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults == nil {
		s.faults = map[string]*injected{}
	}
	s.faults[api] = &injected{fault: f, left: n}
}

// Clear removes the fault injected into api.
func (s *Server) Clear(api string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.faults, api)
}

// Calls returns how many calls of api the mock has received (faulted ones
// included).
func (s *Server) Calls(api string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[api]
}

type injected struct {
	fault Fault
	left  int // < 1: forever
}

// fault counts a call of api and applies its injected fault, if any. It
// reports whether it answered the call (an errcode, or the caller gone
// while hanging); the endpoint answers when it did not.
func (s *Server) fault(w http.ResponseWriter, r *http.Request, api string) bool {
	s.mu.Lock()
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	s.calls[api]++
	inj, ok := s.faults[api]
	var f Fault
	if ok {
		f = inj.fault
		if inj.left > 0 {
			if inj.left--; inj.left == 0 {
				delete(s.faults, api)
			}
		}
	}
	s.mu.Unlock()
	if !ok {
		return false
	}
	if f.Hang > 0 {
		// net/http notices a caller that gives up only once the request's
		// body is read to its end: read it (bounded) before hanging, and
		// leave the endpoint a copy.
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
		r.Body = io.NopCloser(bytes.NewReader(body))
		t := time.NewTimer(f.Hang)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true
		}
	}
	if f.Errcode != 0 {
		writeErr(w, f.Errcode)
		return true
	}
	return false
}

func (s *Server) serveFault(w http.ResponseWriter, r *http.Request) {
	const usage = "POST /mock/fault?api=NAME[&errcode=N][&hang_ms=M][&n=K]"
	api := r.FormValue("api")
	num := func(name string) (int, bool) {
		v := r.FormValue(name)
		if v == "" {
			return 0, true
		}
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= -1_000_000 && n <= 1_000_000
	}
	errcode, ok1 := num("errcode")
	hang, ok2 := num("hang_ms")
	n, ok3 := num("n")
	switch api {
	case APICode2Session, APIStableToken, APIPhoneNumber, APIMsgSecCheck:
	default:
		ok1 = false
	}
	if r.Method != http.MethodPost || !ok1 || !ok2 || !ok3 || hang < 0 {
		http.Error(w, usage, http.StatusBadRequest)
		return
	}
	if errcode == 0 && hang == 0 {
		s.Clear(api)
	} else {
		s.Inject(api, Fault{Errcode: errcode, Hang: time.Duration(hang) * time.Millisecond}, n)
	}
	writeJSON(w, map[string]any{"api": api, "errcode": errcode, "hang_ms": hang, "n": n})
}
