package domain_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/onestroke/onestroke/domain"
)

func ptr(s string) *string { return &s }

func TestValidateNickName(t *testing.T) {
	ok := map[string]string{
		"one character":                    "a",
		"32 ASCII characters":              strings.Repeat("a", 32),
		"32 CJK characters (96 bytes)":     strings.Repeat("笔", 32),
		"32 emoji (128 bytes)":             strings.Repeat("🎨", 32),
		"inner spaces":                     "一笔 到底",
		"surrounding spaces around a name": " 小明 ",
		"punctuation and quotes":           `a "quoted" <b>&'x'`,
	}
	for name, s := range ok {
		assert.NoError(t, domain.ValidateNickName(s), name)
	}
	refused := map[string]string{
		"empty":                       "",
		"33 ASCII characters":         strings.Repeat("a", 33),
		"33 CJK characters":           strings.Repeat("笔", 33),
		"only spaces":                 "   ",
		"only an ideographic space":   "\u3000",
		"only a no-break space":       "\u00a0",
		"only a tab":                  "\t",
		"a newline":                   "小\n明",
		"a NUL":                       "ab\x00",
		"DEL":                         "ab\x7f",
		"a C1 control":                "ab\u0085",
		"an escape sequence":          "\x1b[2Jname",
		"invalid UTF-8":               "ab\xff",
		"a truncated CJK character":   "小明"[:4],
		"a CR before a valid name":    "\rname",
		"32 characters and a newline": strings.Repeat("a", 31) + "\n",
	}
	for name, s := range refused {
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(domain.ValidateNickName(s)), name)
	}
}

func TestValidateAvatarURL(t *testing.T) {
	long := "https://wx.qlogo.cn/" + strings.Repeat("a", 512-len("https://wx.qlogo.cn/"))
	require.Equal(t, 512, len(long))
	ok := map[string]string{
		"a WeChat avatar":         "https://thirdwx.qlogo.cn/mmopen/vi_32/abc/132",
		"a query and a fragment":  "https://cdn.example.com/a.png?x=1&y=2#top",
		"a port":                  "https://cdn.example.com:8443/a.png",
		"an IPv6 host":            "https://[2001:db8::1]/a.png",
		"percent-encoded space":   "https://cdn.example.com/my%20avatar.png",
		"512 bytes":               long,
		"an upper-case scheme":    "HTTPS://cdn.example.com/a.png",
		"a host and nothing more": "https://cdn.example.com",
	}
	for name, s := range ok {
		assert.NoError(t, domain.ValidateAvatarURL(s), name)
	}
	refused := map[string]string{
		"empty":                      "",
		"513 bytes":                  long + "a",
		"10 kB":                      "https://a.example/" + strings.Repeat("a", 10*1024),
		"http":                       "http://cdn.example.com/a.png",
		"no scheme":                  "//cdn.example.com/a.png",
		"a path only":                "/a.png",
		"javascript":                 "javascript:alert(1)",
		"data":                       "data:image/png;base64,iVBORw0KGgo=",
		"wxfile":                     "wxfile://tmp_abc.png",
		"no host":                    "https:///a.png",
		"opaque":                     "https:cdn.example.com/a.png",
		"user and password":          "https://user:pw@cdn.example.com/a.png",
		"a user":                     "https://user@cdn.example.com/a.png",
		"an empty user":              "https://@cdn.example.com/a.png",
		"a backslash before @":       `https://evil.example\@cdn.example.com/a.png`,
		"a space":                    "https://cdn.example.com/my avatar.png",
		"a leading space":            " https://cdn.example.com/a.png",
		"a trailing newline":         "https://cdn.example.com/a.png\n",
		"a tab":                      "https://cdn.example.com/\ta.png",
		"a no-break space":           "https://cdn.example.com/\u00a0a.png",
		"an ideographic space":       "https://cdn.example.com/\u3000a.png",
		"a NUL":                      "https://cdn.example.com/a.png\x00",
		"a bad percent escape":       "https://cdn.example.com/%zz",
		"invalid UTF-8":              "https://cdn.example.com/\xff.png",
		"a truncated UTF-8 sequence": "https://cdn.example.com/" + "头像"[:4],
	}
	for name, s := range refused {
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(domain.ValidateAvatarURL(s)), name)
	}
}

func TestProfile_Apply(t *testing.T) {
	var zero domain.Profile
	assert.True(t, zero.IsZero())
	assert.Equal(t, "", zero.NickName())
	assert.Equal(t, "", zero.AvatarURL())

	p, err := zero.Apply(domain.ProfileUpdate{NickName: ptr("小明")})
	require.NoError(t, err)
	assert.Equal(t, "小明", p.NickName())
	assert.Equal(t, "", p.AvatarURL(), "a nil field stays")
	assert.False(t, p.IsZero())
	assert.True(t, zero.IsZero(), "Apply returns a new profile")

	p, err = p.Apply(domain.ProfileUpdate{AvatarURL: ptr("https://cdn.example.com/a.png")})
	require.NoError(t, err)
	assert.Equal(t, "小明", p.NickName(), "a nil field stays")
	assert.Equal(t, "https://cdn.example.com/a.png", p.AvatarURL())

	same, err := p.Apply(domain.ProfileUpdate{})
	require.NoError(t, err)
	assert.Equal(t, p, same, "an empty update changes nothing")

	both, err := p.Apply(domain.ProfileUpdate{NickName: ptr("Ming"), AvatarURL: ptr("https://cdn.example.com/b.png")})
	require.NoError(t, err)
	assert.Equal(t, "Ming", both.NickName())
	assert.Equal(t, "https://cdn.example.com/b.png", both.AvatarURL())
}

func TestProfile_ApplyLeavesTheProfileUnchangedOnError(t *testing.T) {
	p := domain.UnmarshalProfileFromStorage("小明", "https://cdn.example.com/a.png", cnPhone, true)
	cases := map[string]domain.ProfileUpdate{
		"a bad nickName":                    {NickName: ptr("")},
		"a bad avatarUrl":                   {AvatarURL: ptr("http://cdn.example.com/a.png")},
		"a good nickName, a bad avatarUrl":  {NickName: ptr("Ming"), AvatarURL: ptr("http://x")},
		"a bad nickName, a good avatarUrl":  {NickName: ptr("a\nb"), AvatarURL: ptr("https://cdn.example.com/b.png")},
		"a nickName of 33 characters":       {NickName: ptr(strings.Repeat("笔", 33))},
		"an avatarUrl over 512 bytes":       {AvatarURL: ptr("https://a.example/" + strings.Repeat("a", 500))},
		"a good avatarUrl, a bad nick only": {NickName: ptr(" "), AvatarURL: ptr("https://cdn.example.com/c.png")},
		"a bad nickName WeChat passed":      {NickName: ptr("a\x00"), NickNameVerdict: domain.ContentPass},
	}
	for name, u := range cases {
		got, err := p.Apply(u)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err), name)
		assert.Equal(t, p, got, name)
		assert.Equal(t, "小明", p.NickName(), name)
		assert.Equal(t, "https://cdn.example.com/a.png", p.AvatarURL(), name)
	}
}

func TestUnmarshalProfileFromStorage(t *testing.T) {
	p := domain.UnmarshalProfileFromStorage("一笔到底🎨", "https://cdn.example.com/头像.png", cnPhone, true)
	assert.Equal(t, "一笔到底🎨", p.NickName())
	assert.Equal(t, "https://cdn.example.com/头像.png", p.AvatarURL())
	assert.Equal(t, cnPhone, p.PhoneNumber())
	assert.True(t, p.NickNameInReview())
	assert.True(t, domain.UnmarshalProfileFromStorage("", "", domain.PhoneNumber{}, false).IsZero())
	assert.False(t, domain.UnmarshalProfileFromStorage("", "https://a.example/", domain.PhoneNumber{}, false).IsZero())
	assert.False(t, domain.UnmarshalProfileFromStorage("", "", cnPhone, false).IsZero(), "a phone number alone is a profile")
}

var cnPhone = domain.PhoneNumber{PhoneNumber: "13800138000", PurePhoneNumber: "13800138000", CountryCode: "86"}

// The content check's verdict decides what a new nickName does (PROTOCOL
// §8): risky is refused and changes nothing, review is stored flagged, pass
// (or no check) is stored unflagged; an update without a nickName keeps the
// flag as it is.
func TestProfile_ApplyWithTheContentChecksVerdict(t *testing.T) {
	before, err := domain.Profile{}.Apply(domain.ProfileUpdate{NickName: ptr("小明"), AvatarURL: ptr("https://cdn.example.com/a.png")})
	require.NoError(t, err)
	assert.False(t, before.NickNameInReview())

	_, err = before.Apply(domain.ProfileUpdate{NickName: ptr("坏名字"), AvatarURL: ptr("https://cdn.example.com/b.png"), NickNameVerdict: domain.ContentRisky})
	assert.Equal(t, domain.ECONTENTRISKY, domain.ErrorCode(err))
	assert.NotContains(t, domain.ErrorMessage(err), "坏名字", "the message does not echo the text")

	review, err := before.Apply(domain.ProfileUpdate{NickName: ptr("可疑"), NickNameVerdict: domain.ContentReview})
	require.NoError(t, err)
	assert.Equal(t, "可疑", review.NickName(), "stored")
	assert.True(t, review.NickNameInReview(), "and flagged")

	avatarOnly, err := review.Apply(domain.ProfileUpdate{AvatarURL: ptr("https://cdn.example.com/c.png")})
	require.NoError(t, err)
	assert.True(t, avatarOnly.NickNameInReview(), "no new nickName: the flag stays")

	unknown, err := before.Apply(domain.ProfileUpdate{NickName: ptr("新"), NickNameVerdict: "suspicious"})
	require.NoError(t, err)
	assert.True(t, unknown.NickNameInReview(), "a verdict this code does not know is not a pass")

	for _, v := range []domain.ContentSuggestion{domain.ContentPass, ""} {
		passed, err := review.Apply(domain.ProfileUpdate{NickName: ptr("小明二"), NickNameVerdict: v})
		require.NoError(t, err)
		assert.Equal(t, "小明二", passed.NickName())
		assert.False(t, passed.NickNameInReview(), "verdict %q clears the flag", v)
	}
}

func TestProfile_WithPhoneNumber(t *testing.T) {
	p, err := domain.Profile{}.Apply(domain.ProfileUpdate{NickName: ptr("小明")})
	require.NoError(t, err)
	with, err := p.WithPhoneNumber(cnPhone)
	require.NoError(t, err)
	assert.Equal(t, cnPhone, with.PhoneNumber())
	assert.Equal(t, "小明", with.NickName(), "the rest stays")
	assert.Equal(t, domain.PhoneNumber{}, p.PhoneNumber(), "a new profile is returned")
	_, err = with.Apply(domain.ProfileUpdate{NickName: ptr("Ming")})
	require.NoError(t, err)
	abroad := domain.PhoneNumber{PhoneNumber: "+1 (415) 555-0100", PurePhoneNumber: "4155550100", CountryCode: "1"}
	require.NoError(t, domain.ValidatePhoneNumber(abroad))

	for name, n := range map[string]domain.PhoneNumber{
		"zero":                       {},
		"no pure number":             {PhoneNumber: "13800138000", CountryCode: "86"},
		"no country code":            {PhoneNumber: "13800138000", PurePhoneNumber: "13800138000"},
		"a letter in the pure":       {PhoneNumber: "13800138000", PurePhoneNumber: "1380013800O", CountryCode: "86"},
		"a pure number of 21 digits": {PhoneNumber: "1", PurePhoneNumber: strings.Repeat("1", 21), CountryCode: "86"},
		"a country code of 5":        {PhoneNumber: "1", PurePhoneNumber: "1", CountryCode: "12345"},
		"a plus in the country code": {PhoneNumber: "1", PurePhoneNumber: "1", CountryCode: "+86"},
		"a phoneNumber of 33 bytes":  {PhoneNumber: strings.Repeat("1", 33), PurePhoneNumber: "1", CountryCode: "86"},
		"markup in the phoneNumber":  {PhoneNumber: "<script>1", PurePhoneNumber: "1", CountryCode: "86"},
		"a newline":                  {PhoneNumber: "138\n0013", PurePhoneNumber: "1380013", CountryCode: "86"},
		"no digit":                   {PhoneNumber: "+ -", PurePhoneNumber: "1", CountryCode: "86"},
		"full-width digits":          {PhoneNumber: "１３８", PurePhoneNumber: "１３８", CountryCode: "86"},
	} {
		got, err := with.WithPhoneNumber(n)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err), name)
		assert.Equal(t, with, got, "unchanged: %s", name)
	}
}

func TestProfileUserInfo_TheSetMembersThenTheOpenID(t *testing.T) {
	assert.Equal(t, `{"openId":"oALICE"}`, string(domain.Profile{}.UserInfo("oALICE").JSON()))
	nick := `Al "一笔" \ </script>`
	p, err := domain.Profile{}.Apply(domain.ProfileUpdate{NickName: &nick})
	require.NoError(t, err)
	u := p.UserInfo("oALICE")
	var back map[string]string
	require.NoError(t, json.Unmarshal(u.JSON(), &back))
	assert.Equal(t, map[string]string{"nickName": nick, "openId": "oALICE"}, back, "escaped as JSON")
	assert.Equal(t, "oALICE", u.OpenID())
	again, err := domain.UserInfoFromJSON(u.JSON())
	require.NoError(t, err, "a user info the legacy readers accept")
	assert.Equal(t, "oALICE", again.OpenID())
}

func TestValidateLoginCode(t *testing.T) {
	assert.NoError(t, domain.ValidateLoginCode("0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"))
	for _, bad := range []string{"", "a b", "c\x00d", "画", strings.Repeat("c", domain.MaxCodeLength+1)} {
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(domain.ValidateLoginCode(bad)), "%q", bad)
	}
}

func TestValidatePhoneCode(t *testing.T) {
	assert.NoError(t, domain.ValidatePhoneCode(strings.Repeat("e3", 32)))
	for _, bad := range []string{"", "a b", "c\x00d", "码", "a\tb", strings.Repeat("c", domain.MaxCodeLength+1)} {
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(domain.ValidatePhoneCode(bad)), "%q", bad)
	}
}
