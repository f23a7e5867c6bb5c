package domain_test

import (
	"testing"
	"time"

	"github.com/onestroke/onestroke/domain"
)

func TestForcedRefreshDay_IsTheCalendarDayOfBeijingTime(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   time.Time
		day  string
		end  time.Time
	}{
		{"morning UTC is the afternoon in Beijing", time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), "20261201", time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)},
		{"the last instant before Beijing's midnight", time.Date(2026, 12, 1, 15, 59, 59, 999_999_999, time.UTC), "20261201", time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)},
		{"Beijing's midnight starts the next day, eight hours before UTC's", time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC), "20261202", time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)},
		{"late on the UTC day before", time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC), "20261201", time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)},
		{"the year's end", time.Date(2026, 12, 31, 16, 30, 0, 0, time.UTC), "20270101", time.Date(2027, 1, 1, 16, 0, 0, 0, time.UTC)},
		{"the zone of the time given does not matter", time.Date(2026, 12, 1, 1, 0, 0, 0, time.FixedZone("UTC-8", -8*3600)), "20261201", time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			day, end := domain.ForcedRefreshDay(tc.at)
			assert.Equal(t, tc.day, day)
			assert.True(t, end.Equal(tc.end), "the day ends at %s, not %s", tc.end, end)
			assert.True(t, end.After(tc.at), "the day has not ended at a time in it")
		})
	}
}
