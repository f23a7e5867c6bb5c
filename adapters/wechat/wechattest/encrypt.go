package wechattest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// EncryptData makes what open-type buttons, wx.getShareInfo and
// wx.getWeRunData give a device for the test user name (created on first
// use): payload with "watermark":{"appid","timestamp"} added (replacing any
// the payload has), as JSON, AES-128-CBC with the user's current
// session_key, a random IV and PKCS#7 padding (PROTOCOL §8). Both results
// are standard base64. It fails when the user's session key is not base64 of
// 16 bytes (SetSessionKey can make it so) or payload is not JSON.
func (s *Server) EncryptData(name string, payload map[string]any) (encryptedData, iv string, err error) {
	s.mu.Lock()
	key := s.userLocked(name).sessionKey
	now := s.now()
	s.mu.Unlock()

	raw, err := base64.StdEncoding.DecodeString(key.Reveal())
	if err != nil || len(raw) != 16 {
		return "", "", fmt.Errorf("the session key of %q is not base64 of 16 bytes", name)
	}
	obj := make(map[string]any, len(payload)+1)
	for k, v := range payload {
		obj[k] = v
	}
	obj["watermark"] = map[string]any{"appid": s.appID, "timestamp": now.Unix()}
	plain, err := json.Marshal(obj)
	if err != nil {
		return "", "", fmt.Errorf("the payload is not JSON: %w", err)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return "", "", err
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	plain = append(plain, bytes.Repeat([]byte{byte(pad)}, pad)...)
	ivBytes := make([]byte, aes.BlockSize)
	_, _ = rand.Read(ivBytes)
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, ivBytes).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out), base64.StdEncoding.EncodeToString(ivBytes), nil
}

// SampleShareInfo is the payload the mint route encrypts for the test user
// name: what wx.getShareInfo gives for a group chat, its openGId stable per
// app and user.
func (s *Server) SampleShareInfo(name string) map[string]any {
	sum := sha256.Sum256([]byte(s.appID + "\x00group\x00" + name))
	return map[string]any{"openGId": "tG" + base64.RawURLEncoding.EncodeToString(sum[:])[:26]}
}
