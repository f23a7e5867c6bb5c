package domain

import "log/slog"

// The WeChat platform services of PROTOCOL §8: what the service asks WeChat
// beyond code2Session, each call carrying the deployment's access_token.

// AccessToken is WeChat's access_token of the app. It is a secret: every way
// of printing it prints a placeholder; Reveal is the one deliberate way to
// read it (to put it in a WeChat API call).
type AccessToken string

func (AccessToken) String() string               { return redacted }
func (AccessToken) GoString() string             { return redacted }
func (AccessToken) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (AccessToken) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (AccessToken) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (t AccessToken) Reveal() string             { return string(t) }

// PhoneNumber is what getuserphonenumber answers for a user (PROTOCOL §8).
type PhoneNumber struct {
	PhoneNumber     string // with the country code, e.g. "+86 13800138000" or "13800138000"
	PurePhoneNumber string // without it
	CountryCode     string // e.g. "86"
}

// ContentSuggestion is msg_sec_check's verdict on a text.
type ContentSuggestion string

const (
	ContentPass   ContentSuggestion = "pass"
	ContentReview ContentSuggestion = "review"
	ContentRisky  ContentSuggestion = "risky"
)

// ContentScene is msg_sec_check's scene: 1 profile, 2 comment, 3 forum,
// 4 social log.
type ContentScene int

const (
	SceneProfile ContentScene = 1
	SceneComment ContentScene = 2
	SceneForum   ContentScene = 3
	SceneSocial  ContentScene = 4
)
