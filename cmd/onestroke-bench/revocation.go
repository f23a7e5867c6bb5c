package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
)

// Revocation is the revocation-propagation measurement (issue 12): two
// instances on one Redis, each with its session cache on; a token that
// the second has just answered (so it is cached there) is logged out
// through the first, and the second is asked until it refuses the token.
// Each sample is the time from the logout's answer to the first refusal.
type Revocation struct {
	Config  string
	Samples []time.Duration
	Err     string
}

// quantile returns the q-quantile (0..1) of sorted samples.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted)-1) + 0.5)
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// revocationRounds is how many tokens are revoked; revocationPoll how
// often the second instance is asked.
const (
	revocationRounds = 200
	revocationPoll   = 500 * time.Microsecond
	revocationGiveUp = 2 * time.Second
)

// runRevocation measures revocation propagation between svc and a second
// instance started with the same environment (the same Redis).
func (r *runner) runRevocation(ctx context.Context, cfg string, svc *service, env []string, mock *wechattest.Server) {
	rev := Revocation{Config: cfg}
	defer func() { r.rep.Revocations = append(r.rep.Revocations, rev) }()
	r.logf("[%s] starting a second instance on the same Redis for revocation propagation", cfg)
	b, err := r.startService(ctx, cfg+"-second", append(slices.Clone(env),
		"ONESTROKE_DATA_DIR="+filepath.Join(r.workdir, cfg, "data-second"))) // the first holds its data dir's lock
	if err != nil {
		rev.Err = err.Error()
		return
	}
	defer b.p.stop(10 * time.Second)
	tokens, err := r.loginTokens(svc, mock, "revoke", revocationRounds)
	if err != nil {
		rev.Err = err.Error()
		return
	}
	me := func(s *service, token string) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url("/v2/me"), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		_, status, err := r.do(req)
		return status, err
	}
	for i, tok := range tokens {
		if ctx.Err() != nil {
			rev.Err = ctx.Err().Error()
			return
		}
		if status, err := me(b, tok); err != nil || status != http.StatusOK {
			rev.Err = fmt.Sprintf("token %d on the second instance before its logout: %d %v", i, status, err)
			return
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, svc.url("/v2/logout"), strings.NewReader(""))
		req.Header.Set("Authorization", "Bearer "+tok)
		if _, status, err := r.do(req); err != nil || status != http.StatusOK {
			rev.Err = fmt.Sprintf("logout %d: %d %v", i, status, err)
			return
		}
		done := time.Now()
		for {
			status, err := me(b, tok)
			if err != nil {
				rev.Err = err.Error()
				return
			}
			if status == http.StatusUnauthorized {
				rev.Samples = append(rev.Samples, time.Since(done))
				break
			}
			if time.Since(done) > revocationGiveUp {
				rev.Err = fmt.Sprintf("token %d still answered on the second instance %s after its logout", i, revocationGiveUp)
				return
			}
			time.Sleep(revocationPoll)
		}
	}
}

// evaluateRevocations prints p50 and p99 of each configuration's
// revocation propagation, judged against issue 12's 100 ms at p99.
func (rep *Report) evaluateRevocations() []Verdict {
	var out []Verdict
	for _, rev := range rep.Revocations {
		v := Verdict{Target: "revocation on one instance refused on the other (session cache on), " + rev.Config, Goal: "p99 ≤ 100 ms"}
		switch {
		case rev.Err != "":
			v.Measured, v.Verdict = "failed: "+rev.Err, verdictMiss
		case len(rev.Samples) == 0:
			v.Measured, v.Verdict = "no samples", verdictNA
		default:
			s := slices.Clone(rev.Samples)
			slices.Sort(s)
			p99 := quantile(s, 0.99)
			v.Measured = fmt.Sprintf("p50 %s, p99 %s, max %s (%d revocations, asked every %s)",
				fmtDur(quantile(s, 0.5)), fmtDur(p99), fmtDur(s[len(s)-1]), len(s), revocationPoll)
			v.Verdict = verdictMiss
			if p99 <= 100*time.Millisecond {
				v.Verdict = verdictPass
			}
		}
		out = append(out, v)
	}
	return out
}
