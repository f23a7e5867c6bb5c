package domain_test

// The domain imports only the standard library, its tests included, so they
// check with these few helpers instead of testify. assert records a failure
// and goes on; require stops the test. Equality is testify's: bytes.Equal
// for byte slices, reflect.DeepEqual otherwise.

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

type checker struct{ stop bool }

var (
	assert  = checker{}
	require = checker{stop: true}
)

func (c checker) fail(t testing.TB, what string, msgAndArgs []any) {
	t.Helper()
	if len(msgAndArgs) > 0 {
		if format, ok := msgAndArgs[0].(string); ok {
			what += "\n" + fmt.Sprintf(format, msgAndArgs[1:]...)
		}
	}
	if c.stop {
		t.Fatal(what)
	}
	t.Error(what)
}

func equal(want, got any) bool {
	if w, ok := want.([]byte); ok {
		g, ok := got.([]byte)
		return ok && bytes.Equal(w, g)
	}
	return reflect.DeepEqual(want, got)
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Chan, reflect.Func, reflect.Interface, reflect.Map, reflect.Pointer, reflect.Slice, reflect.UnsafePointer:
		return rv.IsNil()
	}
	return false
}

func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Array, reflect.Chan, reflect.Map, reflect.Slice, reflect.String:
		return rv.Len() == 0
	case reflect.Pointer:
		return rv.IsNil() || isEmpty(rv.Elem().Interface())
	}
	return rv.IsZero()
}

// contains reports whether s (a string, slice or array) holds elem.
func contains(s, elem any) bool {
	if str, ok := s.(string); ok {
		sub, ok := elem.(string)
		return ok && strings.Contains(str, sub)
	}
	rv := reflect.ValueOf(s)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return false
	}
	for i := range rv.Len() {
		if equal(rv.Index(i).Interface(), elem) {
			return true
		}
	}
	return false
}

func (c checker) Equal(t testing.TB, want, got any, msgAndArgs ...any) {
	t.Helper()
	if !equal(want, got) {
		c.fail(t, fmt.Sprintf("not equal:\nwant: %#v\n got: %#v", want, got), msgAndArgs)
	}
}

func (c checker) NotEqual(t testing.TB, notWant, got any, msgAndArgs ...any) {
	t.Helper()
	if equal(notWant, got) {
		c.fail(t, fmt.Sprintf("should differ from %#v", got), msgAndArgs)
	}
}

func (c checker) True(t testing.TB, v bool, msgAndArgs ...any) {
	t.Helper()
	if !v {
		c.fail(t, "should be true", msgAndArgs)
	}
}

func (c checker) False(t testing.TB, v bool, msgAndArgs ...any) {
	t.Helper()
	if v {
		c.fail(t, "should be false", msgAndArgs)
	}
}

func (c checker) NoError(t testing.TB, err error, msgAndArgs ...any) {
	t.Helper()
	if err != nil {
		c.fail(t, fmt.Sprintf("unexpected error: %v", err), msgAndArgs)
	}
}

func (c checker) Error(t testing.TB, err error, msgAndArgs ...any) {
	t.Helper()
	if err == nil {
		c.fail(t, "an error was expected", msgAndArgs)
	}
}

func (c checker) ErrorIs(t testing.TB, err, target error, msgAndArgs ...any) {
	t.Helper()
	if !errors.Is(err, target) {
		c.fail(t, fmt.Sprintf("error %v is not %v", err, target), msgAndArgs)
	}
}

func (c checker) ErrorAs(t testing.TB, err error, target any, msgAndArgs ...any) {
	t.Helper()
	if !errors.As(err, target) {
		c.fail(t, fmt.Sprintf("error %v is not a %T", err, target), msgAndArgs)
	}
}

func (c checker) Nil(t testing.TB, v any, msgAndArgs ...any) {
	t.Helper()
	if !isNil(v) {
		c.fail(t, fmt.Sprintf("should be nil: %#v", v), msgAndArgs)
	}
}

func (c checker) Empty(t testing.TB, v any, msgAndArgs ...any) {
	t.Helper()
	if !isEmpty(v) {
		c.fail(t, fmt.Sprintf("should be empty: %#v", v), msgAndArgs)
	}
}

func (c checker) NotEmpty(t testing.TB, v any, msgAndArgs ...any) {
	t.Helper()
	if isEmpty(v) {
		c.fail(t, "should not be empty", msgAndArgs)
	}
}

func (c checker) Len(t testing.TB, v any, n int, msgAndArgs ...any) {
	t.Helper()
	if got := reflect.ValueOf(v).Len(); got != n {
		c.fail(t, fmt.Sprintf("length %d, want %d", got, n), msgAndArgs)
	}
}

func (c checker) Same(t testing.TB, want, got any, msgAndArgs ...any) {
	t.Helper()
	w, g := reflect.ValueOf(want), reflect.ValueOf(got)
	if w.Kind() != reflect.Pointer || g.Kind() != reflect.Pointer || w.Type() != g.Type() || w.Pointer() != g.Pointer() {
		c.fail(t, fmt.Sprintf("not the same pointer: %p and %p", want, got), msgAndArgs)
	}
}

func (c checker) Contains(t testing.TB, s, elem any, msgAndArgs ...any) {
	t.Helper()
	if !contains(s, elem) {
		c.fail(t, fmt.Sprintf("%#v does not contain %#v", s, elem), msgAndArgs)
	}
}

func (c checker) NotContains(t testing.TB, s, elem any, msgAndArgs ...any) {
	t.Helper()
	if contains(s, elem) {
		c.fail(t, fmt.Sprintf("%#v should not contain %#v", s, elem), msgAndArgs)
	}
}
