package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// throttle is a token bucket per tenant, as Graph throttles per tenant: rate tokens a second, up to burst.
type throttle struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newThrottle(rate float64, burst int, now func() time.Time) *throttle {
	if burst < 1 {
		burst = max(1, int(math.Ceil(rate)))
	}
	return &throttle{rate: rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// allow takes a token for tenant; when none is left it says how long until one is.
func (t *throttle) allow(tenant string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	b := t.buckets[tenant]
	if b == nil {
		if len(t.buckets) > 100_000 {
			// Bound memory under a flood of tenants: forget the full buckets, which behave as new ones do.
			for k, v := range t.buckets {
				if v.tokens+now.Sub(v.last).Seconds()*t.rate >= t.burst {
					delete(t.buckets, k)
				}
			}
		}
		b = &bucket{tokens: t.burst, last: now}
		t.buckets[tenant] = b
	}
	b.tokens = math.Min(t.burst, b.tokens+now.Sub(b.last).Seconds()*t.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / t.rate * float64(time.Second))
}

func (s *server) errThrottled(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
	s.metrics.throttled.Inc()
	s.error(w, r, &httpError{http.StatusTooManyRequests, "TooManyRequests", "Too many requests. Retry after the number of seconds in the Retry-After header."})
}
