package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/wechat"
	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// distinctiveSecret must never be printed by the configuration code.
const distinctiveSecret = "wxsecret-NEVER-PRINT-7c1e9a"

// fakeEnv is getenv over a map, so that tests never read the real environment.
func fakeEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// loadConfig loads env and args; an env that names no WeChat app and no
// mode gets ONESTROKE_DEV=true, so that tests of other settings start.
func loadConfig(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	_, hasApp := env["ONESTROKE_WX_APPID"]
	_, hasDev := env["ONESTROKE_DEV"]
	_, hasSecret := env["ONESTROKE_WX_SECRET"]
	if !hasApp && !hasDev && !hasSecret {
		withDev := map[string]string{"ONESTROKE_DEV": "true"}
		for k, v := range env {
			withDev[k] = v
		}
		env = withDev
	}
	return LoadConfig(args, fakeEnv(env), io.Discard)
}

func TestLoadConfig_Defaults(t *testing.T) {
	c, err := loadConfig(t, nil, nil)
	require.NoError(t, err)

	assert.Equal(t, ":5757", c.Listen)
	assert.Equal(t, "/applet", c.BasePath)
	assert.Equal(t, 2*time.Hour, c.SessionTTL)
	assert.True(t, c.DevMode(), "asked for with ONESTROKE_DEV=true")
	assert.Equal(t, "127.0.0.1:9090", c.OpsListen)
	assert.Empty(t, c.WxAppID)
	assert.Empty(t, c.WxSecret)
	assert.Equal(t, wechat.DefaultAPIURL, c.WxAPIURL)
	assert.Equal(t, 5*time.Second, c.WxTimeout)
	assert.Nil(t, c.SessionSkip)
	assert.Equal(t, "data", c.DataDir)
	assert.Empty(t, c.RedisURL)
	assert.Empty(t, c.MongoURI)
	assert.Equal(t, int64(4<<20), c.MaxBodyBytes)
	assert.Equal(t, 1<<20, c.MaxActionsBytes)
	assert.Equal(t, 100, c.ListLimit)
	assert.Equal(t, 4, c.DrawingsPerUser)
	assert.Equal(t, 20*time.Second, c.BodyTimeout)
	assert.Equal(t, int64(10000), c.MaxDrawingsPerOwner)
	assert.Equal(t, int64(268435456), c.MaxBytesPerOwner)
	assert.Equal(t, slog.LevelInfo, c.LogLevel)
	assert.Equal(t, "json", c.LogFormat)
	assert.Equal(t, 15*time.Second, c.ShutdownTimeout)
	assert.Equal(t, 5*time.Second, c.Drain)
	assert.Equal(t, ports.RateLimit{Events: 60, Per: time.Minute, Burst: 20}, c.LoginRate)
	assert.Equal(t, ports.RateLimit{Events: 10, Per: time.Minute, Burst: 10}, c.UserLoginRate)
	assert.Nil(t, c.TrustedProxies, "no X-Forwarded-For is believed unless configured")
	assert.Equal(t, 64, c.MaxExchanges)
	assert.Equal(t, domain.SessionPolicy{Idle: 7 * 24 * time.Hour, MaxAge: 30 * 24 * time.Hour, MaxDevices: 10}, c.TokenPolicy)
}

func TestLoadConfig_TokenSessions(t *testing.T) {
	c, err := loadConfig(t, nil, map[string]string{"ONESTROKE_TOKEN_IDLE": "1d12h", "ONESTROKE_TOKEN_MAX_AGE": "90d", "ONESTROKE_MAX_DEVICES": "3"})
	require.NoError(t, err)
	assert.Equal(t, domain.SessionPolicy{Idle: 36 * time.Hour, MaxAge: 90 * 24 * time.Hour, MaxDevices: 3}, c.TokenPolicy)

	c, err = loadConfig(t, []string{"-token-idle", "45m", "-token-max-age", "2h", "-max-devices", "1"}, nil)
	require.NoError(t, err)
	assert.Equal(t, domain.SessionPolicy{Idle: 45 * time.Minute, MaxAge: 2 * time.Hour, MaxDevices: 1}, c.TokenPolicy, "plain Go durations, and flags")

	for env, values := range map[string][]string{
		"ONESTROKE_TOKEN_IDLE":    {"forever", "7", "d", "-1d", "+1d", "7dd", "1d-1h", "30s", "1.5d"},
		"ONESTROKE_TOKEN_MAX_AGE": {"0", "1x", "59s"},
		"ONESTROKE_MAX_DEVICES":   {"0", "-1", "ten", "1001"},
	} {
		for _, v := range values {
			_, err := loadConfig(t, nil, map[string]string{env: v})
			require.Error(t, err, "%s=%s", env, v)
			assert.Contains(t, err.Error(), env+"=", "%s=%s", env, v)
		}
	}
	_, err = loadConfig(t, nil, map[string]string{"ONESTROKE_TOKEN_IDLE": "14d", "ONESTROKE_TOKEN_MAX_AGE": "7d"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ONESTROKE_TOKEN_MAX_AGE (168h0m0s) is below ONESTROKE_TOKEN_IDLE")
}

func TestLoadConfig_LoginLimits(t *testing.T) {
	c, err := loadConfig(t, nil, map[string]string{
		"ONESTROKE_LOGIN_RATE":      "5/s",
		"ONESTROKE_LOGIN_BURST":     "3",
		"ONESTROKE_TRUSTED_PROXIES": " 10.0.0.0/8, 192.168.1.7,::1 ,2001:db8::1/48,::ffff:172.16.0.1",
		"ONESTROKE_MAX_EXCHANGES":   "16",
	})
	require.NoError(t, err)
	assert.Equal(t, ports.RateLimit{Events: 5, Per: time.Second, Burst: 3}, c.LoginRate)
	assert.Equal(t, []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("2001:db8::/48"), netip.MustParsePrefix("172.16.0.1/32"),
	}, c.TrustedProxies)
	assert.Equal(t, 16, c.MaxExchanges)

	c, err = loadConfig(t, []string{"-login-rate", "100/h"}, nil)
	require.NoError(t, err)
	assert.Equal(t, ports.RateLimit{Events: 100, Per: time.Hour, Burst: 20}, c.LoginRate)

	c, err = loadConfig(t, nil, map[string]string{"ONESTROKE_LOGIN_RATE": "off"})
	require.NoError(t, err)
	assert.Zero(t, c.LoginRate.Events, "off: no login limit")

	c, err = loadConfig(t, nil, map[string]string{"ONESTROKE_USER_LOGIN_RATE": "3/h", "ONESTROKE_USER_LOGIN_BURST": "2"})
	require.NoError(t, err)
	assert.Equal(t, ports.RateLimit{Events: 3, Per: time.Hour, Burst: 2}, c.UserLoginRate)
	assert.Equal(t, ports.RateLimit{Events: 60, Per: time.Minute, Burst: 20}, c.LoginRate, "the address's limit is apart")
	c, err = loadConfig(t, nil, map[string]string{"ONESTROKE_USER_LOGIN_RATE": "off"})
	require.NoError(t, err)
	assert.Zero(t, c.UserLoginRate.Events, "off: no per-user login limit")
}

func TestLoadConfig_EmptyEnvironmentValueMeansDefault(t *testing.T) {
	c, err := loadConfig(t, nil, map[string]string{"ONESTROKE_LISTEN": "", "ONESTROKE_SESSION_TTL": ""})
	require.NoError(t, err)
	assert.Equal(t, ":5757", c.Listen)
	assert.Equal(t, 2*time.Hour, c.SessionTTL)
}

func TestLoadConfig_Environment(t *testing.T) {
	c, err := loadConfig(t, nil, map[string]string{
		"ONESTROKE_LISTEN":                 "127.0.0.1:8080",
		"ONESTROKE_BASE_PATH":              "/api/applet",
		"ONESTROKE_WX_APPID":               "wx5f3a9c0de1b27a44",
		"ONESTROKE_WX_SECRET":              distinctiveSecret,
		"ONESTROKE_WX_API_URL":             "https://wechat-mock:8443",
		"ONESTROKE_WX_TIMEOUT":             "1500ms",
		"ONESTROKE_SESSION_TTL":            "30m",
		"ONESTROKE_SESSION_SKIP":           "/health, /static/,,",
		"ONESTROKE_DATA_DIR":               "/var/lib/onestroke",
		"ONESTROKE_MAX_BODY_BYTES":         "2048",
		"ONESTROKE_MAX_ACTIONS_BYTES":      "1000",
		"ONESTROKE_LIST_LIMIT":             "7",
		"ONESTROKE_DRAWINGS_PER_USER":      "2",
		"ONESTROKE_BODY_TIMEOUT":           "5s",
		"ONESTROKE_MAX_DRAWINGS_PER_OWNER": "50",
		"ONESTROKE_MAX_BYTES_PER_OWNER":    "1048576",
		"ONESTROKE_LOG_LEVEL":              "debug",
		"ONESTROKE_LOG_FORMAT":             "text",
		"ONESTROKE_SHUTDOWN_TIMEOUT":       "0s",
		"ONESTROKE_DRAIN":                  "0",
	})
	require.NoError(t, err)

	assert.Equal(t, "127.0.0.1:8080", c.Listen)
	assert.Equal(t, "/api/applet", c.BasePath)
	assert.Equal(t, "wx5f3a9c0de1b27a44", c.WxAppID)
	assert.Equal(t, distinctiveSecret, c.WxSecret)
	assert.False(t, c.DevMode())
	assert.Equal(t, "https://wechat-mock:8443", c.WxAPIURL)
	assert.Equal(t, 1500*time.Millisecond, c.WxTimeout)
	assert.Equal(t, 30*time.Minute, c.SessionTTL)
	assert.Equal(t, []string{"/health", "/static/"}, c.SessionSkip)
	assert.Equal(t, "/var/lib/onestroke", c.DataDir)
	assert.Equal(t, int64(2048), c.MaxBodyBytes)
	assert.Equal(t, 1000, c.MaxActionsBytes)
	assert.Equal(t, 7, c.ListLimit)
	assert.Equal(t, 2, c.DrawingsPerUser)
	assert.Equal(t, 5*time.Second, c.BodyTimeout)
	assert.Equal(t, int64(50), c.MaxDrawingsPerOwner)
	assert.Equal(t, int64(1<<20), c.MaxBytesPerOwner)
	assert.Equal(t, slog.LevelDebug, c.LogLevel)
	assert.Equal(t, "text", c.LogFormat)
	assert.Equal(t, time.Duration(0), c.ShutdownTimeout)
	assert.Equal(t, time.Duration(0), c.Drain, "0 turns the drain off")
}

func TestLoadConfig_FlagsOverrideEnvironment(t *testing.T) {
	env := map[string]string{
		"ONESTROKE_LISTEN":      ":6000",
		"ONESTROKE_BASE_PATH":   "/env",
		"ONESTROKE_SESSION_TTL": "1h",
		"ONESTROKE_LIST_LIMIT":  "5",
		"ONESTROKE_LOG_LEVEL":   "warn",
		"ONESTROKE_LOG_FORMAT":  "json",
		"ONESTROKE_WX_APPID":    "wxFromEnv",
		"ONESTROKE_WX_SECRET":   "secret-from-env",
	}
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, c Config)
	}{
		{"listen", []string{"-listen", ":7000"}, func(t *testing.T, c Config) { assert.Equal(t, ":7000", c.Listen) }},
		{"listen with = and two dashes", []string{"--listen=:7001"}, func(t *testing.T, c Config) { assert.Equal(t, ":7001", c.Listen) }},
		{"base path", []string{"-base-path", "/flag"}, func(t *testing.T, c Config) { assert.Equal(t, "/flag", c.BasePath) }},
		{"session ttl", []string{"-session-ttl", "10m"}, func(t *testing.T, c Config) { assert.Equal(t, 10*time.Minute, c.SessionTTL) }},
		{"list limit", []string{"-list-limit", "9"}, func(t *testing.T, c Config) { assert.Equal(t, 9, c.ListLimit) }},
		{"log level", []string{"-log-level", "error"}, func(t *testing.T, c Config) { assert.Equal(t, slog.LevelError, c.LogLevel) }},
		{"log format", []string{"-log-format", "text"}, func(t *testing.T, c Config) { assert.Equal(t, "text", c.LogFormat) }},
		{"appid", []string{"-wx-appid", "wxFromFlag"}, func(t *testing.T, c Config) {
			assert.Equal(t, "wxFromFlag", c.WxAppID)
			assert.Equal(t, "secret-from-env", c.WxSecret, "the secret only ever from the environment")
		}},
		{"no flags keep the environment", nil, func(t *testing.T, c Config) {
			assert.Equal(t, ":6000", c.Listen)
			assert.Equal(t, "/env", c.BasePath)
			assert.Equal(t, time.Hour, c.SessionTTL)
			assert.Equal(t, 5, c.ListLimit)
			assert.Equal(t, slog.LevelWarn, c.LogLevel)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(t, tt.args, env)
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestLoadConfig_BadValuesNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string // substrings of the error
	}{
		{"bad duration", map[string]string{"ONESTROKE_SESSION_TTL": "forever"}, nil, []string{"ONESTROKE_SESSION_TTL", "forever", "duration"}},
		{"duration without unit", map[string]string{"ONESTROKE_SESSION_TTL": "7200"}, nil, []string{"ONESTROKE_SESSION_TTL"}},
		{"ttl below one second", map[string]string{"ONESTROKE_SESSION_TTL": "500ms"}, nil, []string{"ONESTROKE_SESSION_TTL", "at least 1s"}},
		{"negative ttl", map[string]string{"ONESTROKE_SESSION_TTL": "-1h"}, nil, []string{"ONESTROKE_SESSION_TTL"}},
		{"wx timeout too short", map[string]string{"ONESTROKE_WX_TIMEOUT": "10ms"}, nil, []string{"ONESTROKE_WX_TIMEOUT", "at least 100ms"}},
		{"negative shutdown timeout", map[string]string{"ONESTROKE_SHUTDOWN_TIMEOUT": "-1s"}, nil, []string{"ONESTROKE_SHUTDOWN_TIMEOUT"}},
		{"negative drain", map[string]string{"ONESTROKE_DRAIN": "-5s"}, nil, []string{"ONESTROKE_DRAIN", "duration"}},
		{"drain without unit", map[string]string{"ONESTROKE_DRAIN": "5"}, nil, []string{"ONESTROKE_DRAIN"}},
		{"listen without port", map[string]string{"ONESTROKE_LISTEN": "localhost"}, nil, []string{"ONESTROKE_LISTEN", "host:port"}},
		{"listen with too many colons", map[string]string{"ONESTROKE_LISTEN": "a:b:c"}, nil, []string{"ONESTROKE_LISTEN"}},
		{"base path without slash", map[string]string{"ONESTROKE_BASE_PATH": "applet"}, nil, []string{"ONESTROKE_BASE_PATH", "must start with /"}},
		{"base path with a space", map[string]string{"ONESTROKE_BASE_PATH": "/app let"}, nil, []string{"ONESTROKE_BASE_PATH"}},
		{"base path with a query", map[string]string{"ONESTROKE_BASE_PATH": "/applet?x"}, nil, []string{"ONESTROKE_BASE_PATH"}},
		{"api url with another scheme", map[string]string{"ONESTROKE_WX_API_URL": "ftp://api.weixin.qq.com"}, nil, []string{"ONESTROKE_WX_API_URL", "https:// URL"}},
		{"api url without host", map[string]string{"ONESTROKE_WX_API_URL": "https://"}, nil, []string{"ONESTROKE_WX_API_URL"}},
		{"api url not a url", map[string]string{"ONESTROKE_WX_API_URL": "api.weixin.qq.com"}, nil, []string{"ONESTROKE_WX_API_URL"}},
		{"appid without secret", map[string]string{"ONESTROKE_WX_APPID": "wx123"}, nil, []string{"ONESTROKE_WX_APPID", "ONESTROKE_WX_SECRET is empty", "ONESTROKE_WX_SECRET_FILE"}},
		{"ops listen not host:port", map[string]string{"ONESTROKE_OPS_LISTEN": "9090"}, nil, []string{"ONESTROKE_OPS_LISTEN", "host:port or off"}},
		{"dev not a boolean", map[string]string{"ONESTROKE_DEV": "yes please"}, nil, []string{"ONESTROKE_DEV", "true or false"}},
		{"secret without appid", map[string]string{"ONESTROKE_WX_SECRET": distinctiveSecret}, nil, []string{"ONESTROKE_WX_SECRET is set", "ONESTROKE_WX_APPID is empty"}},
		{"non-numeric body limit", map[string]string{"ONESTROKE_MAX_BODY_BYTES": "4MB"}, nil, []string{"ONESTROKE_MAX_BODY_BYTES", "whole number"}},
		{"body limit too small", map[string]string{"ONESTROKE_MAX_BODY_BYTES": "100"}, nil, []string{"ONESTROKE_MAX_BODY_BYTES", "1024"}},
		{"non-numeric actions limit", map[string]string{"ONESTROKE_MAX_ACTIONS_BYTES": "1mb"}, nil, []string{"ONESTROKE_MAX_ACTIONS_BYTES"}},
		{"actions limit too small", map[string]string{"ONESTROKE_MAX_ACTIONS_BYTES": "1"}, nil, []string{"ONESTROKE_MAX_ACTIONS_BYTES", "at least 2"}},
		{"non-numeric list limit", map[string]string{"ONESTROKE_LIST_LIMIT": "ten"}, nil, []string{"ONESTROKE_LIST_LIMIT"}},
		{"zero list limit", map[string]string{"ONESTROKE_LIST_LIMIT": "0"}, nil, []string{"ONESTROKE_LIST_LIMIT", "at least 1"}},
		{"zero drawings per owner", map[string]string{"ONESTROKE_MAX_DRAWINGS_PER_OWNER": "0"}, nil, []string{"ONESTROKE_MAX_DRAWINGS_PER_OWNER", "at least 1"}},
		{"non-numeric bytes per owner", map[string]string{"ONESTROKE_MAX_BYTES_PER_OWNER": "256MiB"}, nil, []string{"ONESTROKE_MAX_BYTES_PER_OWNER", "whole number"}},
		{"bytes per owner below one drawing", map[string]string{"ONESTROKE_MAX_BYTES_PER_OWNER": "1000", "ONESTROKE_MAX_ACTIONS_BYTES": "2000"}, nil, []string{"ONESTROKE_MAX_BYTES_PER_OWNER", "ONESTROKE_MAX_ACTIONS_BYTES"}},
		{"bad log level", map[string]string{"ONESTROKE_LOG_LEVEL": "verbose"}, nil, []string{"ONESTROKE_LOG_LEVEL", "verbose"}},
		{"bad log format", map[string]string{"ONESTROKE_LOG_FORMAT": "xml"}, nil, []string{"ONESTROKE_LOG_FORMAT", "json or text"}},
		{"session skip prefix without slash", map[string]string{"ONESTROKE_SESSION_SKIP": "/ok,health"}, nil, []string{"ONESTROKE_SESSION_SKIP", `"health"`}},
		{"empty data dir by flag", nil, []string{"-data-dir="}, []string{"ONESTROKE_DATA_DIR", "must not be empty"}},
		{"bad value by flag names the variable", nil, []string{"-list-limit", "abc"}, []string{"ONESTROKE_LIST_LIMIT"}},
		{"unexpected arguments", nil, []string{"serve", "now"}, []string{"unexpected arguments", "serve"}},
		{"redis url with a wrong scheme", map[string]string{"ONESTROKE_REDIS_URL": "http://localhost:6379/0"}, nil, []string{"ONESTROKE_REDIS_URL", "want redis"}},
		{"redis url without host", map[string]string{"ONESTROKE_REDIS_URL": "redis"}, nil, []string{"ONESTROKE_REDIS_URL", "must be a URL"}},
		{"mongo uri with a wrong scheme", map[string]string{"ONESTROKE_MONGO_URI": "mongo://localhost:27017"}, nil, []string{"ONESTROKE_MONGO_URI", "mongodb://"}},
		{"mongo db name with a dot", map[string]string{"ONESTROKE_MONGO_DB": "a.b"}, nil, []string{"ONESTROKE_MONGO_DB"}},
		{"login rate without a unit", map[string]string{"ONESTROKE_LOGIN_RATE": "60"}, nil, []string{"ONESTROKE_LOGIN_RATE", "N/m"}},
		{"login rate with an unknown unit", map[string]string{"ONESTROKE_LOGIN_RATE": "60/d"}, nil, []string{"ONESTROKE_LOGIN_RATE"}},
		{"login rate of zero", map[string]string{"ONESTROKE_LOGIN_RATE": "0/m"}, nil, []string{"ONESTROKE_LOGIN_RATE", "at least 1"}},
		{"login rate in words", map[string]string{"ONESTROKE_LOGIN_RATE": "sixty/m"}, nil, []string{"ONESTROKE_LOGIN_RATE"}},
		{"user login rate without a unit", map[string]string{"ONESTROKE_USER_LOGIN_RATE": "10"}, nil, []string{"ONESTROKE_USER_LOGIN_RATE", "N/m"}},
		{"login burst of zero", map[string]string{"ONESTROKE_LOGIN_BURST": "0"}, nil, []string{"ONESTROKE_LOGIN_BURST", "at least 1"}},
		{"trusted proxy a host name", map[string]string{"ONESTROKE_TRUSTED_PROXIES": "10.0.0.1,nginx"}, nil, []string{"ONESTROKE_TRUSTED_PROXIES", `"nginx"`}},
		{"trusted proxy a bad CIDR", map[string]string{"ONESTROKE_TRUSTED_PROXIES": "10.0.0.0/33"}, nil, []string{"ONESTROKE_TRUSTED_PROXIES", "10.0.0.0/33"}},
		{"max exchanges of zero", map[string]string{"ONESTROKE_MAX_EXCHANGES": "0"}, nil, []string{"ONESTROKE_MAX_EXCHANGES", "at least 1"}},
		{"redis prefix with a brace", map[string]string{"ONESTROKE_REDIS_PREFIX": "s{x}:"}, nil, []string{"ONESTROKE_REDIS_PREFIX", "braces"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(t, tt.args, tt.env)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "bad configuration:"), err.Error())
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
			assert.NotContains(t, err.Error(), distinctiveSecret)
		})
	}
}

func TestLoadConfig_ReportsEveryProblemAtOnce(t *testing.T) {
	_, err := loadConfig(t, nil, map[string]string{
		"ONESTROKE_SESSION_TTL": "soon",
		"ONESTROKE_LISTEN":      "nowhere",
		"ONESTROKE_BASE_PATH":   "applet",
		"ONESTROKE_LIST_LIMIT":  "-3",
		"ONESTROKE_LOG_FORMAT":  "yaml",
		"ONESTROKE_WX_APPID":    "wx123",
		"ONESTROKE_REDIS_URL":   "http://r",
	})
	require.Error(t, err)
	for _, name := range []string{
		"ONESTROKE_SESSION_TTL", "ONESTROKE_LISTEN", "ONESTROKE_BASE_PATH", "ONESTROKE_LIST_LIMIT",
		"ONESTROKE_LOG_FORMAT", "ONESTROKE_WX_SECRET is empty", "ONESTROKE_REDIS_URL",
	} {
		assert.Contains(t, err.Error(), name)
	}
	assert.Equal(t, 8, strings.Count(err.Error(), "\n  ")+1, "a header line and one line per problem:\n%s", err)
}

func TestLoadConfig_SecretsNeverInTheError(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		secret string
	}{
		{
			name:   "secret in the environment, bad value elsewhere",
			env:    map[string]string{"ONESTROKE_WX_APPID": "wx123", "ONESTROKE_WX_SECRET": distinctiveSecret, "ONESTROKE_SESSION_TTL": "bad"},
			secret: distinctiveSecret,
		},
		{
			name:   "secret by flag, which does not exist",
			args:   []string{"-wx-appid", "wx123", "-wx-secret", distinctiveSecret, "-listen", "nope"},
			secret: distinctiveSecret,
		},
		{
			name:   "secret without appid",
			env:    map[string]string{"ONESTROKE_WX_SECRET": distinctiveSecret},
			secret: distinctiveSecret,
		},
		{
			name:   "password in a bad API URL",
			env:    map[string]string{"ONESTROKE_WX_API_URL": "ftp://user:hunter2-pw@api.example"},
			secret: "hunter2-pw",
		},
		{
			name:   "password in the Redis URL",
			env:    map[string]string{"ONESTROKE_REDIS_URL": "redis+bogus://:hunter2-pw@redis:6379/0"},
			secret: "hunter2-pw",
		},
		{
			name:   "password in the Mongo URI",
			env:    map[string]string{"ONESTROKE_MONGO_URI": "mongo://app:hunter2-pw@mongo:27017/?authSource=admin"},
			secret: "hunter2-pw",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var usage bytes.Buffer
			_, err := LoadConfig(tt.args, fakeEnv(tt.env), &usage)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), tt.secret)
			assert.False(t, strings.Contains(usage.String(), tt.secret), "usage output holds the secret")
		})
	}
}

// The flag package prints every flag's default on -h and on a flag error,
// and LoadConfig uses the environment values as the flag defaults: the
// usage text must not become a way to print the secret to stderr.
func TestLoadConfig_UsageNeverShowsTheSecret(t *testing.T) {
	env := map[string]string{
		"ONESTROKE_WX_APPID":  "wx123",
		"ONESTROKE_WX_SECRET": distinctiveSecret,
		"ONESTROKE_REDIS_URL": "redis://:hunter2-pw@redis:6379/0",
		"ONESTROKE_MONGO_URI": "mongodb://app:hunter2-pw@mongo:27017",
	}
	tests := []struct {
		name    string
		args    []string
		wantErr error
	}{
		{"-h", []string{"-h"}, flag.ErrHelp},
		{"--help", []string{"--help"}, flag.ErrHelp},
		{"unknown flag", []string{"-no-such-flag"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var usage bytes.Buffer
			_, err := LoadConfig(tt.args, fakeEnv(env), &usage)
			require.Error(t, err)
			if tt.wantErr != nil {
				assert.True(t, errors.Is(err, tt.wantErr), "got %v", err)
			}
			out := usage.String()
			assert.Contains(t, out, "-wx-appid", "usage was printed")
			assert.NotContains(t, out, "-wx-secret", "no flag for the secret")
			assert.False(t, strings.Contains(out, distinctiveSecret), "usage prints the app secret as a flag default")
			assert.False(t, strings.Contains(out, "hunter2-pw"), "usage prints a password from a store URL as a flag default")
			assert.NotContains(t, err.Error(), distinctiveSecret)
		})
	}
}

func TestLoadConfig_UsageNamesTheVariables(t *testing.T) {
	var usage bytes.Buffer
	_, err := LoadConfig([]string{"-h"}, fakeEnv(nil), &usage)
	require.ErrorIs(t, err, flag.ErrHelp)
	for _, name := range []string{"$ONESTROKE_LISTEN", "$ONESTROKE_WX_SECRET", "$ONESTROKE_SESSION_TTL", "$ONESTROKE_LOG_FORMAT"} {
		assert.Contains(t, usage.String(), name)
	}
}

// Security review finding 7: development mode must be asked for. An empty
// appid used to be enough, so a failed secret mount in production started
// the mock WeChat and the public mint route.
func TestLoadConfig_DevelopmentModeMustBeAskedFor(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"nothing set": {},
		"stores configured, appid lost": {
			"ONESTROKE_REDIS_URL": "redis://redis:6379/0", "ONESTROKE_MONGO_URI": "mongodb://mongo:27017/",
		},
		"ONESTROKE_DEV=false": {"ONESTROKE_DEV": "false"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadConfig(nil, fakeEnv(env), io.Discard)
			require.Error(t, err, "the service must refuse to start")
			assert.Contains(t, err.Error(), "ONESTROKE_WX_APPID is not set")
			assert.Contains(t, err.Error(), "ONESTROKE_DEV=true", "it says how to ask for development mode")
		})
	}
	c, err := LoadConfig(nil, fakeEnv(map[string]string{"ONESTROKE_DEV": "true"}), io.Discard)
	require.NoError(t, err)
	assert.True(t, c.DevMode())
	c, err = LoadConfig([]string{"-dev=true"}, fakeEnv(nil), io.Discard)
	require.NoError(t, err)
	assert.True(t, c.DevMode(), "by flag too")

	for name, env := range map[string]map[string]string{
		"with an appid":   {"ONESTROKE_DEV": "true", "ONESTROKE_WX_APPID": "wx123", "ONESTROKE_WX_SECRET": distinctiveSecret},
		"with a secret":   {"ONESTROKE_DEV": "true", "ONESTROKE_WX_SECRET": distinctiveSecret},
		"with an API URL": {"ONESTROKE_DEV": "true", "ONESTROKE_WX_API_URL": "https://api.example.com"},
	} {
		t.Run("refused "+name, func(t *testing.T) {
			_, err := LoadConfig(nil, fakeEnv(env), io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "ONESTROKE_DEV=true")
			assert.NotContains(t, err.Error(), distinctiveSecret)
		})
	}
	c, err = LoadConfig(nil, fakeEnv(map[string]string{"ONESTROKE_WX_APPID": "wx123", "ONESTROKE_WX_SECRET": distinctiveSecret}), io.Discard)
	require.NoError(t, err)
	assert.False(t, c.DevMode(), "an appid and its secret: production")
}

// Security review finding 8: the secret never comes from a flag (flags show
// in ps and /debug/pprof/cmdline), but from the environment or a file.
func TestLoadConfig_SecretFromTheEnvironmentOrAFileNeverAFlag(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/wx_secret"
	require.NoError(t, os.WriteFile(file, []byte(distinctiveSecret+"\n"), 0o600))
	c, err := LoadConfig(nil, fakeEnv(map[string]string{"ONESTROKE_WX_APPID": "wx123", "ONESTROKE_WX_SECRET_FILE": file}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, distinctiveSecret, c.WxSecret, "read from the file, the trailing newline trimmed")

	empty := dir + "/empty"
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	for name, env := range map[string]map[string]string{
		"a file that does not exist": {"ONESTROKE_WX_APPID": "wx123", "ONESTROKE_WX_SECRET_FILE": dir + "/missing"},
		"an empty file":              {"ONESTROKE_WX_APPID": "wx123", "ONESTROKE_WX_SECRET_FILE": empty},
		"both the variable and the file": {
			"ONESTROKE_WX_APPID": "wx123", "ONESTROKE_WX_SECRET_FILE": file, "ONESTROKE_WX_SECRET": "other",
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadConfig(nil, fakeEnv(env), io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "ONESTROKE_WX_SECRET")
			assert.NotContains(t, err.Error(), distinctiveSecret)
		})
	}

	var usage bytes.Buffer
	_, err = LoadConfig([]string{"-wx-secret", distinctiveSecret}, fakeEnv(map[string]string{"ONESTROKE_WX_APPID": "wx123"}), &usage)
	require.Error(t, err, "no flag takes the secret")
	assert.Contains(t, err.Error(), "wx-secret")
	assert.NotContains(t, usage.String(), distinctiveSecret)
}

func TestLoadConfig_WeChatAPIURLIsHTTPSExceptToLoopback(t *testing.T) {
	prod := func(u string) map[string]string {
		return map[string]string{"ONESTROKE_WX_APPID": "wx123", "ONESTROKE_WX_SECRET": "s", "ONESTROKE_WX_API_URL": u}
	}
	for _, u := range []string{"https://api.weixin.qq.com", "https://wechat:8443/", "http://127.0.0.1:8080", "http://127.3.4.5", "http://localhost:9", "http://[::1]:8080"} {
		c, err := LoadConfig(nil, fakeEnv(prod(u)), io.Discard)
		require.NoError(t, err, u)
		assert.Equal(t, u, c.WxAPIURL)
	}
	for _, u := range []string{"http://api.weixin.qq.com", "http://wechat:8080", "http://10.0.0.1", "http://127.0.0.1.example.com", "http://localhost.example.com", "ws://127.0.0.1"} {
		_, err := LoadConfig(nil, fakeEnv(prod(u)), io.Discard)
		require.Error(t, err, u)
		assert.Contains(t, err.Error(), "ONESTROKE_WX_API_URL")
		assert.Contains(t, err.Error(), "https://")
	}
}

func TestLoadConfig_OperatorListener(t *testing.T) {
	c, err := loadConfig(t, nil, map[string]string{"ONESTROKE_OPS_LISTEN": "off"})
	require.NoError(t, err)
	assert.Empty(t, c.OpsListen)
	c, err = loadConfig(t, []string{"-ops-listen", "0.0.0.0:9100"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "0.0.0.0:9100", c.OpsListen)
}

func TestLoadConfig_RenderCache(t *testing.T) {
	c, err := loadConfig(t, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, app.DefaultRenderCacheEntries, c.RenderCache)
	c, err = loadConfig(t, nil, map[string]string{"ONESTROKE_RENDER_CACHE": "0"})
	require.NoError(t, err)
	assert.Zero(t, c.RenderCache, "0: no rendering kept")
	_, err = loadConfig(t, nil, map[string]string{"ONESTROKE_RENDER_CACHE": "-3"})
	assert.ErrorContains(t, err, "ONESTROKE_RENDER_CACHE")
}
