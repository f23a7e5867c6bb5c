// Package domain holds onestroke's core rules: verifying a WeChat session
// (rawData decoding, the signature, the user info) and the drawing aggregate.
// It imports only the standard library; everything that talks to the world
// lives behind the interfaces in package ports.
package domain

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Adapters translate them to transport statuses in exactly one
// table (adapters/httpapi); nothing outside the domain compares error values.
const (
	// Session layer (PROTOCOL §1–2).
	ESESSIONEXPIRED      = "session_expired"      // code unknown to the session store
	EEXCHANGEREFUSED     = "exchange_refused"     // WeChat refused the code
	EEXCHANGEUNAVAILABLE = "exchange_unavailable" // WeChat could not be reached or was busy
	EUNTRUSTED           = "untrusted_raw_data"   // signature mismatch
	EBADRAWDATA          = "bad_raw_data"         // rawData is not percent-encoded JSON object text
	ESESSIONKEYSTALE     = "session_key_stale"    // the session's session_key no longer opens or decrypts
	ECONTENTRISKY        = "content_risky"        // WeChat's content check (msg_sec_check) found the text risky
	EPHONECODEREFUSED    = "phone_code_refused"   // WeChat refused a getPhoneNumber button's code (unknown, used or expired)

	// General.
	EINVALID      = "invalid"        // malformed or invalid input
	ETOOLARGE     = "too_large"      // input over a configured size limit
	ENOTFOUND     = "not_found"      // no such resource (for this owner)
	EQUOTA        = "quota_exceeded" // the owner's drawing quota would be exceeded
	ECONFLICT     = "conflict"       // a conditional change's precondition does not hold (the drawing changed since)
	EUNAUTHORIZED = "unauthorized"   // the request carries no session
	EUNAVAILABLE  = "unavailable"    // a dependency (store) is down or timed out
	EBUSY         = "busy"           // a bound on concurrent work is reached; retry later
	ERATELIMITED  = "rate_limited"   // too many attempts from one client; retry after Error.RetryAfter
	EINTERNAL     = "internal"       // a bug or an unexpected failure
)

// Error is a domain error: a code for programs and a message for people.
// Messages must never contain secrets (session_key, app secret).
type Error struct {
	Code    string
	Message string
	// Detail carries safe, structured context for clients (e.g. WeChat's errcode).
	Detail map[string]any
	// Err is the underlying cause, kept for logs; it is not shown to clients.
	Err error
	// RetryAfter, when positive, is how long the client should wait before
	// trying again (EBUSY, ERATELIMITED).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("onestroke error: code=%s message=%s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("onestroke error: code=%s message=%s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns a domain error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns a domain error with the given code and message that keeps
// cause for logs.
func Wrap(code string, cause error, message string) *Error {
	return &Error{Code: code, Message: message, Err: cause}
}

// ErrorCode returns the code of the first domain error in err's chain, or
// EINTERNAL for any other non-nil error, or "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human-readable message of the first domain error
// in err's chain; other errors get a generic text so that internals do not
// leak to clients.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorDetail returns the safe detail of the first domain error in err's chain.
func ErrorDetail(err error) map[string]any {
	var e *Error
	if errors.As(err, &e) {
		return e.Detail
	}
	return nil
}

// ErrorRetryAfter returns the RetryAfter of the first domain error in err's
// chain, or zero.
func ErrorRetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
