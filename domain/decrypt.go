package domain

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Limits of an encryptedData decrypt (PROTOCOL §8).
const (
	// MaxEncryptedDataLength bounds the base64 text of one encryptedData:
	// what open-type buttons, wx.getShareInfo and wx.getWeRunData hand a
	// client is a few kilobytes (30 days of steps, the largest, about 3 kB).
	MaxEncryptedDataLength = 64 << 10
	// encryptedIVLength is the base64 text of a 16-byte IV.
	encryptedIVLength = 24
	// watermarkKey names the member WeChat adds to every plaintext.
	watermarkKey = "watermark"
)

// errStale is every failure of DecryptData: whatever went wrong, the
// client's remedy is the same (log in again for a fresh session_key, then
// ask WeChat for fresh encryptedData), and saying which check failed would
// only help someone probing the decoder.
var errStale = Errorf(ESESSIONKEYSTALE, "The encrypted data does not open with this session's session_key; log in again and retry.")

// DecryptData opens encryptedData that WeChat made for this session
// (PROTOCOL §8): AES-128-CBC under key (base64 of 16 bytes, the
// session_key), iv (base64 of 16 bytes), strict PKCS#7 padding, and a
// plaintext that is one JSON object in UTF-8 carrying
// "watermark":{"appid":…} equal to appID. It answers the object without its
// watermark, every other member's bytes and order as WeChat wrote them.
//
// Every failure, whatever the bytes (a base64 text that is not standard
// base64, a key or IV of another length, encryptedData over
// MaxEncryptedDataLength or not whole blocks, bad padding, a plaintext that
// is not one JSON object, a missing, repeated or foreign watermark), is
// ESESSIONKEYSTALE: a session_key that changed since WeChat encrypted the
// data (the user logged in elsewhere) looks exactly like this. The
// watermark's timestamp is not checked: WeChat documents none of its
// freshness.
func DecryptData(key SessionKey, encryptedData, iv, appID string) (json.RawMessage, error) {
	if appID == "" || len(encryptedData) == 0 || len(encryptedData) > MaxEncryptedDataLength || len(iv) != encryptedIVLength {
		return nil, errStale
	}
	k, err := decodeStdBase64(key.Reveal())
	if err != nil || len(k) != 16 {
		return nil, errStale
	}
	ivb, err := decodeStdBase64(iv)
	if err != nil || len(ivb) != aes.BlockSize {
		return nil, errStale
	}
	data, err := decodeStdBase64(encryptedData)
	if err != nil || len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, errStale
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, errStale
	}
	cipher.NewCBCDecrypter(block, ivb).CryptBlocks(data, data)
	plain, ok := unpadPKCS7(data)
	if !ok {
		return nil, errStale
	}
	out, ok := withoutWatermark(string(plain), appID)
	if !ok {
		return nil, errStale
	}
	return out, nil
}

// decodeStdBase64 decodes standard base64 with its padding, as WeChat
// sends it: no URL alphabet, no unpadded text, no stray bits in the last
// character. (Go's decoder skips CR and LF; they are refused here too.)
func decodeStdBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errStale
	}
	return base64.StdEncoding.Strict().DecodeString(s)
}

// unpadPKCS7 strips PKCS#7 padding: a last byte n of 1 to the block size,
// and n bytes that all equal n.
func unpadPKCS7(b []byte) ([]byte, bool) {
	if len(b) == 0 || len(b)%aes.BlockSize != 0 {
		return nil, false
	}
	n := int(b[len(b)-1])
	if n < 1 || n > aes.BlockSize {
		return nil, false
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, false
		}
	}
	return b[:len(b)-n], true
}

// withoutWatermark checks that text is one JSON object in UTF-8 with no key
// twice and exactly one watermark naming appID, and returns the object
// without it: the other members as text has them, in order.
func withoutWatermark(text, appID string) (json.RawMessage, bool) {
	if !utf8.ValidString(text) {
		return nil, false
	}
	members, err := decodeMembers(text)
	if err != nil {
		return nil, false
	}
	var out strings.Builder
	out.Grow(len(text))
	out.WriteByte('{')
	marked := false
	seen := make(map[string]struct{}, len(members))
	for _, m := range members {
		if _, twice := seen[m.key]; twice {
			return nil, false // which one a reader takes is the reader's choice: take none
		}
		seen[m.key] = struct{}{}
		if m.key == watermarkKey {
			if !watermarkNames(m.value, appID) {
				return nil, false
			}
			marked = true
			continue
		}
		if out.Len() > 1 {
			out.WriteByte(',')
		}
		out.WriteString(m.raw)
	}
	if !marked {
		return nil, false
	}
	out.WriteByte('}')
	return json.RawMessage(out.String()), true
}

// watermarkNames reports whether a watermark's JSON text is an object with
// no key twice whose "appid" (exact key: a reader that folds case must not
// find another) is the string appID.
func watermarkNames(text, appID string) bool {
	members, err := decodeMembers(text)
	if err != nil {
		return false
	}
	found := false
	seen := make(map[string]struct{}, len(members))
	for _, m := range members {
		if _, twice := seen[m.key]; twice {
			return false
		}
		seen[m.key] = struct{}{}
		if m.key != "appid" {
			continue
		}
		var got string
		if len(m.value) == 0 || m.value[0] != '"' || json.Unmarshal([]byte(m.value), &got) != nil || got != appID {
			return false
		}
		found = true
	}
	return found
}
