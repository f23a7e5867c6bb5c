package httpapi

import (
	"net/http"

	"github.com/onestroke/onestroke/domain"
)

// The routes of WeChat's platform services (PROTOCOL §8) under the base
// path: a signed-in user's phone number and encryptedData. They are v2
// routes (bearer tokens, JSON bodies, the business envelope).

// MaxDecryptBodyBytes bounds a decrypt body: the largest encryptedData
// the domain opens, an IV and the JSON around them.
const MaxDecryptBodyBytes = domain.MaxEncryptedDataLength + 1<<10

// platform bounds the requests of one user that may call WeChat or
// decrypt: at most PlatformPerUser at once per user, body reads included,
// the rest waiting up to PlatformWait (then ERR_UNAVAILABLE). Each holds a
// WeChat call of up to the app's PlatformTimeout, so without it one user
// could keep any number of them (and the app's WeChat quota) busy; the
// app's per-user PlatformLimiter bounds their rate across instances.
func (s *Server) platform(next tokenHandler) tokenHandler {
	return func(w http.ResponseWriter, r *http.Request, sess *domain.TokenSession) {
		release, err := s.platformSlots.acquire(r.Context(), sess.OpenID(), s.cfg.PlatformWait)
		if err != nil {
			if r.Context().Err() == nil {
				s.writeV2Error(w, r, err)
			}
			return
		}
		defer release()
		next(w, r, sess)
	}
}

func (s *Server) v2Phone(w http.ResponseWriter, r *http.Request, sess *domain.TokenSession) {
	body, err := s.readV2Body(w, r)
	var code *string
	if err == nil {
		code, err = body.str("code")
	}
	if err == nil && code == nil {
		err = domain.Errorf(domain.EINVALID, "The body needs the code the getPhoneNumber button gave.")
	}
	var n domain.PhoneNumber
	if err == nil {
		n, err = s.cfg.Tokens.SetPhoneNumber(r.Context(), sess, *code)
	}
	if err != nil {
		s.writeV2Error(w, r, err)
		return
	}
	b := startData()
	defer putBuf(b)
	b.WriteString(`{"phoneNumber":`)
	appendJSONString(b, n.PhoneNumber)
	b.WriteString(`,"purePhoneNumber":`)
	appendJSONString(b, n.PurePhoneNumber)
	b.WriteString(`,"countryCode":`)
	appendJSONString(b, n.CountryCode)
	b.WriteByte('}')
	endData(w, b)
}

func (s *Server) v2Decrypt(w http.ResponseWriter, r *http.Request, sess *domain.TokenSession) {
	body, err := s.readV2BodyWithin(w, r, MaxDecryptBodyBytes)
	var data, iv *string
	if err == nil {
		data, err = body.str("encryptedData")
	}
	if err == nil {
		iv, err = body.str("iv")
	}
	if err == nil && (data == nil || iv == nil) {
		err = domain.Errorf(domain.EINVALID, "The body needs encryptedData and iv, as WeChat gave them.")
	}
	var plain []byte
	if err == nil {
		plain, err = s.cfg.Tokens.Decrypt(r.Context(), sess, *data, *iv)
	}
	if err != nil {
		s.writeV2Error(w, r, err)
		return
	}
	b := startData()
	defer putBuf(b)
	b.Write(plain) // one JSON object, checked by the domain
	endData(w, b)
}
