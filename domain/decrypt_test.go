package domain

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// The vectors below were made once with Node's crypto by
// testdata/decrypt_vectors.js (kept for the record): WeChat's own sample
// session_key and IV, AES-128-CBC with PKCS#7.
const (
	vecAppID    = "wx4f4bc4dec97d474b"
	vecKey      = SessionKey("tiihtNczf5v6AKRyjwEUhQ==")
	vecOtherKey = SessionKey("HyVFkGl5F5OQWJZZaNzBBg==")
	vecIV       = "r7BXXKkLb8qrSNn05n0qiA=="

	vecUserInfoPlain = `{"openId":"oGZUI0egBJY1zhBYw2KhdUfwVJJE","nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/aSKcBBPpibyKNicHNTMM0qJVh8Kjgiak2AHWr8MHM4WgMEm7GFhsf8OYrySdbvAMvTsw3mo8ibKicsnfN5pRjl1p8HQ/0","unionId":"ocMvos6NjeKLIBqg5Mr9QjxrP1FA","watermark":{"timestamp":1477314187,"appid":"wx4f4bc4dec97d474b"}}`
	vecUserInfo      = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew=="
	// White space, an escaped key, Chinese text and nesting, with the
	// watermark in the middle: the other members keep their bytes.
	vecSharePlain = "{ \"openGId\" : \"tG0nL6-5MEXe0Iu0pkkqXGjcQ-bE\",\n \"watermark\":{\"appid\":\"wx4f4bc4dec97d474b\",\"timestamp\":1700000000}, \"k\\u0065y\":[1, {\"a\":\"一笔到底\"}] }"
	vecShare      = "aaTqADaN5id+Tjbuv7cA/0/sSNikHZzFQLLUDOoWALCacl0WK0j6wbCzuENWPj+scyNPnxy/IKY/fpxuS2o4QHxzDssAQ27w4tzDZuOKKzT9EH3nAsvDu3xdAo8Sh9qqcCrQKDGJPJZM7n7yTLG3sBV0Kz8BwiCr0Xxlf8jYmpNaT9yXTqFN++lW68nfozjN1aOE0X3L8TREjr/iZ5sluQ=="
	// 64 bytes of plaintext: the padding is a whole block of sixteen 16s.
	vecFullBlockPlain = `{"watermark":{"appid":"wx4f4bc4dec97d474b"},"a":"xxxxxxxxxxxxx"}`
	vecFullBlock      = "i/89d/Qt0WYAzoa4a7IlmN+9VXJ6E7LWc3z8TMEmU8ve2xmU9BoNpi94WAfTfwADEjY+FtAKf9i4XoEGvCLhd1jlUvLHZyzfftzAD4m5+fs="

	vecUnderOtherKey          = "aNsfMh3+Jsvbmz4M0Btvnq076sQu/vLPHI7rUW5/M9tS4flQ84NJz7mMvtZk1CVoe2f0tHwiIySSJZCj//0ssx+QuVMyKIOoKCPQe1bIo90FAqgtCnAhWiFR0vclJGtozIcxQrhKJvs8ggy0AF84Dd8Zdui4Fdmo8RkQISrFAfzBuiE26aWnYzFsZtfdS57eXMoD0nV+CgpTP+v6W9MHYPfYRM37CQ117QkY8wZYt4fQkmD4MmT+VtlM2iPY73EM5nrVcpPKpIP6xUm1Iuvsbhz4223FDD40dyKTdzURwhWUj7PVqdCpeD3rksFZE+5/PlTUoLCRiNFGT3RmJYu5UmONPSb/cNocOirYpvm+17v9+xcRqO4tym3JRVkT6iIY2iuvPTttfFM8EiIokY4ZKj7xBv4KeXy2C1+9bMhClPGhpf141Kegu+GaOx2ays869UosmZoZPX20AL9Y/PNhZ3opNcTA9sNgj3usz6tHrnDVGwxF+Q7ai40sPvbG5g/o+MqNLRhepewLCdxldA9kJw=="
	vecWrongAppID             = "SyWhPK5UeX8q1hY4Sqr7hNeCL2xy13tQbkPCgDDxoCn7STUnpCR/Tg/yv28/fG4EMiLCAeGvdlKGNeuGCuJc/A=="
	vecAppIDOfOtherCase       = "SyWhPK5UeX8q1hY4Sqr7hDk7Z6TbcHoCTjRVmz5iVoAMG+M1lARbdYDjqacknobuMEE7KjkMAXEkuHyOwFQfjlpMLrOklKrLuPPpauV8D8w="
	vecAppIDUnderOtherKeyCase = "SyWhPK5UeX8q1hY4Sqr7hOtlGDN8rBcxDYfWQSUA9+NsCkDGhpcxtN6nPkCfhhc58XpR1w3qa+5rS8mJP5xYGSoGLvZzLT7mVfYmgNXL0TE="
	vecNoWatermark            = "wbTKpjqacFaLwluGwNLm9w=="
	vecTwoWatermarks          = "i/89d/Qt0WYAzoa4a7IlmHhLsL66IobFsiY2pc+tctDy7OsJkjX+zfwUQzqJsRtR9qJezJHLKqiicOcUNAqvSYowMZP3fD9K20Xg8HzaZr/WMC6/Uc4ZGlLpGYv8dyc8"
	vecWatermarkNotObject     = "SyWhPK5UeX8q1hY4Sqr7hOqFR6er2Cwie+Lap0lebdHlrbxjmVoCvucwVbynAsWE"
	vecAppIDNotString         = "SyWhPK5UeX8q1hY4Sqr7hOePls159h9e3kcR58fkWo0OjlW2qzkYrYM92ZB1beJAE1cV1qppe4x79h0/lL3nqg=="
	vecNotJSON                = "2MdkdPI3nzqekwNuiZ0DVgOY0zkW+lbDKWqqjJjJnIqw0gvMHQ8TQufhHE/RvHf9"
	vecJSONArray              = "BzXCDv8IhKND9cWvDqXzXMSwS5hloatpwdwDWtUcOx2q7ltnD/JXQxf4e5oZVgya"
	vecTrailingData           = "i/89d/Qt0WYAzoa4a7IlmN+9VXJ6E7LWc3z8TMEmU8t7ormU6TKsZGVQtUFsQbW6"
	vecNotUTF8                = "Z8gYJ6jP1bs3hZSr0l7kQfCMBe7XkwvtZzYYxjV/WmBrZkgv0x5FY6CnmQwzgsXc7D7KdW3K2gWUqqCGWnhhBw=="
	// `{"a":1234567890}` followed by a block of padding that is not PKCS#7.
	vecPadZero      = "OsHHGBqJR57+M78/oYyxWl2IQZiYyPD7D+Cc06N/S+I="
	vecPadSeventeen = "OsHHGBqJR57+M78/oYyxWnYS9la6pYF3Tp72H9IisYs="
	vecPadMixed     = "OsHHGBqJR57+M78/oYyxWjxqRCWQsic8VBuvmHdpS7c="
)

func TestDecryptData_NodeVectorsOpenWithoutTheirWatermark(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"WeChat's user info sample", vecUserInfo, strings.Replace(vecUserInfoPlain, `,"watermark":{"timestamp":1477314187,"appid":"wx4f4bc4dec97d474b"}`, "", 1)},
		{"white space, an escaped key and Chinese text around a watermark in the middle", vecShare,
			"{\"openGId\" : \"tG0nL6-5MEXe0Iu0pkkqXGjcQ-bE\",\"k\\u0065y\":[1, {\"a\":\"一笔到底\"}]}"},
		{"a whole block of padding", vecFullBlock, `{"a":"xxxxxxxxxxxxx"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecryptData(vecKey, tt.data, vecIV, vecAppID)
			if err != nil {
				t.Fatalf("DecryptData: %v", err)
			}
			if string(got) != tt.want {
				t.Fatalf("DecryptData = %s\nwant          %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Fatalf("not JSON: %s", got)
			}
		})
	}
	if len(vecFullBlockPlain) != 64 {
		t.Fatalf("the full-block vector's plaintext is %d bytes", len(vecFullBlockPlain))
	}
}

func TestDecryptData_EveryFailureIsAStaleSessionKey(t *testing.T) {
	valid := vecUserInfo
	raw, _ := base64.StdEncoding.DecodeString(valid)
	b64 := base64.StdEncoding.EncodeToString
	flipped := bytes.Clone(raw)
	flipped[len(flipped)-1] ^= 0x01 // the last byte of the last block: its padding
	tests := []struct {
		name            string
		key             SessionKey
		data, iv, appID string
	}{
		{"wrong key", vecOtherKey, valid, vecIV, vecAppID},
		{"data made under another key", vecKey, vecUnderOtherKey, vecIV, vecAppID},
		{"wrong IV", vecKey, valid, "AAAAAAAAAAAAAAAAAAAAAA==", vecAppID},
		{"truncated by a block", vecKey, b64(raw[:len(raw)-16]), vecIV, vecAppID},
		{"truncated to a part of a block", vecKey, b64(raw[:len(raw)-5]), vecIV, vecAppID},
		{"truncated base64", vecKey, valid[:len(valid)-3], vecIV, vecAppID},
		{"a changed padding byte", vecKey, b64(flipped), vecIV, vecAppID},
		{"padding of zeros", vecKey, vecPadZero, vecIV, vecAppID},
		{"padding of 17s", vecKey, vecPadSeventeen, vecIV, vecAppID},
		{"padding bytes that differ", vecKey, vecPadMixed, vecIV, vecAppID},
		{"wrong appid", vecKey, vecWrongAppID, vecIV, vecAppID},
		{"appid in other letter case", vecKey, vecAppIDOfOtherCase, vecIV, vecAppID},
		{"appid under a key of other letter case", vecKey, vecAppIDUnderOtherKeyCase, vecIV, vecAppID},
		{"no watermark", vecKey, vecNoWatermark, vecIV, vecAppID},
		{"two watermarks, the last one ours", vecKey, vecTwoWatermarks, vecIV, vecAppID},
		{"watermark a string", vecKey, vecWatermarkNotObject, vecIV, vecAppID},
		{"appid an array", vecKey, vecAppIDNotString, vecIV, vecAppID},
		{"not JSON", vecKey, vecNotJSON, vecIV, vecAppID},
		{"a JSON array", vecKey, vecJSONArray, vecIV, vecAppID},
		{"data after the object", vecKey, vecTrailingData, vecIV, vecAppID},
		{"a plaintext that is not UTF-8", vecKey, vecNotUTF8, vecIV, vecAppID},
		{"the service has no appid", vecKey, valid, vecIV, ""},
		{"data not base64", vecKey, "not base64!!", vecIV, vecAppID},
		{"data in the URL alphabet", vecKey, strings.NewReplacer("+", "-", "/", "_").Replace(valid), vecIV, vecAppID},
		{"data without its padding", vecKey, strings.TrimRight(valid, "="), vecIV, vecAppID},
		{"data with a line break", vecKey, valid[:64] + "\n" + valid[64:], vecIV, vecAppID},
		{"data empty", vecKey, "", vecIV, vecAppID},
		{"data over the limit", vecKey, strings.Repeat("AAAA", MaxEncryptedDataLength/4+1), vecIV, vecAppID},
		{"IV not base64", vecKey, valid, "r7BXXKkLb8qrSNn05n0qi!==", vecAppID},
		{"IV of 15 bytes", vecKey, valid, b64(make([]byte, 15)), vecAppID},
		{"IV of 17 bytes", vecKey, valid, b64(make([]byte, 17)), vecAppID},
		{"IV with stray bits in its last character", vecKey, valid, "r7BXXKkLb8qrSNn05n0qiB==", vecAppID},
		{"IV empty", vecKey, valid, "", vecAppID},
		{"key of 24 bytes (AES-192)", SessionKey(b64(make([]byte, 24))), valid, vecIV, vecAppID},
		{"key of 32 bytes (AES-256)", SessionKey(b64(make([]byte, 32))), valid, vecIV, vecAppID},
		{"key not base64", SessionKey("not a session key"), valid, vecIV, vecAppID},
		{"key empty", "", valid, vecIV, vecAppID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecryptData(tt.key, tt.data, tt.iv, tt.appID)
			if got != nil {
				t.Fatalf("answered %q", got)
			}
			if ErrorCode(err) != ESESSIONKEYSTALE {
				t.Fatalf("error %v, want %s", err, ESESSIONKEYSTALE)
			}
			for _, secret := range []string{tt.key.Reveal(), vecKey.Reveal(), vecOtherKey.Reveal()} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Fatalf("the error names the key: %v", err)
				}
			}
		})
	}
}

// encryptForTest is WeChat's side: plain under key and iv with PKCS#7.
func encryptForTest(key, iv, plain []byte) []byte {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	n := aes.BlockSize - len(plain)%aes.BlockSize
	padded := append(bytes.Clone(plain), bytes.Repeat([]byte{byte(n)}, n)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(padded, padded)
	return padded
}

func TestDecryptData_GoEncryptionAgreesWithNodes(t *testing.T) {
	key, _ := base64.StdEncoding.DecodeString(vecKey.Reveal())
	iv, _ := base64.StdEncoding.DecodeString(vecIV)
	for plain, data := range map[string]string{vecUserInfoPlain: vecUserInfo, vecSharePlain: vecShare, vecFullBlockPlain: vecFullBlock} {
		if got := base64.StdEncoding.EncodeToString(encryptForTest(key, iv, []byte(plain))); got != data {
			t.Errorf("the test's encryption of %.30q… is not Node's", plain)
		}
	}
}

// FuzzDecryptData: whatever the four strings, DecryptData never panics,
// and it either fails with ESESSIONKEYSTALE alone or answers one JSON
// object without a watermark.
func FuzzDecryptData(f *testing.F) {
	f.Add(vecKey.Reveal(), vecUserInfo, vecIV, vecAppID)
	f.Add(vecKey.Reveal(), vecShare, vecIV, vecAppID)
	f.Add(vecKey.Reveal(), vecPadMixed, vecIV, vecAppID)
	f.Add(vecOtherKey.Reveal(), vecUserInfo, vecIV, vecAppID)
	f.Add(vecKey.Reveal(), vecNotUTF8, vecIV, vecAppID)
	f.Add("", "", "", "")
	f.Add("AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAAA==", "wx")
	f.Fuzz(func(t *testing.T, key, data, iv, appID string) {
		got, err := DecryptData(SessionKey(key), data, iv, appID)
		checkDecryptAnswer(t, got, err)
	})
}

// FuzzDecryptData_Plaintext encrypts whatever plaintext the fuzzer makes
// under a real key, so that the JSON checks (not only the padding) meet
// every input, and holds the answer to encoding/json's reading of the
// plaintext: it succeeds exactly when the plaintext is a UTF-8 JSON object
// with distinct keys and a watermark whose one appid is ours, and then
// answers the same members without the watermark.
func FuzzDecryptData_Plaintext(f *testing.F) {
	for _, seed := range []string{
		vecUserInfoPlain, vecSharePlain, vecFullBlockPlain,
		`{"watermark":{"appid":"wx4f4bc4dec97d474b"}}`,
		`{"a":1,"watermark":{"appid":"wx4f4bc4dec97d474b","appid":"wx4f4bc4dec97d474b"}}`,
		`{"a":1,"a":2,"watermark":{"appid":"wx4f4bc4dec97d474b"}}`,
		`{"Watermark":{"appid":"wx4f4bc4dec97d474b"}}`,
		`{"water\u006dark":{"appid":"wx4f4bc4dec97d474b"}}`,
		`{"watermark":{"appid":"wx4f4bc4dec97d474\u0062"},"b":[{"c":null}]}`,
		`{"watermark":{"appid":"wx4f4bc4dec97d474b"}}x`,
		"{\"a\":\"\xff\",\"watermark\":{\"appid\":\"wx4f4bc4dec97d474b\"}}",
		`[]`, `"x"`, ``, `{`,
	} {
		f.Add([]byte(seed))
	}
	key, _ := base64.StdEncoding.DecodeString(vecKey.Reveal())
	iv, _ := base64.StdEncoding.DecodeString(vecIV)
	f.Fuzz(func(t *testing.T, plain []byte) {
		data := base64.StdEncoding.EncodeToString(encryptForTest(key, iv, plain))
		got, err := DecryptData(vecKey, data, vecIV, vecAppID)
		checkDecryptAnswer(t, got, err)
		want, ok := referenceWithoutWatermark(plain, vecAppID)
		if ok != (err == nil) {
			t.Fatalf("DecryptData(%q) = %s, %v; the reference says ok=%v", plain, got, err, ok)
		}
		if !ok {
			return
		}
		answered, err := decodeAny(got)
		if err != nil {
			t.Fatalf("answer %s: %v", got, err)
		}
		if !reflect.DeepEqual(answered, want) {
			t.Fatalf("DecryptData(%q) = %s, want the members %v", plain, got, want)
		}
		// The members keep their order (and bytes): the answer is the
		// plaintext's members in order, as decodeMembers reads them.
		in, _ := decodeMembers(string(plain))
		out, err := decodeMembers(string(got))
		if err != nil {
			t.Fatalf("answer %s: %v", got, err)
		}
		var kept []member
		for _, m := range in {
			if m.key != watermarkKey {
				kept = append(kept, m)
			}
		}
		if len(kept) != len(out) {
			t.Fatalf("%d members answered, %d kept", len(out), len(kept))
		}
		for i := range out {
			if out[i].raw != kept[i].raw {
				t.Fatalf("member %d answered as %q, the plaintext has %q", i, out[i].raw, kept[i].raw)
			}
		}
	})
}

func checkDecryptAnswer(t *testing.T, got json.RawMessage, err error) {
	t.Helper()
	if err != nil {
		if ErrorCode(err) != ESESSIONKEYSTALE || got != nil {
			t.Fatalf("failed with %v (answer %q), want %s alone", err, got, ESESSIONKEYSTALE)
		}
		return
	}
	var obj map[string]json.RawMessage
	if !utf8.Valid(got) || json.Unmarshal(got, &obj) != nil {
		t.Fatalf("answered %q: not one JSON object", got)
	}
	if _, ok := obj[watermarkKey]; ok {
		t.Fatalf("answered %q with its watermark", got)
	}
}

// referenceWithoutWatermark is the rule by encoding/json: plain is a UTF-8
// JSON object with no key twice (decodeMembers, which unescapes keys),
// whose watermark is an object with one "appid" (exact key) equal to
// appID; it returns the other members as encoding/json reads them.
func referenceWithoutWatermark(plain []byte, appID string) (any, bool) {
	var obj map[string]json.RawMessage
	if !utf8.Valid(plain) || json.Unmarshal(plain, &obj) != nil || obj == nil {
		return nil, false
	}
	if ms, err := decodeMembers(string(plain)); err != nil || len(ms) != len(obj) {
		return nil, false // a key twice
	}
	wm, ok := obj[watermarkKey]
	if !ok {
		return nil, false
	}
	var mark map[string]json.RawMessage
	if json.Unmarshal(wm, &mark) != nil || mark == nil {
		return nil, false
	}
	if ms, err := decodeMembers(string(wm)); err != nil || len(ms) != len(mark) {
		return nil, false // a key twice in the watermark: refused, whichever it is
	}
	var got string
	if a, ok := mark["appid"]; !ok || json.Unmarshal(a, &got) != nil || bytes.TrimSpace(a)[0] != '"' || got != appID {
		return nil, false
	}
	delete(obj, watermarkKey)
	out := map[string]any{}
	for k, v := range obj {
		x, err := decodeAny(v)
		if err != nil {
			return nil, false
		}
		out[k] = x
	}
	return out, true
}

// decodeAny reads JSON text with numbers as their text (1e400 is JSON too).
func decodeAny(text []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var x any
	err := dec.Decode(&x)
	return x, err
}
