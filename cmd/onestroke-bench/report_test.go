package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// result makes a LoadResult of ok responses over 10 s, all of latency lat.
func result(ok, errs int64, lat time.Duration) LoadResult {
	h := newHist()
	_ = h.RecordValues(int64(lat/time.Microsecond), ok)
	r := LoadResult{OK: ok, Errors: errs, Elapsed: 10 * time.Second, Hist: h, BodyBytes: ok * 230, Statuses: map[int]int64{}}
	if errs > 0 {
		r.Statuses[401] = errs
		r.FirstError = "HTTP 401"
	}
	return r
}

func row(scenario, config string, conns int, res LoadResult) Row {
	return Row{Scenario: scenario, Config: config, Conns: conns, Ran: true, Res: res, CPUSvc: 1.2, CPUBench: 0.4, CPUDeps: 0.3}
}

// sampleReport: the ceiling at 20,000 req/s; Redis at 0.95 of it (pass),
// embedded at 1.6 (info); first-login 12,000 (pass) and 5,000 (miss); lists
// 2 ms vs 2.5 ms (1.25, pass) and 2 ms vs 8 ms (4, miss); fresh peak RSS
// 30 MiB (pass) and 70 MiB (miss).
func sampleReport() *Report {
	rep := &Report{
		Machine:       Machine{NProc: 2, CPUModel: "AMD EPYC", Kernel: "6.1", GoVersion: "go1.26", Date: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), Redis: "7.0.15"},
		Command:       "onestroke-bench run -d 10s",
		CeilingConfig: cfgRedis,
	}
	ceil64, ceil256 := row(scCeiling, cfgCeiling, 64, result(200000, 0, 3*time.Millisecond)), row(scCeiling, cfgCeiling, 256, result(200000, 0, 12*time.Millisecond))
	rep.Rows = append(rep.Rows, ceil64, ceil256)

	emb := []Row{
		row(scCached, cfgEmbedded, 64, result(320000, 0, 2*time.Millisecond)),
		row(scFirst, cfgEmbedded, 64, result(120000, 0, 5*time.Millisecond)),
		row(scList10, cfgEmbedded, 64, result(250000, 0, 2*time.Millisecond)),
		row(scList100, cfgEmbedded, 64, result(210000, 0, 2400*time.Microsecond)),
		row(scList10000, cfgEmbedded, 64, result(200000, 0, 2500*time.Microsecond)),
		row(scCached, cfgEmbedded, 256, result(380000, 0, 6*time.Millisecond)),
		row(scSave, cfgEmbedded, 64, result(4000, 0, 150*time.Millisecond)),
	}
	emb[5].FreshHWM, emb[5].HWMKB = true, 30*1024
	red := []Row{
		row(scCached, cfgRedis, 64, result(190000, 0, 3*time.Millisecond)),
		row(scFirst, cfgRedis, 64, result(50000, 0, 12*time.Millisecond)),
		row(scList10, cfgRedis, 64, result(130000, 0, 2*time.Millisecond)),
		row(scList10000, cfgRedis, 64, result(50000, 0, 8*time.Millisecond)),
		row(scCached, cfgRedis, 256, result(170000, 0, 14*time.Millisecond)),
	}
	red[4].FreshHWM, red[4].HWMKB = true, 70*1024
	rep.Rows = append(rep.Rows, emb...)
	rep.Rows = append(rep.Rows, red...)
	rep.Rows = append(rep.Rows,
		row(scPage10, cfgEmbedded, 64, result(300000, 0, 1000*time.Microsecond)),
		row(scPage10000, cfgEmbedded, 64, result(290000, 0, 1100*time.Microsecond)),
		row(scPage10, cfgRedis, 64, result(300000, 0, 1000*time.Microsecond)),
		row(scPage10000, cfgRedis, 64, result(200000, 0, 1500*time.Microsecond)))
	return rep
}

func verdictOf(t *testing.T, vs []Verdict, target string) Verdict {
	t.Helper()
	for _, v := range vs {
		if v.Target == target {
			return v
		}
	}
	t.Fatalf("no verdict %q among %+v", target, vs)
	return Verdict{}
}

func TestEvaluateTargets(t *testing.T) {
	vs := sampleReport().Evaluate(64, 256)
	for _, tc := range []struct {
		target, measured, verdict string
	}{
		{"cached / ceiling, 64 conns, redis", "0.95 (19,000 / 20,000 req/s)", "PASS"},
		{"cached / ceiling, 64 conns, embedded", "1.60 (32,000 / 20,000 req/s)", "info"},
		{"cached / ceiling, 256 conns, redis", "0.85 (17,000 / 20,000 req/s)", "info"},
		{"first-login rate, 64 conns, embedded", "12,000 req/s (3.08 × Node)", "PASS"},
		{"first-login rate, 64 conns, redis", "5,000 req/s (1.28 × Node)", "MISS"},
		{"list p50 at 10,000 / at 10 drawings, embedded", "1.25 (2.50 ms / 2.00 ms)", "PASS"},
		{"list p50 at 10,000 / at 10 drawings, redis", "4.00 (8.00 ms / 2.00 ms)", "MISS"},
		{"list p50 at 10,000 / at 100 drawings (pages of the same size), embedded", "1.04 (2.50 ms / 2.40 ms)", "info"},
		{"v2 first page p50 at 10,000 / at 10 drawings (pages of 10), embedded", "1.10 (1.10 ms / 1.00 ms)", "PASS"},
		{"v2 first page p50 at 10,000 / at 10 drawings (pages of 10), redis", "1.50 (1.50 ms / 1.00 ms)", "MISS"},
		{"peak RSS of a fresh service after 256 conns, embedded", "30.0 MiB", "PASS"},
		{"peak RSS of a fresh service after 256 conns, redis", "70.0 MiB", "MISS"},
	} {
		v := verdictOf(t, vs, tc.target)
		if v.Measured != tc.measured || v.Verdict != tc.verdict {
			t.Errorf("%s: got %q %s, want %q %s", tc.target, v.Measured, v.Verdict, tc.measured, tc.verdict)
		}
	}
}

func TestEvaluateMissesOnErrorsAndSaysWhatIsMissing(t *testing.T) {
	rep := sampleReport()
	rep.find(scCached, cfgRedis, 64).Res = result(190000, 7, 3*time.Millisecond) // 0.95, but with errors
	rep.find(scList10000, cfgEmbedded, 64).Partial = "only 2,000 drawings seeded"
	rep.Rows = append(rep.Rows, Row{Scenario: scFirst, Config: cfgMongo, Conns: 64, Note: "skipped: no Docker"})
	vs := rep.Evaluate(64, 256)

	if v := verdictOf(t, vs, "cached / ceiling, 64 conns, redis"); v.Verdict != "MISS (errors)" {
		t.Errorf("a ratio taken with errors: %s, want MISS (errors)", v.Verdict)
	}
	if v := verdictOf(t, vs, "list p50 at 10,000 / at 10 drawings, embedded"); v.Verdict != "n/a" || !strings.Contains(v.Measured, "only 2,000") {
		t.Errorf("a partial seeding: %q %s, want n/a with the reason", v.Measured, v.Verdict)
	}
	if v := verdictOf(t, vs, "first-login rate, 64 conns, redis+mongo"); v.Verdict != "n/a" || v.Measured != "skipped: no Docker" {
		t.Errorf("a skipped row: %q %s", v.Measured, v.Verdict)
	}
	if v := verdictOf(t, vs, "list p50 at 10,000 / at 10 drawings, redis+mongo"); v.Verdict != "n/a" || v.Measured != "not run" {
		t.Errorf("a row that does not exist: %q %s", v.Measured, v.Verdict)
	}

	// Another process on the machine during a judged figure is flagged.
	rep = sampleReport()
	rep.find(scFirst, cfgEmbedded, 64).CPUOther = 0.8
	if v := verdictOf(t, rep.Evaluate(64, 256), "first-login rate, 64 conns, embedded"); v.Verdict != "PASS (machine busy: repeat)" {
		t.Errorf("a figure taken on a busy machine: %s", v.Verdict)
	}

	// Without a ceiling, no ratio.
	rep = sampleReport()
	rep.Rows[0] = Row{Scenario: scCeiling, Config: cfgCeiling, Conns: 64, Note: "skipped: no Redis"}
	if v := verdictOf(t, rep.Evaluate(64, 256), "cached / ceiling, 64 conns, embedded"); v.Verdict != "n/a" || !strings.Contains(v.Measured, "no Redis") {
		t.Errorf("no ceiling: %q %s", v.Measured, v.Verdict)
	}
}

func TestWriteReport(t *testing.T) {
	rep := sampleReport()
	rep.Rows = append(rep.Rows, Row{Scenario: scCached, Config: cfgMongo, Conns: 64, Note: "skipped: no Docker engine | here"})
	rep.find(scFirst, cfgRedis, 64).Res.Exhausted = true
	rep.find(scCached, cfgEmbedded, 64).Res = result(320000, 3, 2*time.Millisecond)
	rep.Method = []string{"a method line"}
	var b bytes.Buffer
	rep.Write(&b, 64, 256)
	out := b.String()
	for _, want := range []string{
		"# onestroke load benchmark",
		"Taken 2026-11-25 12:00 UTC with `onestroke-bench run -d 10s`.",
		"| CPUs (nproc) | 2 |",
		"| MongoDB | not used in this run |",
		"- a method line",
		// 190,000 OK in 10 s; latencies; CPU 1.2 cores over 19,000 req/s = 63 µs/req; 230 B bodies.
		"| cached-session | redis | 64 | 19,000 | 3.00 ms | 3.00 ms | 0 | 63 | 1.20 / 0.40 / 0.30 / 0.00 | 230 B | — |",
		"| cached-session | redis | 256 | 17,000 | 14.0 ms | 14.0 ms | 0 | 71 | 1.20 / 0.40 / 0.30 / 0.00 | 230 B | 70.0 (fresh) |",
		"| first-login | redis | 64 | 5,000 | 12.0 ms | 12.0 ms | 0 (devices ran out) |",
		"| cached-session | redis+mongo | 64 | — | — |",
		"| cached / ceiling, 64 conns, redis | 0.95 (19,000 / 20,000 req/s) | ≥ 0.90 | **PASS** |",
		"| first-login rate, 64 conns, redis | 5,000 req/s (1.28 × Node), devices ran out: a lower bound |",
		"- cached-session, redis+mongo, 64 conns: skipped: no Docker engine | here",
		"- cached-session, embedded, 64 conns: errors 401×3 (first: HTTP 401)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// A table cell never breaks the table.
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| cached / ceiling") && strings.Count(line, "|")-strings.Count(line, `\|`) != 5 {
			t.Errorf("broken table row: %s", line)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

func TestFormatting(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{fmtRate(0), "0"},
		{fmtRate(999.4), "999"},
		{fmtRate(1000), "1,000"},
		{fmtRate(33012.6), "33,013"},
		{fmtRate(1234567), "1,234,567"},
		{fmtDur(0), "0 ms"},
		{fmtDur(412 * time.Microsecond), "0.412 ms"},
		{fmtDur(4120 * time.Microsecond), "4.12 ms"},
		{fmtDur(41200 * time.Microsecond), "41.2 ms"},
		{fmtDur(1527 * time.Millisecond), "1527 ms"},
		{fmtBytes(229), "229 B"},
		{fmtBytes(27500), "27.5 kB"},
		{fmtBytes(159000), "159.0 kB"},
		{fmtBytes(2.5e6), "2.5 MB"},
		{cell("a|b\nc"), `a\|b c`},
		{summarize("first line\nmiddle\nlast line"), "first line … last line"},
		{summarize("one line"), "one line"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	r := Row{Res: LoadResult{OK: 200000, Elapsed: 10 * time.Second}, CPUSvc: 1.0}
	if got := r.svcMicrosPerReq(); got != 50 {
		t.Errorf("1 core at 20,000 req/s = %v µs/req, want 50", got)
	}
}

func TestCeilingIsTheMeanOfItsRuns(t *testing.T) {
	rep := sampleReport()
	// A second ceiling run at 64 conns, 22,000 req/s: the ceiling is 21,000.
	rep.Rows = append(rep.Rows, row(scCeiling, cfgCeiling, 64, result(220000, 0, 3*time.Millisecond)))
	// A failed run does not count in the mean.
	rep.Rows = append(rep.Rows, Row{Scenario: scCeiling, Config: cfgCeiling, Conns: 64, Note: "FAILED: boom"})
	v := verdictOf(t, rep.Evaluate(64, 256), "cached / ceiling, 64 conns, redis")
	if want := "0.90 (19,000 / 21,000 req/s, the mean of 2 ceiling runs)"; v.Measured != want || v.Verdict != "PASS" {
		t.Errorf("got %q %s, want %q PASS", v.Measured, v.Verdict, want)
	}
	// Errors in any ceiling run spoil the ratio.
	rep.Rows[len(rep.Rows)-2].Res = result(220000, 5, 3*time.Millisecond)
	if v := verdictOf(t, rep.Evaluate(64, 256), "cached / ceiling, 64 conns, redis"); v.Verdict != "MISS (errors)" {
		t.Errorf("ceiling with errors: %s", v.Verdict)
	}
}

func TestEvaluate_ModernSessions(t *testing.T) {
	rep := sampleReport()
	rep.Rows = append(rep.Rows,
		row(scBearer, cfgRedis, 64, result(180000, 0, 3*time.Millisecond)),
		row(scBearer, cfgEmbedded, 64, result(300000, 0, 2*time.Millisecond)),
		row(scV2Login, cfgRedis, 64, result(40000, 0, 12*time.Millisecond)))
	vs := rep.Evaluate(64, 256)
	check := func(ok bool, format string, args ...any) {
		t.Helper()
		if !ok {
			t.Errorf(format, args...)
		}
	}
	v := verdictOf(t, vs, "cached bearer / ceiling, 64 conns, redis")
	check(v.Verdict == verdictPass && strings.Contains(v.Measured, "0.90"), "judged like the legacy cached path: %+v", v)
	rep.find(scBearer, cfgRedis, 64).Partial = "the service keeps its token sessions in memory"
	v = verdictOf(t, rep.Evaluate(64, 256), "cached bearer / ceiling, 64 conns, redis")
	check(v.Verdict == verdictNA && strings.Contains(v.Measured, "in memory"), "not held against the Redis ceiling: %+v", v)
	v = verdictOf(t, vs, "cached bearer / ceiling, 64 conns, embedded")
	check(v.Verdict == verdictInfo, "embedded is for information: %+v", v)
	v = verdictOf(t, vs, "v2 login rate beside the legacy first login, 64 conns, redis")
	check(v.Verdict == verdictInfo && strings.Contains(v.Measured, "legacy first login") && strings.Contains(v.Measured, "0.80 ×"), "beside the legacy: %+v", v)
	v = verdictOf(t, vs, "v2 login rate beside the legacy first login, 64 conns, embedded")
	check(v.Verdict == verdictNA, "not run: %+v", v)
}

func TestEvaluate_SessionCacheOnJudgedAgainstTheCeilingWithOffBesideIt(t *testing.T) {
	rep := sampleReport()
	rep.Rows = append(rep.Rows,
		row(scBearer, cfgRedis, 64, result(300000, 0, 2*time.Millisecond)),
		row(scBearerOff, cfgRedis, 64, result(150000, 0, 3*time.Millisecond)))
	vs := rep.Evaluate(64, 256)
	v := verdictOf(t, vs, "cached bearer (GET /v2/me) with the session cache / ceiling, 64 conns, redis")
	if v.Verdict != verdictPass || !strings.Contains(v.Measured, "1.50 on") || !strings.Contains(v.Measured, "0.75 off") {
		t.Errorf("on judged at 1.5 ×, off beside it: %+v", v)
	}
	v = verdictOf(t, vs, "cached-session with the session cache / ceiling, 64 conns, redis")
	if v.Verdict != verdictMiss || !strings.Contains(v.Measured, "off: not run") {
		t.Errorf("the sample's 0.90 misses 1.5, and the missing off row is said: %+v", v)
	}
	for _, x := range vs {
		if strings.Contains(x.Target, "session cache") && strings.Contains(x.Target, cfgEmbedded) {
			t.Errorf("embedded has no session cache: %+v", x)
		}
	}
}

func TestEvaluate_NginxTwoInstancesBesideOne(t *testing.T) {
	rep := sampleReport()
	rep.Rows = append(rep.Rows,
		row(scBearer, cfgRedis, 64, result(180000, 0, 3*time.Millisecond)),
		row(scCachedNginx1, cfgRedis, 64, result(100000, 0, 6*time.Millisecond)),
		row(scBearerNginx1, cfgRedis, 64, result(90000, 0, 7*time.Millisecond)),
		row(scCachedNginx2, cfgRedis, 64, result(130000, 0, 5*time.Millisecond)),
		row(scBearerNginx2, cfgRedis, 64, result(99000, 3, 6*time.Millisecond)))
	vs := rep.Evaluate(64, 256)
	busy := rep.find(scCachedNginx1, cfgRedis, 64)
	busy.CPUOther = 1
	if v := verdictOf(t, rep.Evaluate(64, 256), "cached-session via nginx, 2 instances / 1 instance, 64 conns, redis"); v.Verdict != verdictInfo+" (machine busy: repeat)" {
		t.Errorf("a ratio taken while something else used the machine says so: %+v", v)
	}
	busy.CPUOther = 0
	v := verdictOf(t, vs, "cached-session via nginx, 2 instances / 1 instance, 64 conns, redis")
	if v.Verdict != verdictInfo || v.Measured != "1.30 (13,000 / 10,000 req/s; direct to one instance 19,000 req/s)" {
		t.Errorf("the ratio 2/1, the direct figure beside it, for information: %+v", v)
	}
	v = verdictOf(t, vs, "cached bearer (GET /v2/me) via nginx, 2 instances / 1 instance, 64 conns, redis")
	if v.Verdict != verdictMiss+" (errors)" || !strings.HasPrefix(v.Measured, "1.10 (9,900 / 9,000 req/s") {
		t.Errorf("a row with errors is no figure to quote: %+v", v)
	}
	for _, x := range vs {
		if strings.Contains(x.Target, "via nginx") && strings.Contains(x.Target, cfgEmbedded) {
			t.Errorf("embedded runs no rows through nginx, so no verdict: %+v", x)
		}
	}

	var buf bytes.Buffer
	rep.Write(&buf, 64, 256)
	for _, want := range []string{
		"| cached-session via nginx, 1 instance | redis | 64 | 10,000 |",
		"| cached-session via nginx, 2 instances | redis | 64 | 13,000 |",
		"| cached bearer (GET /v2/me) via nginx, 1 instance | redis | 64 | 9,000 |",
		"| cached bearer (GET /v2/me) via nginx, 2 instances | redis | 64 | 9,900 |",
		"| cached-session via nginx, 2 instances / 1 instance, 64 conns, redis | 1.30 (13,000 / 10,000 req/s; direct to one instance 19,000 req/s) | — | **info** |",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestEvaluate_NginxMissingIsSaidNotFailed(t *testing.T) {
	rep := sampleReport()
	why := "skipped: nginx not found (scripts/testworld.sh installs nginx-light)"
	for _, sc := range []string{scCachedNginx1, scBearerNginx1, scCachedNginx2, scBearerNginx2} {
		rep.Rows = append(rep.Rows, Row{Scenario: sc, Config: cfgRedis, Conns: 64, Note: why})
	}
	v := verdictOf(t, rep.Evaluate(64, 256), "cached-session via nginx, 2 instances / 1 instance, 64 conns, redis")
	if v.Verdict != verdictNA || v.Measured != "1 instance: "+why {
		t.Errorf("the reason, not a verdict: %+v", v)
	}
	var buf bytes.Buffer
	rep.Write(&buf, 64, 256)
	if !strings.Contains(buf.String(), "- cached-session via nginx, 1 instance, redis, 64 conns: "+why) {
		t.Errorf("the notes say why:\n%s", buf.String())
	}
}
