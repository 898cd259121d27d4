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
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// MinRefreshInterval bounds how often a remote JWKS is fetched again on unknown kids, so a flood of tokens with
// made-up kids cannot turn into a flood of fetches. It also spaces the retries while a fetch keeps failing and
// an older set is still being served.
const MinRefreshInterval = 30 * time.Second

// RetryInterval spaces the attempts while no set has ever loaded: each request meanwhile fails at once (503)
// instead of queueing for a fetch of its own.
const RetryInterval = 5 * time.Second

// ReloadAhead is how long before its hourly reload is due a set in use is reloaded in the background, so that
// requests (and the token cache's hits, which depend on it) do not wait for the fetch.
const ReloadAhead = 5 * time.Minute

// reloadTimeout bounds a background reload.
const reloadTimeout = 30 * time.Second

// JWKSSource reads a JWKS from a file or an https URL and caches it.
type JWKSSource struct {
	location string
	client   *http.Client
	now      func() time.Time
	maxAge   time.Duration

	mu      sync.Mutex
	set     *jose.JSONWebKeySet
	fetched time.Time // when set was loaded
	tried   time.Time // when a load was last attempted, whatever its outcome
	err     error     // why the last load failed, while set is nil

	// state is a copy of set, fetched and tried, published after every load, so that a set that needs no load
	// is handed out without the lock (which a fetch holds).
	state     atomic.Pointer[jwksState]
	reloading atomic.Bool    // a background reload is running
	bg        sync.WaitGroup // the background reload, for tests
}

type jwksState struct {
	set            *jose.JSONWebKeySet
	fetched, tried time.Time
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

// Keys returns the cached set, loading it on first use and again after an hour (in the background from
// ReloadAhead before that, while the set is in use). While a reload fails, the old set is served and the reload
// retried every MinRefreshInterval.
func (s *JWKSSource) Keys(ctx context.Context) (*jose.JSONWebKeySet, error) {
	if set, fresh := s.Current(); fresh {
		return set, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.set != nil && s.usable(now, s.fetched, s.tried) {
		return s.set, nil
	}
	return s.loadLocked(ctx, now)
}

// Current returns the set without loading it, and whether Keys would return it without loading. Near the end of
// the set's hour it starts a reload in the background.
func (s *JWKSSource) Current() (*jose.JSONWebKeySet, bool) {
	st := s.state.Load()
	if st == nil || st.set == nil {
		return nil, false
	}
	now := s.now()
	if !s.usable(now, st.fetched, st.tried) {
		return st.set, false
	}
	if now.Sub(st.fetched) >= s.maxAge-ReloadAhead && now.Sub(st.tried) >= MinRefreshInterval {
		s.reloadInBackground()
	}
	return st.set, true
}

func (s *JWKSSource) usable(now, fetched, tried time.Time) bool {
	return now.Sub(fetched) < s.maxAge || now.Sub(tried) < MinRefreshInterval
}

// reloadInBackground starts one reload unless one is running.
func (s *JWKSSource) reloadInBackground() {
	if !s.reloading.CompareAndSwap(false, true) {
		return
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer s.reloading.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
		defer cancel()
		s.mu.Lock()
		defer s.mu.Unlock()
		// A request may have loaded while this goroutine waited for the lock.
		if now := s.now(); now.Sub(s.tried) >= MinRefreshInterval {
			_, _ = s.loadLocked(ctx, now)
		}
	}()
}

// Refresh reloads the set unless a load was attempted less than MinRefreshInterval ago, successful or not.
// Callers queue on the mutex, so concurrent refreshes collapse into one fetch.
func (s *JWKSSource) Refresh(ctx context.Context) (*jose.JSONWebKeySet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.set != nil && now.Sub(s.tried) < MinRefreshInterval {
		return s.set, nil
	}
	return s.loadLocked(ctx, now)
}

func (s *JWKSSource) loadLocked(ctx context.Context, now time.Time) (*jose.JSONWebKeySet, error) {
	if s.set == nil && s.err != nil && now.Sub(s.tried) < RetryInterval {
		return nil, s.err
	}
	defer func() { s.state.Store(&jwksState{set: s.set, fetched: s.fetched, tried: s.tried}) }()
	data, err := s.read(ctx)
	if err == nil {
		var set jose.JSONWebKeySet
		if err = json.Unmarshal(data, &set); err == nil {
			s.set, s.fetched, s.tried, s.err = &set, now, now, nil
			return s.set, nil
		}
	}
	if ctx.Err() == nil {
		// A failure of the source, not of this request's context, which says nothing about the next attempt.
		s.tried = now
	}
	if s.set != nil {
		// Keep serving the last good set.
		return s.set, nil
	}
	err = fmt.Errorf("auth: load JWKS from %s: %w", s.location, err)
	if ctx.Err() == nil {
		s.err = err
	}
	return nil, err
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
func (s StaticKeys) Current() (*jose.JSONWebKeySet, bool)                 { return s.Set, s.Set != nil }
