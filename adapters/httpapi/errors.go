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
// rather than logging in again).
type outcome struct {
	status        int
	reason        string
	sessionReason string
}

// errorTable is the one place that maps error codes to HTTP. wx.request
// hands the client the body whatever the status, so statuses are chosen for
// operators and proxies; the reasons are the protocol.
var errorTable = map[string]outcome{
	domain.ESESSIONEXPIRED:      {http.StatusUnauthorized, "ERR_SESSION_EXPIRED", "ERR_SESSION_EXPIRED"},
	domain.EEXCHANGEREFUSED:     {http.StatusUnauthorized, "ERR_SESSION_KEY_EXCHANGE_FAILED", "ERR_SESSION_KEY_EXCHANGE_FAILED"},
	domain.EEXCHANGEUNAVAILABLE: {http.StatusServiceUnavailable, "ERR_SESSION_KEY_EXCHANGE_FAILED", "ERR_SESSION_KEY_EXCHANGE_FAILED"},
	domain.EUNTRUSTED:           {http.StatusUnauthorized, "ERR_UNTRUSTED_RAW_DATA", "ERR_UNTRUSTED_RAW_DATA"},
	domain.EBADRAWDATA:          {http.StatusBadRequest, "ERR_INVALID_REQUEST", ""},
	domain.EINVALID:             {http.StatusBadRequest, "ERR_INVALID_REQUEST", ""},
	domain.ETOOLARGE:            {http.StatusRequestEntityTooLarge, "ERR_TOO_LARGE", ""},
	domain.ENOTFOUND:            {http.StatusNotFound, "ERR_NOT_FOUND", ""},
	domain.EQUOTA:               {http.StatusConflict, "ERR_QUOTA_EXCEEDED", ""},
	domain.EUNAUTHORIZED:        {http.StatusUnauthorized, "ERR_NO_SESSION", ""},
	domain.EUNAVAILABLE:         {http.StatusServiceUnavailable, "ERR_UNAVAILABLE", ""},
	domain.EBUSY:                {http.StatusServiceUnavailable, "ERR_UNAVAILABLE", ""},
	domain.ERATELIMITED:         {http.StatusTooManyRequests, "ERR_RATE_LIMITED", ""},
	domain.EINTERNAL:            {http.StatusInternalServerError, "ERR_INTERNAL", ""},
	codeUnsupportedMediaType:    {http.StatusUnsupportedMediaType, "ERR_UNSUPPORTED_MEDIA_TYPE", ""},
	codeMethodNotAllowed:        {http.StatusMethodNotAllowed, "ERR_METHOD_NOT_ALLOWED", ""},
	codeNoRoute:                 {http.StatusNotFound, "ERR_NOT_FOUND", ""},
	codeHeadersTooLarge:         {http.StatusRequestHeaderFieldsTooLarge, "ERR_TOO_LARGE", ""},
	codeBodyTimeout:             {http.StatusRequestTimeout, "ERR_INVALID_REQUEST", ""},
}

func outcomeOf(err error) outcome {
	if o, ok := errorTable[domain.ErrorCode(err)]; ok {
		return o
	}
	return errorTable[domain.EINTERNAL]
}
