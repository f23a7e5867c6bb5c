package httpapi_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/httpapi"
	"github.com/onestroke/onestroke/app"
)

// gathered returns every series of reg as "name{outcome}" → value.
func gathered(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "{" + l.GetValue() + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func TestAccessTokenMetrics_CountFetchesAndForcedRefreshesAndTellTheRemainingLife(t *testing.T) {
	const (
		fetches   = "onestroke_wechat_access_token_fetches_total"
		forced    = "onestroke_wechat_access_token_forced_refreshes_total"
		remaining = "onestroke_wechat_access_token_remaining_seconds"
	)
	reg := prometheus.NewRegistry()
	observe := httpapi.AccessTokenMetrics(reg)

	got := gathered(t, reg)
	for _, o := range app.AccessTokenOutcomes {
		for _, name := range []string{fetches, forced} {
			v, ok := got[name+"{"+string(o)+"}"]
			assert.True(t, ok, "%s{%s} exists before it first counts", name, o)
			assert.Zero(t, v)
		}
	}
	assert.Len(t, got, 2*len(app.AccessTokenOutcomes)+1)
	assert.Zero(t, got[remaining], "0 before the first token")

	observe(app.AccessTokenEvent{Kind: app.AccessTokenFetch, Outcome: app.AccessTokenOK})
	observe(app.AccessTokenEvent{Kind: app.AccessTokenFetch, Outcome: app.AccessTokenUnavailable})
	observe(app.AccessTokenEvent{Kind: app.AccessTokenFetch, Outcome: app.AccessTokenOK})
	observe(app.AccessTokenEvent{Kind: app.AccessTokenForcedRefresh, Outcome: app.AccessTokenRateLimited})
	observe(app.AccessTokenEvent{Kind: app.AccessTokenForcedRefresh, Outcome: "made-up"}) // ignored: a fixed set of labels
	observe(app.AccessTokenEvent{Kind: "made-up", Outcome: app.AccessTokenOK})
	observe(app.AccessTokenEvent{Kind: app.AccessTokenInUse, Expires: time.Now().Add(2 * time.Hour)})

	got = gathered(t, reg)
	assert.Equal(t, map[string]float64{
		fetches + "{ok}": 2, fetches + "{unavailable}": 1, fetches + "{rate_limited}": 0,
		forced + "{ok}": 0, forced + "{unavailable}": 0, forced + "{rate_limited}": 1,
		remaining: got[remaining],
	}, got)
	assert.InDelta(t, 7200, got[remaining], 5, "the life left, at scrape time")

	observe(app.AccessTokenEvent{Kind: app.AccessTokenInUse, Expires: time.Now().Add(-time.Minute)})
	assert.Zero(t, gathered(t, reg)[remaining], "never below 0")
}
