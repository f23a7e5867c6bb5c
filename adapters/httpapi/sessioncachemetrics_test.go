package httpapi_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/onestroke/onestroke/adapters/httpapi"
)

func TestSessionCacheMetrics_ReadTheCacheAtScrapeTime(t *testing.T) {
	reg := httpapi.NewRegistry()
	st := httpapi.CacheStats{Hits: 7, Misses: 3, Fills: 2, Refused: 1, Entries: 2, Up: true}
	httpapi.SessionCacheMetrics(reg, func() httpapi.CacheStats { return st })
	got := gathered(t, reg)
	for name, want := range map[string]float64{
		"onestroke_session_cache_hits_total": 7, "onestroke_session_cache_misses_total": 3,
		"onestroke_session_cache_fills_total": 2, "onestroke_session_cache_refused_fills_total": 1,
		"onestroke_session_cache_entries": 2, "onestroke_session_cache_up": 1,
	} {
		assert.Equal(t, want, got[name], name)
	}
	st = httpapi.CacheStats{Hits: 9}
	got = gathered(t, reg)
	assert.Equal(t, 9.0, got["onestroke_session_cache_hits_total"], "read again at the next scrape")
	assert.Equal(t, 0.0, got["onestroke_session_cache_up"], "the channel down")
	assert.Equal(t, 0.0, got["onestroke_session_cache_entries"])
}
