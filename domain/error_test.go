package domain_test

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/onestroke/onestroke/domain"
)

func TestErrorHelpers(t *testing.T) {
	notFound := domain.Errorf(domain.ENOTFOUND, "Drawing %q not found.", "id1")
	withDetail := &domain.Error{Code: domain.EEXCHANGEREFUSED, Message: "Refused.", Detail: map[string]any{"errcode": 40029}}
	cause := errors.New("dial tcp: connection refused")
	wrapped := domain.Wrap(domain.EUNAVAILABLE, cause, "The store is down.")

	tests := []struct {
		name        string
		err         error
		wantCode    string
		wantMessage string
		wantDetail  map[string]any
	}{
		{"nil", nil, "", "", nil},
		{"domain error", notFound, domain.ENOTFOUND, `Drawing "id1" not found.`, nil},
		{"domain error with detail", withDetail, domain.EEXCHANGEREFUSED, "Refused.", map[string]any{"errcode": 40029}},
		{"wrapped once with %w", fmt.Errorf("save: %w", notFound), domain.ENOTFOUND, `Drawing "id1" not found.`, nil},
		{"wrapped twice with %w", fmt.Errorf("http: %w", fmt.Errorf("save: %w", withDetail)), domain.EEXCHANGEREFUSED, "Refused.", map[string]any{"errcode": 40029}},
		{"joined with a plain error", errors.Join(io.EOF, notFound), domain.ENOTFOUND, `Drawing "id1" not found.`, nil},
		{"domain error with a cause", wrapped, domain.EUNAVAILABLE, "The store is down.", nil},
		{"outermost domain error wins", domain.Wrap(domain.EINVALID, notFound, "Outer."), domain.EINVALID, "Outer.", nil},
		{"plain error", errors.New("boom: secret internals"), domain.EINTERNAL, "Internal error.", nil},
		{"wrapped plain error", fmt.Errorf("ctx: %w", io.ErrUnexpectedEOF), domain.EINTERNAL, "Internal error.", nil},
		{"formatted with %v loses the code", fmt.Errorf("save: %v", notFound), domain.EINTERNAL, "Internal error.", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.wantCode, domain.ErrorCode(tt.err))
			assert.Equal(t, tt.wantMessage, domain.ErrorMessage(tt.err))
			assert.Equal(t, tt.wantDetail, domain.ErrorDetail(tt.err))
		})
	}
}

func TestErrorMessage_DoesNotLeakInternals(t *testing.T) {
	err := fmt.Errorf("redis AUTH hunter2: %w", errors.New("WRONGPASS"))
	assert.NotContains(t, domain.ErrorMessage(err), "hunter2")
	assert.NotContains(t, domain.ErrorMessage(err), "WRONGPASS")
}

func TestError_ErrorAndUnwrap(t *testing.T) {
	cause := errors.New("connection reset")

	t.Run("without cause", func(t *testing.T) {
		err := domain.Errorf(domain.EINVALID, "Bad %s.", "id")
		assert.Equal(t, "onestroke error: code=invalid message=Bad id.", err.Error())
		assert.Nil(t, errors.Unwrap(err))
	})
	t.Run("with cause", func(t *testing.T) {
		err := domain.Wrap(domain.EUNAVAILABLE, cause, "Store down.")
		assert.Equal(t, "onestroke error: code=unavailable message=Store down.: connection reset", err.Error())
		assert.ErrorIs(t, err, cause)
		assert.Same(t, cause, errors.Unwrap(err))
	})
	t.Run("errors.As finds it through wrapping", func(t *testing.T) {
		var e *domain.Error
		require.ErrorAs(t, fmt.Errorf("x: %w", domain.Wrap(domain.EUNAVAILABLE, cause, "Store down.")), &e)
		assert.Equal(t, domain.EUNAVAILABLE, e.Code)
		assert.Same(t, cause, e.Err)
	})
	t.Run("Errorf formats its message", func(t *testing.T) {
		err := domain.Errorf(domain.EINVALID, "%d%%", 100)
		assert.Equal(t, "100%", domain.ErrorMessage(err))
	})
}

func TestErrorRetryAfter(t *testing.T) {
	err := fmt.Errorf("login: %w", &domain.Error{Code: domain.ERATELIMITED, Message: "slow down", RetryAfter: 1500 * time.Millisecond})
	assert.Equal(t, 1500*time.Millisecond, domain.ErrorRetryAfter(err))
	assert.Equal(t, time.Duration(0), domain.ErrorRetryAfter(domain.Errorf(domain.EBUSY, "busy")))
	assert.Equal(t, time.Duration(0), domain.ErrorRetryAfter(errors.New("plain")))
	assert.Equal(t, time.Duration(0), domain.ErrorRetryAfter(nil))
}
