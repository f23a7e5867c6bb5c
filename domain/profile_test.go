package domain_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/onestroke/onestroke/domain"
)

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
