package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/onestroke/onestroke/adapters/httpapi"
	"github.com/onestroke/onestroke/adapters/mongostore"
	"github.com/onestroke/onestroke/adapters/redisstore"
	"github.com/onestroke/onestroke/adapters/sessioncache"
	"github.com/onestroke/onestroke/adapters/wechat"
	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// Config is the service's configuration. Every field comes from an
// ONESTROKE_* environment variable, and a flag of the same name mirrors it
// (flags win).
type Config struct {
	Listen    string
	BasePath  string
	WxAppID   string
	WxSecret  string
	WxAPIURL  string
	WxTimeout time.Duration
	// WxPlatformTimeout bounds one request's platform calls in all.
	WxPlatformTimeout time.Duration
	SessionTTL        time.Duration
	// TokenPolicy is the modern sessions' lifetime and device cap
	// (PROTOCOL §6).
	TokenPolicy  domain.SessionPolicy
	SessionSkip  []string
	DataDir      string
	RedisURL     string
	RedisPrefix  string
	RedisTimeout time.Duration
	// RenderCache bounds the renderings kept in memory (app.DrawingService
	// RenderCacheEntries); 0 keeps none.
	RenderCache int
	// SessionCacheSize bounds the in-process session cache (entries of
	// both protocols); 0 turns it off. It works with Redis only.
	SessionCacheSize int
	// SessionCacheTTL is how long a cached session is served without
	// asking Redis.
	SessionCacheTTL time.Duration
	MongoURI        string
	MongoDB         string
	MongoTimeout    time.Duration
	MaxBodyBytes    int64
	MaxActionsBytes int
	ListLimit       int
	DrawingConc     int
	DrawingsPerUser int
	// MaxDrawingsPerOwner and MaxBytesPerOwner are each owner's quota.
	MaxDrawingsPerOwner int64
	MaxBytesPerOwner    int64
	BodyTimeout         time.Duration
	// LoginRate limits logins that reach WeChat per client address; Events
	// 0 means no limit.
	LoginRate ports.RateLimit
	// UserLoginRate limits the v2 logins of one user (openId); Events
	// zero means off.
	UserLoginRate ports.RateLimit
	// UserPlatformRate limits one user's calls to WeChat's platform APIs
	// (PROTOCOL §8); Events zero means off.
	UserPlatformRate ports.RateLimit
	TrustedProxies   []netip.Prefix
	MaxExchanges     int
	LogLevel         slog.Level
	LogFormat        string
	ShutdownTimeout  time.Duration
	// Drain is how long a stopping instance keeps serving with /readyz at
	// 503 before it stops accepting (a rolling restart's drain); 0: none.
	Drain time.Duration
	// OpsListen is the operator listener's address (/metrics, /healthz,
	// /readyz, pprof); empty means none.
	OpsListen string
	// Dev is ONESTROKE_DEV: development mode, with an in-process mock
	// WeChat and the /_dev/wx-login mint route. It must be asked for.
	Dev bool

	wxSecretFile string // ONESTROKE_WX_SECRET_FILE, read into WxSecret
}

// DevMode reports whether the service runs in development mode, against an
// in-process mock WeChat.
func (c Config) DevMode() bool { return c.Dev }

// setting is one configuration entry: its environment variable, flag name,
// default and how it lands in Config. A setting without a flag name is read
// from the environment only: secrets, which a flag would show in ps and in
// /debug/pprof/cmdline.
type setting struct {
	env, flag, def, usage string
	set                   func(c *Config, v string) error
}

var settings = []setting{
	{"ONESTROKE_LISTEN", "listen", ":5757", "address to listen on", func(c *Config, v string) error {
		_, port, err := net.SplitHostPort(v)
		if err != nil {
			return fmt.Errorf("not host:port: %v", err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return fmt.Errorf("port %q is not a number from 0 to 65535", port)
		}
		c.Listen = v
		return nil
	}},
	{"ONESTROKE_BASE_PATH", "base-path", httpapi.DefaultBasePath, "path prefix of the legacy routes", func(c *Config, v string) error {
		if !strings.HasPrefix(v, "/") || strings.ContainsAny(v, " ?#%") {
			return errors.New("must start with / and contain no spaces, ?, # or %")
		}
		c.BasePath = v
		return nil
	}},
	{"ONESTROKE_DEV", "dev", "false", "development mode: an in-process mock WeChat and the /_dev/wx-login mint route; never with real users", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		c.Dev = b
		return nil
	}},
	{"ONESTROKE_WX_APPID", "wx-appid", "", "WeChat mini-program appid (required unless ONESTROKE_DEV=true)", func(c *Config, v string) error {
		c.WxAppID = v
		return nil
	}},
	{"ONESTROKE_WX_SECRET", "", "", "WeChat app secret (environment only)", func(c *Config, v string) error {
		c.WxSecret = v
		return nil
	}},
	{"ONESTROKE_WX_SECRET_FILE", "", "", "file holding the WeChat app secret, e.g. a Docker or Kubernetes secret (environment only)", func(c *Config, v string) error {
		c.wxSecretFile = v
		return nil
	}},
	{"ONESTROKE_WX_API_URL", "wx-api-url", wechat.DefaultAPIURL, "WeChat API base URL (https://, or http:// to a loopback address)", func(c *Config, v string) error {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			return errors.New("must be an https:// URL")
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
			return errors.New("must be an https:// URL (http:// only to a loopback address, as a test's mock)")
		}
		c.WxAPIURL = v
		return nil
	}},
	{"ONESTROKE_WX_TIMEOUT", "wx-timeout", wechat.DefaultTimeout.String(), "timeout of one WeChat call", durationSetter(func(c *Config) *time.Duration { return &c.WxTimeout }, 100*time.Millisecond)},
	{"ONESTROKE_WX_PLATFORM_TIMEOUT", "wx-platform-timeout", app.DefaultPlatformTimeout.String(), "how long a request to WeChat's platform APIs (phone number, content check) may take in all, the access_token's fetch and a retry after its refresh included; then ERR_WECHAT_UNAVAILABLE", durationSetter(func(c *Config) *time.Duration { return &c.WxPlatformTimeout }, 100*time.Millisecond)},
	{"ONESTROKE_SESSION_TTL", "session-ttl", app.DefaultSessionTTL.String(), "session lifetime", durationSetter(func(c *Config) *time.Duration { return &c.SessionTTL }, time.Second)},
	{"ONESTROKE_TOKEN_IDLE", "token-idle", "7d", "idle timeout of a v2 token session; slides on use (like 7d, 12h or 1d12h)", daysSetter(func(c *Config) *time.Duration { return &c.TokenPolicy.Idle }, domain.TouchEvery)},
	{"ONESTROKE_TOKEN_MAX_AGE", "token-max-age", "30d", "absolute lifetime of a v2 token session; never slides", daysSetter(func(c *Config) *time.Duration { return &c.TokenPolicy.MaxAge }, domain.TouchEvery)},
	{"ONESTROKE_MAX_DEVICES", "max-devices", strconv.Itoa(domain.DefaultMaxDevices), "v2 sessions one user may have; a login past it ends the least recently used", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return errors.New("must be a whole number from 1 to 1000")
		}
		c.TokenPolicy.MaxDevices = n
		return nil
	}},
	{"ONESTROKE_SESSION_SKIP", "session-skip", "", "comma-separated path prefixes that skip the session layer", func(c *Config, v string) error {
		c.SessionSkip = nil
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				if !strings.HasPrefix(p, "/") {
					return fmt.Errorf("prefix %q must start with /", p)
				}
				c.SessionSkip = append(c.SessionSkip, p)
			}
		}
		return nil
	}},
	{"ONESTROKE_DATA_DIR", "data-dir", "data", "folder of the embedded drawing store", func(c *Config, v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		c.DataDir = v
		return nil
	}},
	{"ONESTROKE_REDIS_URL", "redis-url", "", "Redis URL for sessions (empty: in memory); see README", func(c *Config, v string) error {
		if v != "" {
			u, err := url.Parse(v)
			if err != nil || u.Host == "" {
				return errors.New("must be a URL like redis://[:password@]host:port[/db]")
			}
			switch u.Scheme {
			case "redis", "rediss", "redis+sentinel", "rediss+sentinel", "redis+cluster", "rediss+cluster":
			default:
				return fmt.Errorf("scheme %q: want redis, rediss, redis+sentinel or redis+cluster", u.Scheme)
			}
		}
		c.RedisURL = v
		return nil
	}},
	{"ONESTROKE_REDIS_PREFIX", "redis-prefix", redisstore.DefaultPrefix, "key prefix of the Redis session keys", func(c *Config, v string) error {
		if strings.ContainsAny(v, "{}") {
			return errors.New("must not contain braces (they would change Cluster hash slots)")
		}
		c.RedisPrefix = v
		return nil
	}},
	{"ONESTROKE_REDIS_TIMEOUT", "redis-timeout", redisstore.DefaultOpTimeout.String(), "timeout of one Redis call", durationSetter(func(c *Config) *time.Duration { return &c.RedisTimeout }, 10*time.Millisecond)},
	{"ONESTROKE_RENDER_CACHE", "render-cache", strconv.Itoa(app.DefaultRenderCacheEntries), "renderings (SVG, PNG) kept in memory by owner and ETag, each at most 256 KiB (0: off)", intSetter(func(c *Config) *int { return &c.RenderCache }, 0)},
	{"ONESTROKE_SESSION_CACHE_SIZE", "session-cache-size", strconv.Itoa(sessioncache.DefaultSize), "sessions kept in memory in front of Redis, both protocols (0: off)", intSetter(func(c *Config) *int { return &c.SessionCacheSize }, 0)},
	{"ONESTROKE_SESSION_CACHE_TTL", "session-cache-ttl", sessioncache.DefaultTTL.String(), "how long a cached session is served without asking Redis", durationSetter(func(c *Config) *time.Duration { return &c.SessionCacheTTL }, 10*time.Millisecond)},
	{"ONESTROKE_MONGO_URI", "mongo-uri", "", "MongoDB URI for drawings (empty: embedded file)", func(c *Config, v string) error {
		if v != "" && !strings.HasPrefix(v, "mongodb://") && !strings.HasPrefix(v, "mongodb+srv://") {
			return errors.New("must start with mongodb:// or mongodb+srv://")
		}
		c.MongoURI = v
		return nil
	}},
	{"ONESTROKE_MONGO_DB", "mongo-db", mongostore.DefaultDatabase, "MongoDB database of the paints collection", func(c *Config, v string) error {
		if v == "" || strings.ContainsAny(v, "/\\. \"$") {
			return errors.New("must be a MongoDB database name")
		}
		c.MongoDB = v
		return nil
	}},
	{"ONESTROKE_MONGO_TIMEOUT", "mongo-timeout", mongostore.DefaultOpTimeout.String(), "timeout of one MongoDB call", durationSetter(func(c *Config) *time.Duration { return &c.MongoTimeout }, 10*time.Millisecond)},
	{"ONESTROKE_MAX_BODY_BYTES", "max-body-bytes", strconv.Itoa(httpapi.DefaultMaxBodyBytes), "request body limit", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 {
			return errors.New("must be a whole number of at least 1024")
		}
		c.MaxBodyBytes = n
		return nil
	}},
	{"ONESTROKE_MAX_ACTIONS_BYTES", "max-actions-bytes", strconv.Itoa(domain.DefaultMaxActionsBytes), "size limit of one drawing's actions", intSetter(func(c *Config) *int { return &c.MaxActionsBytes }, 2)},
	{"ONESTROKE_LIST_LIMIT", "list-limit", strconv.Itoa(app.DefaultListLimit), "most drawings the list route returns", intSetter(func(c *Config) *int { return &c.ListLimit }, 1)},
	{"ONESTROKE_MAX_DRAWINGS_PER_OWNER", "max-drawings-per-owner", strconv.Itoa(domain.DefaultMaxDrawingsPerOwner), "most drawings one user may keep (then saves answer ERR_QUOTA_EXCEEDED)", int64Setter(func(c *Config) *int64 { return &c.MaxDrawingsPerOwner }, 1)},
	{"ONESTROKE_MAX_BYTES_PER_OWNER", "max-bytes-per-owner", strconv.Itoa(domain.DefaultMaxBytesPerOwner), "most bytes of actions one user may keep, all drawings together (then saves answer ERR_QUOTA_EXCEEDED)", int64Setter(func(c *Config) *int64 { return &c.MaxBytesPerOwner }, 1)},
	{"ONESTROKE_DRAWING_CONCURRENCY", "drawing-concurrency", strconv.Itoa(httpapi.DefaultDrawingConcurrency), "drawing requests served at once (the rest wait)", intSetter(func(c *Config) *int { return &c.DrawingConc }, 1)},
	{"ONESTROKE_DRAWINGS_PER_USER", "drawings-per-user", strconv.Itoa(httpapi.DefaultDrawingsPerUser), "drawing requests one user may have in the service at once, body uploads included", intSetter(func(c *Config) *int { return &c.DrawingsPerUser }, 1)},
	{"ONESTROKE_BODY_TIMEOUT", "body-timeout", httpapi.DefaultBodyTimeout.String(), "how long a request body may take to arrive", durationSetter(func(c *Config) *time.Duration { return &c.BodyTimeout }, 100*time.Millisecond)},
	{"ONESTROKE_LOGIN_RATE", "login-rate", "60/m", "logins reaching WeChat allowed per client address: N/s, N/m or N/h, or off", rateSetter(func(c *Config) *ports.RateLimit { return &c.LoginRate })},
	{"ONESTROKE_LOGIN_BURST", "login-burst", "20", "logins one client address may make at once before the rate applies", intSetter(func(c *Config) *int { return &c.LoginRate.Burst }, 1)},
	{"ONESTROKE_USER_LOGIN_RATE", "user-login-rate", "10/m", "v2 logins allowed per user (openId), counted once WeChat names the user: N/s, N/m or N/h, or off", rateSetter(func(c *Config) *ports.RateLimit { return &c.UserLoginRate })},
	{"ONESTROKE_USER_PLATFORM_RATE", "user-platform-rate", "30/m", "calls one user may make to WeChat's platform APIs (phone number, content check): N/s, N/m or N/h, or off", rateSetter(func(c *Config) *ports.RateLimit { return &c.UserPlatformRate })},
	{"ONESTROKE_USER_PLATFORM_BURST", "user-platform-burst", "10", "platform calls one user may make at once before the rate applies", intSetter(func(c *Config) *int { return &c.UserPlatformRate.Burst }, 1)},
	{"ONESTROKE_USER_LOGIN_BURST", "user-login-burst", "10", "v2 logins one user may make at once before the rate applies", intSetter(func(c *Config) *int { return &c.UserLoginRate.Burst }, 1)},
	{"ONESTROKE_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated IPs or CIDRs of the proxies whose X-Forwarded-For names the client (empty: none)", func(c *Config, v string) error {
		c.TrustedProxies = nil
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item == "" {
				continue
			}
			var p netip.Prefix
			if strings.Contains(item, "/") {
				q, err := netip.ParsePrefix(item)
				if err != nil {
					return fmt.Errorf("%q is not an IP or CIDR", item)
				}
				p = q.Masked()
			} else {
				a, err := netip.ParseAddr(item)
				if err != nil {
					return fmt.Errorf("%q is not an IP or CIDR", item)
				}
				a = a.Unmap()
				p = netip.PrefixFrom(a, a.BitLen())
			}
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
		return nil
	}},
	{"ONESTROKE_MAX_EXCHANGES", "max-exchanges", strconv.Itoa(app.DefaultMaxConcurrentExchanges), "code2Session calls in flight at once; past it a login waits 1s, then answers 503", intSetter(func(c *Config) *int { return &c.MaxExchanges }, 1)},
	{"ONESTROKE_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", func(c *Config, v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	}},
	{"ONESTROKE_LOG_FORMAT", "log-format", "json", "json or text", func(c *Config, v string) error {
		if v != "json" && v != "text" {
			return errors.New("must be json or text")
		}
		c.LogFormat = v
		return nil
	}},
	{"ONESTROKE_OPS_LISTEN", "ops-listen", DefaultOpsListen, "operator listener for /metrics, /healthz, /readyz and /debug/pprof (off: none); never expose it to the internet", func(c *Config, v string) error {
		if v == "off" {
			c.OpsListen = ""
			return nil
		}
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("not host:port or off: %v", err)
		}
		c.OpsListen = v
		return nil
	}},
	{"ONESTROKE_SHUTDOWN_TIMEOUT", "shutdown-timeout", "15s", "how long a shutdown waits for requests in flight", durationSetter(func(c *Config) *time.Duration { return &c.ShutdownTimeout }, 0)},
	{"ONESTROKE_DRAIN", "drain", "5s", "how long SIGTERM keeps serving with /readyz at 503 and Connection: close before it stops accepting (0: no drain; a second signal ends it)", durationSetter(func(c *Config) *time.Duration { return &c.Drain }, 0)},
}

// DefaultOpsListen keeps the operator listener on loopback: in a container,
// set 0.0.0.0:9090 and do not publish the port.
const DefaultOpsListen = "127.0.0.1:9090"

// isLoopback reports whether host names this machine: localhost or a
// loopback IP.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func durationSetter(field func(*Config) *time.Duration, min time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < min {
			return fmt.Errorf("must be a duration (like 2h or 500ms) of at least %s", min)
		}
		*field(c) = d
		return nil
	}
}

// daysSetter reads a duration that may start with whole days ("7d",
// "1d12h"), which time.ParseDuration does not know, of at least min.
func daysSetter(field func(*Config) *time.Duration, min time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := parseDays(v)
		if err != nil || d < min {
			return fmt.Errorf("must be a duration (like 7d, 36h or 1d12h) of at least %s", min)
		}
		*field(c) = d
		return nil
	}
}

// parseDays is time.ParseDuration with an optional leading count of days.
func parseDays(v string) (time.Duration, error) {
	days, rest, found := strings.Cut(v, "d")
	if !found {
		return time.ParseDuration(v)
	}
	n, err := strconv.Atoi(days)
	if err != nil || n < 0 || n > 100*365 || strings.HasPrefix(days, "+") {
		return 0, fmt.Errorf("%q: bad number of days", v)
	}
	d := time.Duration(n) * 24 * time.Hour
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil || r < 0 {
			return 0, fmt.Errorf("%q: bad duration after the days", v)
		}
		d += r
	}
	return d, nil
}

func intSetter(field func(*Config) *int, min int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < min {
			return fmt.Errorf("must be a whole number of at least %d", min)
		}
		*field(c) = n
		return nil
	}
}

func int64Setter(field func(*Config) *int64, min int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < min {
			return fmt.Errorf("must be a whole number of at least %d", min)
		}
		*field(c) = n
		return nil
	}
}

// LoadConfig reads the environment through getenv, then the flags in args.
// Every problem is reported at once, naming the variable.
func LoadConfig(args []string, getenv func(string) string, usageOut io.Writer) (Config, error) {
	var c Config
	var problems []string
	fs := flag.NewFlagSet("onestroke", flag.ContinueOnError)
	fs.SetOutput(usageOut)
	// Flags show their built-in defaults in -help, never the environment's
	// values: those may be secrets.
	values := make([]*string, len(settings))
	var envOnly []string
	for i, s := range settings {
		if s.flag != "" {
			values[i] = fs.String(s.flag, s.def, s.usage+" ($"+s.env+")")
		} else {
			envOnly = append(envOnly, fmt.Sprintf("  $%s\n    \t%s", s.env, s.usage))
		}
	}
	fs.Usage = func() {
		fmt.Fprintln(usageOut, "Usage of onestroke:")
		fs.PrintDefaults()
		fmt.Fprintln(usageOut, "Environment only (no flag: flags show in ps and /debug/pprof/cmdline):")
		fmt.Fprintln(usageOut, strings.Join(envOnly, "\n"))
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments: %q", fs.Args()))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for i, s := range settings {
		v := s.def
		if e := getenv(s.env); e != "" {
			v = e
		}
		if s.flag != "" && given[s.flag] {
			v = *values[i]
		}
		if err := s.set(&c, v); err != nil {
			problems = append(problems, fmt.Sprintf("%s=%q: %v", s.env, redactIfSecret(s.env, v), err))
		}
	}
	problems = append(problems, c.resolveWeChat()...)
	if c.TokenPolicy.MaxAge > 0 && c.TokenPolicy.MaxAge < c.TokenPolicy.Idle {
		problems = append(problems, fmt.Sprintf("ONESTROKE_TOKEN_MAX_AGE (%s) is below ONESTROKE_TOKEN_IDLE (%s): the idle timeout could never apply", c.TokenPolicy.MaxAge, c.TokenPolicy.Idle))
	}
	if c.MaxBytesPerOwner > 0 && c.MaxActionsBytes > 0 && c.MaxBytesPerOwner < int64(c.MaxActionsBytes) {
		problems = append(problems, fmt.Sprintf("ONESTROKE_MAX_BYTES_PER_OWNER (%d) is below ONESTROKE_MAX_ACTIONS_BYTES (%d): no user could save a drawing of the largest size", c.MaxBytesPerOwner, c.MaxActionsBytes))
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("bad configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	return c, nil
}

// resolveWeChat reads the app secret file and checks that the WeChat
// settings name exactly one mode: production (an appid and its secret) or
// development (ONESTROKE_DEV=true and no WeChat settings). Development mode
// never starts by accident, as it did when an empty appid was enough and a
// failed secret mount started the mock WeChat in production.
func (c *Config) resolveWeChat() []string {
	var problems []string
	if c.wxSecretFile != "" {
		if c.WxSecret != "" {
			problems = append(problems, "ONESTROKE_WX_SECRET and ONESTROKE_WX_SECRET_FILE are both set: set one")
		} else if b, err := os.ReadFile(c.wxSecretFile); err != nil {
			// The path, never the content: the error may quote neither.
			problems = append(problems, fmt.Sprintf("ONESTROKE_WX_SECRET_FILE=%q cannot be read: %v", c.wxSecretFile, errors.Unwrap(err)))
		} else if c.WxSecret = strings.TrimSpace(string(b)); c.WxSecret == "" {
			problems = append(problems, fmt.Sprintf("ONESTROKE_WX_SECRET_FILE=%q is empty", c.wxSecretFile))
		}
	}
	switch {
	case c.Dev && c.WxAppID != "":
		problems = append(problems, "ONESTROKE_DEV=true and ONESTROKE_WX_APPID are both set: development mode runs against a mock WeChat, production needs the real one; unset one")
	case c.Dev && c.WxSecret != "":
		problems = append(problems, "ONESTROKE_DEV=true and an app secret are both set: development mode uses a mock WeChat; unset the secret")
	case c.Dev && c.WxAPIURL != wechat.DefaultAPIURL:
		problems = append(problems, "ONESTROKE_DEV=true and ONESTROKE_WX_API_URL are both set: development mode uses an in-process mock WeChat")
	case c.WxAppID == "" && c.WxSecret != "":
		problems = append(problems, "ONESTROKE_WX_SECRET is set but ONESTROKE_WX_APPID is empty")
	case c.WxAppID == "" && !c.Dev:
		problems = append(problems, "ONESTROKE_WX_APPID is not set: in production set ONESTROKE_WX_APPID and ONESTROKE_WX_SECRET (or ONESTROKE_WX_SECRET_FILE); "+
			"for development mode with a mock WeChat, set ONESTROKE_DEV=true")
	case c.WxAppID != "" && c.WxSecret == "" && c.wxSecretFile == "":
		problems = append(problems, "ONESTROKE_WX_APPID is set but ONESTROKE_WX_SECRET is empty (set it, or ONESTROKE_WX_SECRET_FILE)")
	}
	return problems
}

func redactIfSecret(env, v string) string {
	if strings.Contains(env, "SECRET") || strings.Contains(env, "URL") || strings.Contains(env, "URI") {
		return "[REDACTED]"
	}
	return v
}

// rateSetter parses N/s, N/m or N/h (or off) into the rate field gets.
func rateSetter(get func(*Config) *ports.RateLimit) func(*Config, string) error {
	return func(c *Config, v string) error {
		r := get(c)
		if v == "off" {
			r.Events, r.Per = 0, 0
			return nil
		}
		n, unit, ok := strings.Cut(v, "/")
		per := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
		events, err := strconv.Atoi(n)
		if !ok || per == 0 || err != nil || events < 1 {
			return errors.New("must be N/s, N/m or N/h with N at least 1 (like 60/m), or off")
		}
		r.Events, r.Per = events, per
		return nil
	}
}
