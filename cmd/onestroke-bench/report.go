package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Scenario and configuration names, as the report prints them.
const (
	scCeiling = "ceiling (GET)"
	scCached  = "cached-session"
	scFirst   = "first-login"
	// The modern sessions (issue 10): a Bearer request on the cached path,
	// and POST /v2/login with a new code.
	scBearer  = "cached bearer (GET /v2/me)"
	scV2Login = "v2 login (POST /v2/login)"
	// The same cached paths on a service started with the session cache
	// off (issue 12: the figure with the cache off beside the one on).
	scCachedOff = "cached-session, session cache off"
	scBearerOff = "cached bearer (GET /v2/me), session cache off"
	// The same cached paths through nginx (the production template, plain
	// HTTP) in front of one instance, then two on the same Redis (issue 12).
	scCachedNginx1 = "cached-session via nginx, 1 instance"
	scCachedNginx2 = "cached-session via nginx, 2 instances"
	scBearerNginx1 = "cached bearer (GET /v2/me) via nginx, 1 instance"
	scBearerNginx2 = "cached bearer (GET /v2/me) via nginx, 2 instances"
	scSave         = "save 2,000 actions"
	scList10       = "list, 10 drawings"
	scList100      = "list, 100 drawings"
	scList10000    = "list, 10,000 drawings"
	// The v2 pages (issue 13): GET /v2/drawings?limit=10 with a token, of
	// the users of list, 10 drawings and 10,000.
	scPage10    = "v2 first page, 10 drawings"
	scPage10000 = "v2 first page, 10,000 drawings"
	// The PNG route (issue 13): GET /v2/drawings/{id}.png?w=256 of one
	// drawing of 2,000 actions, kept in the rendering cache, then drawn on
	// every request by a service with the cache off.
	scPNGKept  = "v2 PNG w=256 of 2,000 actions, rendering cache on"
	scPNGDrawn = "v2 PNG w=256 of 2,000 actions, drawn every time (cache off)"
	scSlowList = "slow readers of a list of 100 × 1 MiB"
	// The floor: the service's list answers served by a bare server.
	scFloor10    = "list answer of 10 drawings"
	scFloor10000 = "list answer of 10,000 drawings"

	cfgCeiling  = "ceiling"
	cfgBare     = "bare server"
	cfgEmbedded = "embedded"
	cfgRedis    = "redis"
	cfgMongo    = "redis+mongo"
)

// The targets of issue 5.
const (
	goalCachedRatio = 0.9    // cached path ≥ 0.9 × ceiling
	nodeFirstLogin  = 3900.0 // the original Node service's first-login rate
	goalFirstLogin  = 3 * nodeFirstLogin
	goalCacheRatio  = 1.5     // issue 12: cached path with the session cache on ≥ 1.5 × ceiling
	goalListRatio   = 1.5     // list at 10,000 drawings ≤ 1.5 × the time at 10
	goalPageRatio   = 1.2     // issue 13: v2 first page at 10,000 drawings ≤ 1.2 × at 10
	goalPeakRSSMiB  = 64.0    // peak RSS at 256 connections
	goalSlowListMiB = 256.0   // peak RSS of the slow readers of a page of big drawings
	nodeCachedRate  = 9000.0  // for reference only
	refCeilingRate  = 33000.0 // the ceiling the issue quotes, for reference only

	verdictPass = "PASS"
	verdictMiss = "MISS"
	verdictNA   = "n/a"
	verdictInfo = "info"
)

// Machine describes where the figures were taken.
type Machine struct {
	NProc     int
	CPUModel  string
	Memory    string
	Kernel    string
	GoVersion string
	Date      time.Time
	Git       string
	Redis     string // redis-server version, or why there is none
	Mongo     string // the MongoDB image and what it is, or why there is none
	Nginx     string // nginx's version, when the rows through nginx ran
}

// Row is one scenario against one configuration.
type Row struct {
	Scenario string
	Config   string
	Conns    int
	Ran      bool // false: skipped or failed, Note says why
	Res      LoadResult
	// HWMKB is the server's VmHWM (peak resident set, KiB) read after the
	// scenario: cumulative since the process started, unless FreshHWM says
	// the process was started for this scenario alone.
	HWMKB    int64
	FreshHWM bool
	// CPU used during the measured window, in cores: the server under test,
	// the orchestrator (generator and mock WeChat), the stores (Redis, the
	// MongoDB container), and everything else (the machine's busy time less
	// those three).
	CPUSvc, CPUBench, CPUDeps, CPUOther float64
	Note                                string
	// Partial, when set, says why the row cannot be held against its
	// target (e.g. fewer drawings seeded than the target names).
	Partial string
}

// svcMicrosPerReq is the server's CPU time per 2xx response.
func (r Row) svcMicrosPerReq() float64 {
	rate := r.Res.ReqPerSec()
	if rate == 0 {
		return 0
	}
	return r.CPUSvc * 1e6 / rate
}

// Verdict is one target checked against the figures.
type Verdict struct {
	Target, Measured, Goal, Verdict string
}

// Report is everything a run prints.
type Report struct {
	Machine Machine
	Command string
	Method  []string
	Rows    []Row
	Notes   []string
	// Revocations are the revocation-propagation measurements, one per
	// configuration with Redis sessions.
	Revocations []Revocation
	// CeilingConfig is the configuration whose cached-session the ceiling
	// was measured around; only its ratio is judged.
	CeilingConfig string
}

func (rep *Report) find(scenario, config string, conns int) *Row {
	for i := range rep.Rows {
		r := &rep.Rows[i]
		if r.Scenario == scenario && r.Config == config && r.Conns == conns {
			return r
		}
	}
	return nil
}

// ceilingRate returns the ceiling at conns: the mean rate of its usable
// rows there (it is measured just before and just after the service's
// cached-session, to cancel the machine's drift), those rows, and why there
// is none.
func (rep *Report) ceilingRate(conns int) (float64, []*Row, string) {
	var rows []*Row
	var sum float64
	why := "not run"
	for i := range rep.Rows {
		r := &rep.Rows[i]
		if r.Scenario != scCeiling || r.Config != cfgCeiling || r.Conns != conns {
			continue
		}
		if ok, w := usable(r); !ok {
			why = w
			continue
		}
		rows = append(rows, r)
		sum += r.Res.ReqPerSec()
	}
	if len(rows) == 0 {
		return 0, nil, why
	}
	return sum / float64(len(rows)), rows, ""
}

// configs returns the service configurations in the order they ran.
func (rep *Report) configs() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rep.Rows {
		if r.Config != cfgCeiling && r.Config != cfgBare && !seen[r.Config] {
			seen[r.Config] = true
			out = append(out, r.Config)
		}
	}
	return out
}

// usable reports whether a row has figures to judge, and why not.
func usable(r *Row) (bool, string) {
	switch {
	case r == nil:
		return false, "not run"
	case !r.Ran && strings.HasPrefix(r.Note, "skipped"):
		return false, r.Note
	case !r.Ran:
		return false, "failed (see the notes)"
	case r.Res.OK == 0:
		return false, "no successful request"
	}
	return true, ""
}

// otherLoadWarn is the CPU (in cores) that processes outside the benchmark
// may use during a window before its figures are flagged.
const otherLoadWarn = 0.25

// judge turns a comparison into PASS or MISS; a figure taken while the
// server answered errors does not pass, and one taken while something else
// used the machine says so.
func judge(ok bool, rows ...*Row) string {
	v := verdictMiss
	if ok {
		v = verdictPass
	}
	for _, r := range rows {
		if r.Res.Errors > 0 {
			return verdictMiss + " (errors)"
		}
	}
	for _, r := range rows {
		if r.CPUOther > otherLoadWarn {
			return v + " (machine busy: repeat)"
		}
	}
	return v
}

// evaluateSessionCache judges the cached paths of both protocols with the
// session cache on (the service's default with Redis) against the ceiling
// (issue 12: ≥ 1.5 ×), the figure with the cache off beside it. Only the
// configuration the ceiling was measured next to is judged.
func (rep *Report) evaluateSessionCache(conns int) []Verdict {
	var out []Verdict
	ceil, ceilRows, whyC := rep.ceilingRate(conns)
	for _, sc := range [][2]string{{scCached, scCachedOff}, {scBearer, scBearerOff}} {
		for _, cfg := range rep.configs() {
			if cfg == cfgEmbedded {
				continue // no session cache: the stores are in-process already
			}
			v := Verdict{
				Target: fmt.Sprintf("%s with the session cache / ceiling, %d conns, %s", sc[0], conns, cfg),
				Goal:   fmt.Sprintf("≥ %.2f", goalCacheRatio),
			}
			on, off := rep.find(sc[0], cfg, conns), rep.find(sc[1], cfg, conns)
			okOn, whyOn := usable(on)
			switch {
			case !okOn:
				v.Measured, v.Verdict = whyOn, verdictNA
			case ceilRows == nil:
				v.Measured, v.Verdict = "ceiling "+whyC, verdictNA
			default:
				ratio := on.Res.ReqPerSec() / ceil
				v.Measured = fmt.Sprintf("%.2f on (%s req/s)", ratio, fmtRate(on.Res.ReqPerSec()))
				if okOff, whyOff := usable(off); okOff {
					v.Measured += fmt.Sprintf(", %.2f off (%s req/s)", off.Res.ReqPerSec()/ceil, fmtRate(off.Res.ReqPerSec()))
				} else {
					v.Measured += ", off: " + whyOff
				}
				v.Measured += fmt.Sprintf(" / %s req/s", fmtRate(ceil))
				v.Verdict = judge(ratio >= goalCacheRatio, append([]*Row{on}, ceilRows...)...)
				if rep.CeilingConfig != "" && cfg != rep.CeilingConfig {
					v.Verdict = verdictInfo
				}
				if on.Partial != "" {
					v.Measured += "; " + on.Partial
					v.Verdict = verdictNA
				}
			}
			out = append(out, v)
		}
	}
	return out
}

// evaluateNginx prints, for information, each cached path through nginx
// to two instances beside the same through nginx to one: the ratio 2/1 is
// what the second instance adds on this machine (issue 12 sets no goal).
func (rep *Report) evaluateNginx(conns int) []Verdict {
	var out []Verdict
	for _, sc := range [][3]string{{scCached, scCachedNginx1, scCachedNginx2}, {scBearer, scBearerNginx1, scBearerNginx2}} {
		for _, cfg := range rep.configs() {
			one, two := rep.find(sc[1], cfg, conns), rep.find(sc[2], cfg, conns)
			if one == nil && two == nil {
				continue // not a configuration that runs them
			}
			v := Verdict{
				Target: fmt.Sprintf("%s via nginx, 2 instances / 1 instance, %d conns, %s", sc[0], conns, cfg),
				Goal:   "—",
			}
			okOne, whyOne := usable(one)
			okTwo, whyTwo := usable(two)
			switch {
			case !okOne:
				v.Measured, v.Verdict = "1 instance: "+whyOne, verdictNA
			case !okTwo:
				v.Measured, v.Verdict = "2 instances: "+whyTwo, verdictNA
			default:
				v.Measured = fmt.Sprintf("%.2f (%s / %s req/s", two.Res.ReqPerSec()/one.Res.ReqPerSec(), fmtRate(two.Res.ReqPerSec()), fmtRate(one.Res.ReqPerSec()))
				if direct, _ := usable(rep.find(sc[0], cfg, conns)); direct {
					d := rep.find(sc[0], cfg, conns).Res.ReqPerSec()
					v.Measured += fmt.Sprintf("; direct to one instance %s req/s", fmtRate(d))
				}
				v.Measured += ")"
				// judge's flags (errors, a busy machine) on an info verdict.
				v.Verdict = strings.Replace(judge(true, one, two), verdictPass, verdictInfo, 1)
			}
			out = append(out, v)
		}
	}
	return out
}

// Evaluate checks the targets: cached path against the ceiling at
// conns, first-login rate, list time at 10,000 vs 10 drawings, and the
// peak RSS of a fresh service at connsHigh.
func (rep *Report) Evaluate(conns, connsHigh int) []Verdict {
	var out []Verdict
	for _, n := range []int{conns, connsHigh} {
		ceil, ceilRows, whyC := rep.ceilingRate(n)
		for _, cfg := range rep.configs() {
			v := Verdict{
				Target: fmt.Sprintf("cached / ceiling, %d conns, %s", n, cfg),
				Goal:   fmt.Sprintf("≥ %.2f", goalCachedRatio),
			}
			svc := rep.find(scCached, cfg, n)
			okS, whyS := usable(svc)
			switch {
			case !okS:
				v.Measured, v.Verdict = whyS, verdictNA
			case ceilRows == nil:
				v.Measured, v.Verdict = "ceiling "+whyC, verdictNA
			default:
				ratio := svc.Res.ReqPerSec() / ceil
				v.Measured = fmt.Sprintf("%.2f (%s / %s req/s)", ratio, fmtRate(svc.Res.ReqPerSec()), fmtRate(ceil))
				if len(ceilRows) > 1 {
					v.Measured = fmt.Sprintf("%.2f (%s / %s req/s, the mean of %d ceiling runs)", ratio, fmtRate(svc.Res.ReqPerSec()), fmtRate(ceil), len(ceilRows))
				}
				v.Verdict = judge(ratio >= goalCachedRatio, append([]*Row{svc}, ceilRows...)...)
				// The ceiling is a Redis GET: the like-for-like comparison is
				// a service with Redis sessions at the 64 connections,
				// in the configuration the ceiling was measured next to. The
				// rest is shown for information.
				judged := cfg != cfgEmbedded && (rep.CeilingConfig == "" || cfg == rep.CeilingConfig)
				if !judged || n != conns {
					v.Verdict = verdictInfo
				}
			}
			out = append(out, v)
		}
	}
	for _, cfg := range rep.configs() {
		v := Verdict{
			Target: fmt.Sprintf("first-login rate, %d conns, %s", conns, cfg),
			Goal:   fmt.Sprintf("≥ %s req/s (3 × %s)", fmtRate(goalFirstLogin), fmtRate(nodeFirstLogin)),
		}
		r := rep.find(scFirst, cfg, conns)
		if ok, why := usable(r); !ok {
			v.Measured, v.Verdict = why, verdictNA
		} else {
			v.Measured = fmt.Sprintf("%s req/s (%.2f × Node)", fmtRate(r.Res.ReqPerSec()), r.Res.ReqPerSec()/nodeFirstLogin)
			v.Verdict = judge(r.Res.ReqPerSec() >= goalFirstLogin, r)
			if r.Res.Exhausted {
				v.Measured += ", devices ran out: a lower bound"
			}
		}
		out = append(out, v)
	}
	// The modern sessions: the Bearer cached path against the same ceiling,
	// judged like the legacy one; v2 logins beside the legacy first logins.
	{
		ceil, ceilRows, whyC := rep.ceilingRate(conns)
		for _, cfg := range rep.configs() {
			v := Verdict{
				Target: fmt.Sprintf("cached bearer / ceiling, %d conns, %s", conns, cfg),
				Goal:   fmt.Sprintf("≥ %.2f", goalCachedRatio),
			}
			svc := rep.find(scBearer, cfg, conns)
			switch ok, why := usable(svc); {
			case !ok:
				v.Measured, v.Verdict = why, verdictNA
			case ceilRows == nil:
				v.Measured, v.Verdict = "ceiling "+whyC, verdictNA
			default:
				ratio := svc.Res.ReqPerSec() / ceil
				v.Measured = fmt.Sprintf("%.2f (%s / %s req/s)", ratio, fmtRate(svc.Res.ReqPerSec()), fmtRate(ceil))
				v.Verdict = judge(ratio >= goalCachedRatio, append([]*Row{svc}, ceilRows...)...)
				if cfg == cfgEmbedded || (rep.CeilingConfig != "" && cfg != rep.CeilingConfig) {
					v.Verdict = verdictInfo
				}
				if svc.Partial != "" {
					v.Measured += "; " + svc.Partial
					v.Verdict = verdictNA
				}
			}
			out = append(out, v)
		}
	}
	out = append(out, rep.evaluateSessionCache(conns)...)
	out = append(out, rep.evaluateNginx(conns)...)
	out = append(out, rep.evaluateRevocations()...)
	for _, cfg := range rep.configs() {
		v := Verdict{Target: fmt.Sprintf("v2 login rate beside the legacy first login, %d conns, %s", conns, cfg), Goal: "—"}
		r, legacy := rep.find(scV2Login, cfg, conns), rep.find(scFirst, cfg, conns)
		if ok, why := usable(r); !ok {
			v.Measured, v.Verdict = why, verdictNA
		} else {
			v.Measured, v.Verdict = fmt.Sprintf("%s req/s", fmtRate(r.Res.ReqPerSec())), verdictInfo
			if okL, _ := usable(legacy); okL {
				v.Measured += fmt.Sprintf(" (legacy first login %s req/s: %.2f ×)", fmtRate(legacy.Res.ReqPerSec()), r.Res.ReqPerSec()/legacy.Res.ReqPerSec())
			}
			if r.Res.Exhausted {
				v.Measured += ", codes ran out: a lower bound"
			}
			if r.Res.Errors > 0 {
				v.Verdict = verdictMiss + " (errors)"
			}
		}
		out = append(out, v)
	}
	for _, cfg := range rep.configs() {
		out = append(out, p50RatioVerdict(fmt.Sprintf("list p50 at 10,000 / at 10 drawings, %s", cfg), goalListRatio,
			rep.find(scList10000, cfg, conns), rep.find(scList10, cfg, conns)))
	}
	for _, cfg := range rep.configs() {
		out = append(out, p50RatioVerdict(fmt.Sprintf("v2 first page p50 at 10,000 / at 10 drawings (pages of 10), %s", cfg), goalPageRatio,
			rep.find(scPage10000, cfg, conns), rep.find(scPage10, cfg, conns)))
	}
	// For information: the least any server pays to send those two answers.
	if big, small := rep.find(scFloor10000, cfgBare, conns), rep.find(scFloor10, cfgBare, conns); big != nil && small != nil {
		if okB, _ := usable(big); okB {
			if okS, _ := usable(small); okS {
				ratio := float64(big.Res.P50()) / float64(small.Res.P50())
				out = append(out, Verdict{
					Target:   "list p50 at 10,000 / at 10 drawings, a bare net/http server sending the same two answers (the floor)",
					Measured: fmt.Sprintf("%.2f (%s / %s)", ratio, fmtDur(big.Res.P50()), fmtDur(small.Res.P50())),
					Goal:     "—", Verdict: verdictInfo,
				})
			}
		}
	}
	for _, cfg := range rep.configs() {
		// For information: the same page size, 100 times the drawings.
		big, mid := rep.find(scList10000, cfg, conns), rep.find(scList100, cfg, conns)
		if okB, _ := usable(big); okB {
			if okM, _ := usable(mid); okM {
				ratio := float64(big.Res.P50()) / float64(mid.Res.P50())
				out = append(out, Verdict{
					Target:   fmt.Sprintf("list p50 at 10,000 / at 100 drawings (pages of the same size), %s", cfg),
					Measured: fmt.Sprintf("%.2f (%s / %s)", ratio, fmtDur(big.Res.P50()), fmtDur(mid.Res.P50())),
					Goal:     "—", Verdict: verdictInfo,
				})
			}
		}
	}
	for _, cfg := range rep.configs() {
		v := Verdict{
			Target: fmt.Sprintf("peak RSS of a fresh service after %d conns, %s", connsHigh, cfg),
			Goal:   fmt.Sprintf("≤ %.0f MiB", goalPeakRSSMiB),
		}
		r := rep.find(scCached, cfg, connsHigh)
		switch ok, why := usable(r); {
		case !ok:
			v.Measured, v.Verdict = why, verdictNA
		case !r.FreshHWM || r.HWMKB == 0:
			v.Measured, v.Verdict = "no fresh VmHWM reading", verdictNA
		default:
			mib := float64(r.HWMKB) / 1024
			v.Measured = fmt.Sprintf("%.1f MiB", mib)
			v.Verdict = judge(mib <= goalPeakRSSMiB, r)
		}
		out = append(out, v)
	}
	for _, cfg := range rep.configs() {
		for i := range rep.Rows {
			r := &rep.Rows[i]
			if r.Scenario != scSlowList || r.Config != cfg {
				continue
			}
			v := Verdict{
				Target: fmt.Sprintf("peak RSS of a fresh service serving %d slow readers of a list of 100 drawings of 1 MiB (2 MiB quoted), %s", r.Conns, cfg),
				Goal:   fmt.Sprintf("≤ %.0f MiB", goalSlowListMiB),
			}
			switch ok, why := usable(r); {
			case !ok:
				v.Measured, v.Verdict = why, verdictNA
			case r.HWMKB == 0:
				v.Measured, v.Verdict = "no VmHWM reading", verdictNA
			default:
				mib := float64(r.HWMKB) / 1024
				v.Measured = fmt.Sprintf("%.1f MiB", mib)
				v.Verdict = judge(mib <= goalSlowListMiB)
				if r.Res.Errors > 0 {
					v.Verdict = verdictMiss + " (errors)"
				}
			}
			out = append(out, v)
		}
	}
	return out
}

// Write renders the report as Markdown.
func (rep *Report) Write(w io.Writer, conns, connsHigh int) {
	m := rep.Machine
	fmt.Fprintf(w, "# onestroke load benchmark\n\n")
	fmt.Fprintf(w, "Taken %s", m.Date.UTC().Format("2006-01-02 15:04 MST"))
	if m.Git != "" {
		fmt.Fprintf(w, " on %s", m.Git)
	}
	fmt.Fprintf(w, " with `%s`.\n\n", rep.Command)

	fmt.Fprintf(w, "## Machine\n\n| | |\n|---|---|\n")
	fmt.Fprintf(w, "| CPUs (nproc) | %d |\n| CPU model | %s |\n| memory | %s |\n| kernel | %s |\n| Go | %s |\n| redis-server | %s |\n| MongoDB | %s |\n| nginx | %s |\n\n",
		m.NProc, cell(m.CPUModel), cell(m.Memory), cell(m.Kernel), cell(m.GoVersion), cell(orNotRun(m.Redis)), cell(orNotRun(m.Mongo)), cell(orNotRun(m.Nginx)))

	if len(rep.Method) > 0 {
		fmt.Fprintf(w, "## Method\n\n")
		for _, s := range rep.Method {
			fmt.Fprintf(w, "- %s\n", s)
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "## Results\n\n")
	fmt.Fprintf(w, "| scenario | config | conns | req/s | p50 | p99 | errors | server CPU µs/req | CPU cores: server / bench / stores / other | response | server VmHWM MiB |\n")
	fmt.Fprintf(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rep.Rows {
		if !r.Ran {
			fmt.Fprintf(w, "| %s | %s | %d | — | — | — | — | — | — | — | — |\n", r.Scenario, r.Config, r.Conns)
			continue
		}
		hwm := "—"
		if r.HWMKB > 0 {
			hwm = fmt.Sprintf("%.1f", float64(r.HWMKB)/1024)
			if r.FreshHWM {
				hwm += " (fresh)"
			}
		}
		errs := fmt.Sprint(r.Res.Errors)
		if r.Res.Exhausted {
			errs += " (devices ran out)"
		}
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %s | %.0f | %.2f / %.2f / %.2f / %.2f | %s | %s |\n",
			r.Scenario, r.Config, r.Conns, fmtRate(r.Res.ReqPerSec()), fmtDur(r.Res.P50()), fmtDur(r.Res.P99()),
			errs, r.svcMicrosPerReq(), r.CPUSvc, r.CPUBench, r.CPUDeps, r.CPUOther, fmtBytes(r.avgResponse()), hwm)
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "## Targets\n\n| target | measured | goal | verdict |\n|---|---|---|---|\n")
	for _, v := range rep.Evaluate(conns, connsHigh) {
		fmt.Fprintf(w, "| %s | %s | %s | **%s** |\n", cell(v.Target), cell(v.Measured), cell(v.Goal), v.Verdict)
	}
	fmt.Fprintln(w)

	var notes []string
	for _, r := range rep.Rows {
		if r.Note != "" {
			notes = append(notes, fmt.Sprintf("%s, %s, %d conns: %s", r.Scenario, r.Config, r.Conns, r.Note))
		}
		if s := r.Res.ErrorSummary(); s != "" {
			notes = append(notes, fmt.Sprintf("%s, %s, %d conns: errors %s", r.Scenario, r.Config, r.Conns, s))
		}
	}
	notes = append(notes, rep.Notes...)
	if len(notes) > 0 {
		fmt.Fprintf(w, "## Notes\n\n")
		for _, s := range notes {
			fmt.Fprintf(w, "- %s\n", strings.ReplaceAll(s, "\n", " "))
		}
		fmt.Fprintln(w)
	}
}

func (r Row) avgResponse() float64 {
	if r.Res.OK == 0 {
		return 0
	}
	return float64(r.Res.BodyBytes) / float64(r.Res.OK)
}

func orNotRun(s string) string {
	if s == "" {
		return "not used in this run"
	}
	return s
}

// cell keeps a value from breaking a Markdown table.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// fmtRate prints a rate with thousands separators: 31,234.
func fmtRate(v float64) string {
	n := int64(math.Round(v))
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fmtDur prints a latency in milliseconds with about three significant
// digits: 0.412 ms, 4.12 ms, 41.2 ms, 412 ms.
func fmtDur(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case d == 0:
		return "0 ms"
	case ms < 1:
		return fmt.Sprintf("%.3f ms", ms)
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f ms", ms)
	default:
		return fmt.Sprintf("%.0f ms", ms)
	}
}

// fmtBytes prints a size: 312 B, 12.3 kB, 1.2 MB (powers of 1000).
func fmtBytes(v float64) string {
	switch {
	case v < 1000:
		return fmt.Sprintf("%.0f B", v)
	case v < 1e6:
		return fmt.Sprintf("%.1f kB", v/1e3)
	default:
		return fmt.Sprintf("%.1f MB", v/1e6)
	}
}

// p50RatioVerdict judges big's p50 against small's: at most goal times it.
// A row that is missing or unusable, or a big row measured on fewer
// drawings than the target names (Partial), makes the verdict n/a.
func p50RatioVerdict(target string, goal float64, big, small *Row) Verdict {
	v := Verdict{Target: target, Goal: fmt.Sprintf("≤ %.1f", goal)}
	okB, whyB := usable(big)
	okS, whyS := usable(small)
	switch {
	case !okB:
		v.Measured, v.Verdict = whyB, verdictNA
	case !okS:
		v.Measured, v.Verdict = whyS, verdictNA
	default:
		ratio := float64(big.Res.P50()) / float64(small.Res.P50())
		v.Measured = fmt.Sprintf("%.2f (%s / %s)", ratio, fmtDur(big.Res.P50()), fmtDur(small.Res.P50()))
		v.Verdict = judge(ratio <= goal, big, small)
		if big.Partial != "" {
			v.Measured += "; " + big.Partial
			v.Verdict = verdictNA
		}
	}
	return v
}
