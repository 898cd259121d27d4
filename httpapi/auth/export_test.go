package auth

import "time"

// SetClock replaces a JWKSSource's clock, so that tests outside the package can step through
// MinRefreshInterval, RetryInterval and the cache's maximum age.
func SetClock(s *JWKSSource, now func() time.Time) { s.now = now }
