package mongostore

import (
	"testing"
	"time"
)

func TestSaveBackoff_DoublesUpToItsCeiling(t *testing.T) {
	for attempt := 1; attempt < maxSaveAttempts+8; attempt++ {
		ceiling := min(minSaveBackoff<<min(attempt-1, 16), maxSaveBackoff)
		for range 200 {
			if d := saveBackoff(attempt); d < 0 || d >= ceiling {
				t.Fatalf("attempt %d: pause %s outside [0, %s)", attempt, d, ceiling)
			}
		}
	}
	if c := min(minSaveBackoff<<min(maxSaveAttempts, 16), maxSaveBackoff); c != maxSaveBackoff {
		t.Fatalf("the pauses never reach their ceiling: %s", c)
	}
	var sum time.Duration
	for range 1000 {
		sum += saveBackoff(1)
	}
	if sum == 0 {
		t.Fatal("the pause is never random")
	}
}
