package domain

import "time"

// WeChat's limits on forcing a new access_token (stable_token with
// force_refresh, PROTOCOL §8): a forced refresh ends the old token at
// once, so the deployment spends them deliberately, counted in its shared
// store (ports.AccessTokenStore).
const (
	// ForcedRefreshInterval is the least time between two forced refreshes.
	ForcedRefreshInterval = 30 * time.Second
	// ForcedRefreshesPerDay is how many forced refreshes one app may make
	// in one WeChat day (ForcedRefreshDay).
	ForcedRefreshesPerDay = 20
)

// wechatTime is the time WeChat's daily API quotas are counted in: China
// Standard Time, UTC+8 all year (China keeps no daylight saving time). A
// fixed zone, so that no time zone database is needed.
var wechatTime = time.FixedZone("UTC+8", 8*60*60)

// ForcedRefreshDay returns the WeChat day that t falls in, as YYYYMMDD,
// and the instant it ends. WeChat's daily quotas (the 20 forced refreshes
// among them) restart at midnight Beijing time, 16:00 UTC, not at
// midnight UTC: counting by the UTC day would let the budget restart
// eight hours early and meet WeChat's 45009 before the day is out.
func ForcedRefreshDay(t time.Time) (day string, end time.Time) {
	local := t.In(wechatTime)
	y, m, d := local.Date()
	end = time.Date(y, m, d+1, 0, 0, 0, 0, wechatTime)
	return local.Format("20060102"), end
}
