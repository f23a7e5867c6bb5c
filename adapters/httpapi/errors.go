package httpapi

import (
	"net/http"

	"github.com/onestroke/onestroke/domain"
)

// Codes of failures that only HTTP has; they share the table with the
// domain's codes.
const (
	codeUnsupportedMediaType = "unsupported_media_type"
	codeMethodNotAllowed     = "method_not_allowed"
	codeNoRoute              = "no_route"
	codeHeadersTooLarge      = "headers_too_large"
	codeBodyTimeout          = "body_timeout"
)

// outcome is how one error code is answered: the HTTP status, the reason of
// the business envelope and the reason of the session error body (PROTOCOL
// §2; empty means the body has no reason, so the client fails the request
// rather than logging in again), and, where the modern routes (§6) answer
// otherwise, their status, reason and WWW-Authenticate challenge.
type outcome struct {
	status        int
	reason        string
	sessionReason string
	v2            *modern
}

// modern is a v2 route's answer of an error code (PROTOCOL §6). The
// challenge is sent too when a legacy route refuses a bearer token.
type modern struct {
	status    int
	reason    string
	challenge string // WWW-Authenticate
}

// errorTable is the one place that maps error codes to HTTP. wx.request
// hands the client the body whatever the status, so statuses are chosen for
// operators and proxies; the reasons are the protocol. The legacy columns
// are what clients in the field know, byte for byte: the v2 column never
// changes them.
var errorTable = map[string]outcome{
	domain.ESESSIONEXPIRED: {http.StatusUnauthorized, "ERR_SESSION_EXPIRED", "ERR_SESSION_EXPIRED",
		&modern{http.StatusUnauthorized, "ERR_SESSION_EXPIRED", `Bearer error="invalid_token"`}},
	domain.EEXCHANGEREFUSED: {http.StatusUnauthorized, "ERR_SESSION_KEY_EXCHANGE_FAILED", "ERR_SESSION_KEY_EXCHANGE_FAILED",
		&modern{http.StatusUnauthorized, "ERR_LOGIN_CODE_INVALID", ""}},
	domain.EEXCHANGEUNAVAILABLE: {http.StatusServiceUnavailable, "ERR_SESSION_KEY_EXCHANGE_FAILED", "ERR_SESSION_KEY_EXCHANGE_FAILED",
		&modern{http.StatusServiceUnavailable, "ERR_WECHAT_UNAVAILABLE", ""}},
	// The platform services (PROTOCOL §8) are v2 routes only; their legacy
	// columns are never answered. A stale session_key carries no
	// challenge: the token is good, and the client logs in again for a
	// fresh session_key because the reason says so.
	domain.ESESSIONKEYSTALE: {http.StatusUnauthorized, "ERR_SESSION_KEY_STALE", "",
		&modern{http.StatusUnauthorized, "ERR_SESSION_KEY_STALE", ""}},
	domain.ECONTENTRISKY: {http.StatusUnprocessableEntity, "ERR_CONTENT_RISKY", "",
		&modern{http.StatusUnprocessableEntity, "ERR_CONTENT_RISKY", ""}},
	// A refused phone code is the request's fault, not the session's: 400,
	// so that no client takes it for a login to redo.
	domain.EPHONECODEREFUSED: {http.StatusBadRequest, "ERR_PHONE_CODE_INVALID", "",
		&modern{http.StatusBadRequest, "ERR_PHONE_CODE_INVALID", ""}},
	domain.EUNTRUSTED:  {http.StatusUnauthorized, "ERR_UNTRUSTED_RAW_DATA", "ERR_UNTRUSTED_RAW_DATA", nil},
	domain.EBADRAWDATA: {http.StatusBadRequest, "ERR_INVALID_REQUEST", "", nil},
	domain.EINVALID:    {http.StatusBadRequest, "ERR_INVALID_REQUEST", "", nil},
	domain.ETOOLARGE:   {http.StatusRequestEntityTooLarge, "ERR_TOO_LARGE", "", nil},
	domain.ENOTFOUND:   {http.StatusNotFound, "ERR_NOT_FOUND", "", nil},
	domain.EQUOTA:      {http.StatusConflict, "ERR_QUOTA_EXCEEDED", "", nil},
	// A v2 conditional request's If-Match or If-None-Match: * does not
	// hold (PROTOCOL §7); the legacy routes send no precondition.
	domain.ECONFLICT: {http.StatusPreconditionFailed, "ERR_CONFLICT", "", nil},
	// The session reason is met only by a bearer token a legacy route
	// refuses: legacy clients never send one.
	domain.EUNAUTHORIZED: {http.StatusUnauthorized, "ERR_NO_SESSION", "ERR_NO_SESSION",
		&modern{http.StatusUnauthorized, "ERR_NO_SESSION", "Bearer"}},
	domain.EUNAVAILABLE:      {http.StatusServiceUnavailable, "ERR_UNAVAILABLE", "", nil},
	domain.EBUSY:             {http.StatusServiceUnavailable, "ERR_UNAVAILABLE", "", nil},
	domain.ERATELIMITED:      {http.StatusTooManyRequests, "ERR_RATE_LIMITED", "", nil},
	domain.EINTERNAL:         {http.StatusInternalServerError, "ERR_INTERNAL", "", nil},
	codeUnsupportedMediaType: {http.StatusUnsupportedMediaType, "ERR_UNSUPPORTED_MEDIA_TYPE", "", nil},
	codeMethodNotAllowed:     {http.StatusMethodNotAllowed, "ERR_METHOD_NOT_ALLOWED", "", nil},
	codeNoRoute:              {http.StatusNotFound, "ERR_NOT_FOUND", "", nil},
	codeHeadersTooLarge:      {http.StatusRequestHeaderFieldsTooLarge, "ERR_TOO_LARGE", "", nil},
	codeBodyTimeout:          {http.StatusRequestTimeout, "ERR_INVALID_REQUEST", "", nil},
}

func outcomeOf(err error) outcome {
	if o, ok := errorTable[domain.ErrorCode(err)]; ok {
		return o
	}
	return errorTable[domain.EINTERNAL]
}

// modern returns the v2 routes' answer of the outcome.
func (o outcome) modern() modern {
	if o.v2 != nil {
		return *o.v2
	}
	return modern{status: o.status, reason: o.reason}
}
