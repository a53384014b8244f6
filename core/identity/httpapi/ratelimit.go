package identityhttp

import (
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
)

// UserRate is the per-person API request limit: a token bucket of Burst
// requests refilled at PerSecond. PerSecond 0 switches the limit off.
type UserRate struct {
	PerSecond int
	Burst     int
}

// LimitPerUser wraps auth so that each signed-in person (the owner of the
// session, personal access token or bot token — every session and token of
// one account share one bucket) may make at most r.PerSecond API requests a
// second, with bursts up to r.Burst. A request over the limit is refused with
// ERateLimited and details.retry_after (whole seconds, at least 1), which the
// router answers as 429 with a Retry-After header; it changes nothing.
//
// The buckets live in this process: with several nodes behind a load
// balancer a person's limit applies on each node. It is a guard against one
// runaway client or stolen token swamping the server, not a quota.
// Unauthenticated requests pass through unchanged (sign-in has its own
// per-address and per-login limits in the identity service).
func LimitPerUser(auth httpapi.Authenticator, r UserRate) httpapi.Authenticator {
	if r.PerSecond <= 0 {
		return auth
	}
	if r.Burst < 1 {
		r.Burst = 1
	}
	return &userLimiter{next: auth, limit: rate.Limit(r.PerSecond), burst: r.Burst,
		idle:    time.Duration(float64(r.Burst)/float64(r.PerSecond)*float64(time.Second)) + time.Second,
		buckets: map[string]*bucket{}, now: time.Now}
}

type userLimiter struct {
	next  httpapi.Authenticator
	limit rate.Limit
	burst int
	// idle is how long an untouched bucket takes to refill completely; past
	// that a fresh bucket is the same, so it is dropped.
	idle time.Duration
	now  func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// Authenticate implements httpapi.Authenticator.
func (l *userLimiter) Authenticate(r *http.Request) (core.Actor, error) {
	a, err := l.next.Authenticate(r)
	if err != nil || a.UserID == "" {
		return a, err
	}
	if wait, ok := l.take(a.UserID); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		if secs < 1 {
			secs = 1
		}
		return core.Actor{}, core.Errorf(core.ERateLimited, "too many requests from your account; slow down and retry in %d s", secs).With("retry_after", secs)
	}
	return a, nil
}

// take spends one request of uid's bucket, or reports how long until one is
// available.
func (l *userLimiter) take(uid string) (time.Duration, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > l.idle && len(l.buckets) > 0 {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > l.idle {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b := l.buckets[uid]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[uid] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now) // a refused request spends nothing
		return d, false
	}
	return 0, true
}

// trackedUsers is how many buckets are held (for tests).
func (l *userLimiter) trackedUsers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
