package domain

import (
	"bytes"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Profile limits (PROTOCOL §6).
const (
	MaxNickNameLength  = 32  // characters
	MaxAvatarURLLength = 512 // bytes
)

// Profile is what a user of the modern protocol tells about themselves:
// the nickname from <input type="nickname"> and the avatar from
// chooseAvatar (uploaded by the mini-program; here its https URL). Both are
// optional; the zero Profile is a user who set neither.
type Profile struct {
	nickName  string
	avatarURL string
}

// ProfileUpdate is a change a client asks for: nil fields stay as they are.
type ProfileUpdate struct {
	NickName  *string
	AvatarURL *string
}

// ValidateNickName: 1 to 32 characters of UTF-8, no control characters,
// not only white space.
func ValidateNickName(s string) error {
	if !utf8.ValidString(s) || strings.TrimSpace(s) == "" || utf8.RuneCountInString(s) > MaxNickNameLength {
		return Errorf(EINVALID, "nickName must be 1 to %d characters.", MaxNickNameLength)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return Errorf(EINVALID, "nickName may not contain control characters.")
	}
	return nil
}

// ValidateAvatarURL: an absolute https:// URL with a host, at most 512 bytes
// of UTF-8, no white space or control characters.
func ValidateAvatarURL(s string) error {
	if len(s) > MaxAvatarURLLength || !utf8.ValidString(s) {
		return Errorf(EINVALID, "avatarUrl must be at most %d bytes of UTF-8.", MaxAvatarURLLength)
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 {
		return Errorf(EINVALID, "avatarUrl may not contain white space or control characters.")
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return Errorf(EINVALID, "avatarUrl must be an https:// URL.")
	}
	return nil
}

// Apply returns the profile with the update applied, after validating it;
// on error the profile is unchanged.
func (p Profile) Apply(u ProfileUpdate) (Profile, error) {
	next := p
	if u.NickName != nil {
		if err := ValidateNickName(*u.NickName); err != nil {
			return p, err
		}
		next.nickName = *u.NickName
	}
	if u.AvatarURL != nil {
		if err := ValidateAvatarURL(*u.AvatarURL); err != nil {
			return p, err
		}
		next.avatarURL = *u.AvatarURL
	}
	return next, nil
}

// UnmarshalProfileFromStorage rebuilds a profile a repository read. It
// trusts the values: they were validated when set.
func UnmarshalProfileFromStorage(nickName, avatarURL string) Profile {
	return Profile{nickName: nickName, avatarURL: avatarURL}
}

func (p Profile) NickName() string  { return p.nickName }
func (p Profile) AvatarURL() string { return p.avatarURL }

// IsZero reports whether the user set nothing.
func (p Profile) IsZero() bool { return p == Profile{} }

// UserInfo returns the user info the legacy routes answer for a user of
// the modern protocol (PROTOCOL §6: {…profile…,"openId":"…"}): the members
// the user set, then the openId.
func (p Profile) UserInfo(openID string) UserInfo {
	var b bytes.Buffer
	b.WriteByte('{')
	if p.nickName != "" {
		b.WriteString(`"nickName":`)
		writeJSONString(&b, p.nickName)
		b.WriteByte(',')
	}
	if p.avatarURL != "" {
		b.WriteString(`"avatarUrl":`)
		writeJSONString(&b, p.avatarURL)
		b.WriteByte(',')
	}
	b.WriteString(`"openId":`)
	writeJSONString(&b, openID)
	b.WriteByte('}')
	return UserInfo{openID: openID, json: b.Bytes()}
}
