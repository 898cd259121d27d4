package httpapi

import (
	"net/http"
	"time"
)

// Defaults of the request limits.
const (
	DefaultMaxHeaderBytes = 32 << 10
	DefaultMaxURLBytes    = 64 << 10 // room for an 8 KiB $filter percent-encoded three times over
	DefaultRequestTimeout = 30 * time.Second
)

// withRequestLimits refuses oversized headers (431) and URLs (414) with Graph envelopes, which net/http's own
// MaxHeaderBytes answer would not have. It wraps each route's handler, after routing and authorization, in the
// contract's order of checks.
func (s *server) withRequestLimits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.RequestURI) > s.cfg.MaxURLBytes {
			s.error(w, r, &httpError{http.StatusRequestURITooLong, "RequestUriTooLong", "The request URI is longer than the server accepts."})
			return
		}
		size := 0
		for k, vs := range r.Header {
			for _, v := range vs {
				size += len(k) + len(v) + 4
			}
		}
		if size > s.cfg.MaxHeaderBytes {
			s.error(w, r, &httpError{http.StatusRequestHeaderFieldsTooLarge, "RequestHeaderFieldsTooLarge", "The request headers are larger than the server accepts."})
			return
		}
		next.ServeHTTP(w, r)
	})
}
