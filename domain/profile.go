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
// chooseAvatar (uploaded by the mini-program; here its https URL), and the
// phone number WeChat gave for a getPhoneNumber button's code (PROTOCOL
// §8). Each is optional; the zero Profile is a user who set none.
//
// A nickName other users may see passes WeChat's content check: one it
// judged "review" is kept, flagged as awaiting review, until the next
// nickName.
type Profile struct {
	nickName         string
	avatarURL        string
	phone            PhoneNumber
	nickNameInReview bool
}

// ProfileUpdate is a change a client asks for: nil fields stay as they are.
type ProfileUpdate struct {
	NickName  *string
	AvatarURL *string
	// NickNameVerdict is msg_sec_check's verdict on NickName, set by the
	// use case that asked WeChat, never by a client: ContentRisky refuses
	// the update (ECONTENTRISKY), ContentPass stores the nickName
	// unflagged, and "" (no content check configured) too; ContentReview,
	// or a verdict this code does not know, stores it flagged.
	NickNameVerdict ContentSuggestion
}

// Phone number limits: WeChat's numbers are far shorter; these only bound
// what a store keeps.
const (
	MaxPhoneNumberLength = 32 // bytes, country code and separators included
	MaxPureNumberLength  = 20 // digits
	MaxCountryCodeLength = 4  // digits
)

// ValidatePhoneNumber checks what getuserphonenumber answered before it is
// stored: a purePhoneNumber of 1 to 20 digits, a countryCode of 1 to 4
// digits, and a phoneNumber of at most 32 bytes of digits, '+', '-', ' ',
// '(' and ')' with at least one digit.
func ValidatePhoneNumber(n PhoneNumber) error {
	bad := Errorf(EINVALID, "WeChat's answer is not a phone number.")
	if !allDigits(n.PurePhoneNumber, MaxPureNumberLength) || !allDigits(n.CountryCode, MaxCountryCodeLength) {
		return bad
	}
	if n.PhoneNumber == "" || len(n.PhoneNumber) > MaxPhoneNumberLength ||
		strings.Trim(n.PhoneNumber, "0123456789+- ()") != "" || strings.IndexAny(n.PhoneNumber, "0123456789") < 0 {
		return bad
	}
	return nil
}

// ValidatePhoneCode checks a getPhoneNumber button's code before it is
// sent to WeChat: 1 to MaxCodeLength printable ASCII characters (WeChat's
// are 64 hex digits).
func ValidatePhoneCode(code string) error {
	if code == "" || len(code) > MaxCodeLength {
		return Errorf(EINVALID, "code must be the 1 to %d characters the getPhoneNumber button gave.", MaxCodeLength)
	}
	for i := 0; i < len(code); i++ {
		if b := code[i]; b <= ' ' || b >= 0x7f {
			return Errorf(EINVALID, "code contains a character outside printable ASCII.")
		}
	}
	return nil
}

func allDigits(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
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
// on error the profile is unchanged. Errors: EINVALID for a nickName or
// avatarUrl outside the rules, ECONTENTRISKY for a nickName WeChat judged
// risky.
func (p Profile) Apply(u ProfileUpdate) (Profile, error) {
	next := p
	if u.NickName != nil {
		if err := ValidateNickName(*u.NickName); err != nil {
			return p, err
		}
		switch u.NickNameVerdict {
		case ContentRisky:
			return p, Errorf(ECONTENTRISKY, "WeChat's content check refused this nickName; choose another.")
		case ContentPass, "":
			next.nickNameInReview = false
		default:
			next.nickNameInReview = true
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

// WithPhoneNumber returns the profile with the user's phone number, after
// validating it; on error (EINVALID) the profile is unchanged.
func (p Profile) WithPhoneNumber(n PhoneNumber) (Profile, error) {
	if err := ValidatePhoneNumber(n); err != nil {
		return p, err
	}
	p.phone = n
	return p, nil
}

// UnmarshalProfileFromStorage rebuilds a profile a repository read. It
// trusts the values: they were validated when set. A record written before
// phone numbers and content checks has the zero PhoneNumber and no flag.
func UnmarshalProfileFromStorage(nickName, avatarURL string, phone PhoneNumber, nickNameInReview bool) Profile {
	return Profile{nickName: nickName, avatarURL: avatarURL, phone: phone, nickNameInReview: nickNameInReview}
}

func (p Profile) NickName() string  { return p.nickName }
func (p Profile) AvatarURL() string { return p.avatarURL }

// PhoneNumber is the user's phone number; the zero PhoneNumber when none
// was set.
func (p Profile) PhoneNumber() PhoneNumber { return p.phone }

// NickNameInReview reports whether WeChat's content check asked for the
// nickName to be reviewed (msg_sec_check's "review"): it is stored and
// shown, and flagged until the next nickName.
func (p Profile) NickNameInReview() bool { return p.nickNameInReview }

// IsZero reports whether the user set nothing.
func (p Profile) IsZero() bool { return p == Profile{} }

// UserInfo returns the user info the legacy routes answer for a user of
// the modern protocol (PROTOCOL §6: {…profile…,"openId":"…"}): the members
// the user set, then the openId. The phone number is not among them: the
// legacy answer stays what clients in the field know, and a phone number
// is shown only where §8 asks for it (GET /v2/me).
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
