package identityhttp

import (
	"testing"
	"time"
)

// TestUserBucketsAreDropped: a bucket untouched for longer than it takes
// to refill is forgotten (a fresh one is the same), so memory follows the
// people active now, not everyone who ever signed in.
func TestUserBucketsAreDropped(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := LimitPerUser(nil, UserRate{PerSecond: 10, Burst: 20}).(*userLimiter)
	l.now = func() time.Time { return now }
	for i := 0; i < 20; i++ {
		if _, ok := l.take("nurse"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	wait, ok := l.take("nurse")
	if ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("21st request: ok=%v wait=%s, want refused for about 100ms", ok, wait)
	}
	l.take("doctor")
	if n := l.trackedUsers(); n != 2 {
		t.Fatalf("tracking %d people, want 2", n)
	}
	now = now.Add(l.idle + time.Second)
	l.take("head nurse")
	if n := l.trackedUsers(); n != 1 {
		t.Fatalf("after everyone idled, tracking %d people, want 1 (only the new one)", n)
	}
	// The nurse starts again with a full bucket.
	for i := 0; i < 20; i++ {
		if _, ok := l.take("nurse"); !ok {
			t.Fatalf("after idling, request %d refused", i+1)
		}
	}
}
