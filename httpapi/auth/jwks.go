package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// MinRefreshInterval bounds how often a remote JWKS is fetched again on unknown kids, so a flood of tokens with
// made-up kids cannot turn into a flood of fetches.
const MinRefreshInterval = 30 * time.Second

// JWKSSource reads a JWKS from a file or an https URL and caches it.
type JWKSSource struct {
	location string
	client   *http.Client
	now      func() time.Time
	maxAge   time.Duration

	mu      sync.Mutex
	set     *jose.JSONWebKeySet
	fetched time.Time
}

// NewJWKSSource makes a source for location: a file path, or an https:// URL (http:// only for loopback
// addresses, for tests). client may be nil.
func NewJWKSSource(location string, client *http.Client) (*JWKSSource, error) {
	if strings.HasPrefix(location, "http://") && !isLoopbackURL(location) {
		return nil, fmt.Errorf("GRAPHD_AUTH_JWKS=%q: a remote JWKS must be fetched over https", location)
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &JWKSSource{location: location, client: client, now: time.Now, maxAge: time.Hour}, nil
}

func isLoopbackURL(u string) bool {
	rest := strings.TrimPrefix(u, "http://")
	return strings.HasPrefix(rest, "127.0.0.1") || strings.HasPrefix(rest, "localhost") || strings.HasPrefix(rest, "[::1]")
}

// Keys returns the cached set, loading it on first use and again after an hour.
func (s *JWKSSource) Keys(ctx context.Context) (*jose.JSONWebKeySet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set != nil && s.now().Sub(s.fetched) < s.maxAge {
		return s.set, nil
	}
	return s.loadLocked(ctx)
}

// Refresh reloads the set unless it was loaded less than MinRefreshInterval ago. Callers queue on the mutex,
// so concurrent refreshes collapse into one fetch.
func (s *JWKSSource) Refresh(ctx context.Context) (*jose.JSONWebKeySet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set != nil && s.now().Sub(s.fetched) < MinRefreshInterval {
		return s.set, nil
	}
	return s.loadLocked(ctx)
}

func (s *JWKSSource) loadLocked(ctx context.Context) (*jose.JSONWebKeySet, error) {
	data, err := s.read(ctx)
	if err == nil {
		var set jose.JSONWebKeySet
		if err = json.Unmarshal(data, &set); err == nil {
			s.set, s.fetched = &set, s.now()
			return s.set, nil
		}
	}
	if s.set != nil {
		// Keep serving the last good set; try again after the minimum interval.
		s.fetched = s.now().Add(MinRefreshInterval - s.maxAge)
		return s.set, nil
	}
	return nil, fmt.Errorf("auth: load JWKS from %s: %w", s.location, err)
}

func (s *JWKSSource) read(ctx context.Context) ([]byte, error) {
	if !strings.HasPrefix(s.location, "https://") && !strings.HasPrefix(s.location, "http://") {
		return os.ReadFile(s.location)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.location, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", s.location, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// StaticKeys is a fixed key set, such as graphd's own.
type StaticKeys struct{ Set *jose.JSONWebKeySet }

func (s StaticKeys) Keys(context.Context) (*jose.JSONWebKeySet, error)    { return s.Set, nil }
func (s StaticKeys) Refresh(context.Context) (*jose.JSONWebKeySet, error) { return s.Set, nil }
