package httpapi

import (
	"context"
	"testing"
	"time"
)

func TestUserSlots_BoundEachUserAndForgetIdleUsers(t *testing.T) {
	u := newUserSlots(2)
	ctx := context.Background()
	r1, err := u.acquire(ctx, "a", time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := u.acquire(ctx, "a", time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.acquire(ctx, "a", 10*time.Millisecond); err != errBusy {
		t.Fatalf("a third slot of one user: %v, want errBusy", err)
	}
	rb, err := u.acquire(ctx, "b", time.Millisecond)
	if err != nil {
		t.Fatalf("another user is not held back: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := u.acquire(cancelled, "a", time.Second); err != context.Canceled {
		t.Fatalf("a client that left: %v", err)
	}
	r1()
	if r3, err := u.acquire(ctx, "a", time.Millisecond); err != nil {
		t.Fatalf("a slot given back is taken again: %v", err)
	} else {
		r3()
	}
	r2()
	rb()
	if n := u.held(); n != 0 {
		t.Fatalf("%d users still have entries after every request ended", n)
	}
}
