package httpapi

import (
	"sync/atomic"
	"time"

	"github.com/graphd/graphd/odata"
)

// labClock is the time the server gives server-set values and now() in $filter. The admin API may pin it
// (POST /_graphd/clock), so that tools which judge lastCheckinDateTime against now can be tested; token
// lifetimes, throttling and error envelopes keep the real clock, so pinning it never locks a test out.
type labClock struct {
	real   func() time.Time
	pinned atomic.Pointer[time.Time]
}

func (c *labClock) now() time.Time {
	if p := c.pinned.Load(); p != nil {
		return *p
	}
	return c.real()
}

func (c *labClock) pin(t time.Time) { c.pinned.Store(&t) }

func (c *labClock) unpin() { c.pinned.Store(nil) }

// now is the server's time as a DateTimeOffset in UTC.
func (s *server) now() odata.DateTimeOffset { return odata.FromTime(s.clock.now().UTC()) }
