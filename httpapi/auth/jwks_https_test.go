package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/httpapi/auth"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

// These tests run the whole HTTP API (httpapi.NewServer) with a JWKSSource that fetches its keys over TLS from
// a test identity provider whose keys rotate during the test. The source's clock is stepped, never slept on.

const (
	idpIssuer   = "https://login.example.test/{tenantid}/v2.0"
	idpAudience = "api://graphd-test"
	idpTenant   = "aaaaaaaa-0000-4000-8000-00000000000a"
	collection  = "/beta/deviceManagement/certificateConnectorDetails"
)

var idpStart = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// testClock is a clock tests step forward; it is read by request goroutines.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return idpStart.Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

type idpKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv any
}

func rsaKey(tb testing.TB, kid string) idpKey {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return idpKey{kid, jose.RS256, k}
}

func ecKey(tb testing.TB, kid string) idpKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return idpKey{kid, jose.ES256, k}
}

// token is a valid ReadWrite.All token signed by k under kid, good for three hours from the start.
func (k idpKey) token(tb testing.TB, kid string) string {
	tb.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		tb.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(map[string]any{
		"iss": strings.ReplaceAll(idpIssuer, "{tenantid}", idpTenant), "aud": idpAudience, "tid": idpTenant,
		"scp": auth.PermReadWriteAll, "nbf": idpStart.Unix(), "exp": idpStart.Add(3 * time.Hour).Unix(),
	}).Serialize()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// idp publishes a JWKS over TLS and counts the fetches. Its set can change, and it can fail.
type idp struct {
	srv     *httptest.Server
	mu      sync.Mutex
	keys    []idpKey
	failing bool
	fetches atomic.Int32
}

func newIDP(t *testing.T, keys ...idpKey) *idp {
	p := &idp{keys: keys}
	p.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.failing {
			http.Error(w, "identity provider down", http.StatusBadGateway)
			return
		}
		set := jose.JSONWebKeySet{}
		for _, k := range p.keys {
			var pub any
			switch priv := k.priv.(type) {
			case *rsa.PrivateKey:
				pub = &priv.PublicKey
			case *ecdsa.PrivateKey:
				pub = &priv.PublicKey
			}
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: pub, KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) publish(keys ...idpKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = keys
}

func (p *idp) fail(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failing = on
}

// api is graphd's HTTP API verifying with keys from p, behind a real HTTP server.
type api struct {
	url    string
	client *http.Client
}

func newAPI(t *testing.T, p *idp, clock *testClock) api {
	t.Helper()
	src, err := auth.NewJWKSSource(p.srv.URL+"/discovery/v2.0/keys", p.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	auth.SetClock(src, clock.Now)
	v := auth.NewVerifier(auth.VerifierConfig{Issuer: idpIssuer, Audience: idpAudience, Keys: src, Now: clock.Now})
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Config{Auth: v}, emptyStore{}))
	t.Cleanup(srv.Close)
	return api{url: srv.URL, client: srv.Client()}
}

// get lists the collection with the token and returns the status.
func (a api) get(t *testing.T, token string) int {
	t.Helper()
	// It runs on the goroutines of a flood too, so it reports with Error, never Fatal.
	req, err := http.NewRequestWithContext(t.Context(), "GET", a.url+collection, nil)
	if err != nil {
		t.Error(err)
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := a.client.Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	switch res.StatusCode {
	case http.StatusUnauthorized:
		if !strings.Contains(string(body), `"InvalidAuthenticationToken"`) || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer ") {
			t.Errorf("401 without the Graph envelope or the Bearer challenge: %v %s", res.Header, body)
		}
	case http.StatusServiceUnavailable:
		if res.Header.Get("Retry-After") == "" || !strings.Contains(string(body), `"code":"`+odata.CodeServiceNotAvailable+`"`) {
			t.Errorf("503 without Retry-After or the envelope: %v %s", res.Header, body)
		}
	}
	return res.StatusCode
}

// flood sends n requests at once, each with its own made-up kid, and checks they are all refused.
func (a api) flood(t *testing.T, k idpKey, n int) {
	t.Helper()
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = k.token(t, fmt.Sprintf("made-up-%d", i))
	}
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range tokens {
		wg.Go(func() { statuses[i] = a.get(t, tokens[i]) })
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusUnauthorized {
			t.Fatalf("token %d with an unknown kid: status %d, want 401", i, s)
		}
	}
}

func wantFetches(t *testing.T, p *idp, want int32, when string) {
	t.Helper()
	if got := p.fetches.Load(); got != want {
		t.Fatalf("%s: the JWKS was fetched %d times in all, want %d", when, got, want)
	}
}

func wantStatus(t *testing.T, got, want int, what string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: status %d, want %d", what, got, want)
	}
}

// TestJWKSRotationThroughHTTP rotates the identity provider's keys while graphd serves: a new key is accepted
// once graphd may look again, a revoked one is refused once the cache expires, floods of unknown kids cost at
// most one fetch per MinRefreshInterval, and an outage neither locks callers out nor turns into a fetch storm.
func TestJWKSRotationThroughHTTP(t *testing.T) {
	t.Parallel()
	k1, k2, k3, k4 := rsaKey(t, "k1"), ecKey(t, "k2"), rsaKey(t, "k3"), ecKey(t, "k4")
	p := newIDP(t, k1)
	var clock testClock
	a := newAPI(t, p, &clock)
	t1, t2, t3, t4 := k1.token(t, k1.kid), k2.token(t, k2.kid), k3.token(t, k3.kid), k4.token(t, k4.kid)

	wantStatus(t, a.get(t, t1), 200, "k1 at start")
	wantFetches(t, p, 1, "first token")
	wantStatus(t, a.get(t, t1), 200, "k1 again")
	wantFetches(t, p, 1, "cached")

	// k2 is published. Within MinRefreshInterval of the last fetch graphd does not look again, so the new key
	// is not yet known; identity providers publish keys well before they sign with them.
	p.publish(k1, k2)
	clock.Advance(time.Second)
	wantStatus(t, a.get(t, t2), 401, "k2 right after the first fetch")
	wantFetches(t, p, 1, "unknown kid within the interval")
	clock.Advance(auth.MinRefreshInterval)
	wantStatus(t, a.get(t, t2), 200, "k2 after the interval")
	wantFetches(t, p, 2, "unknown kid after the interval")
	wantStatus(t, a.get(t, t1), 200, "k1 still published")

	// A flood of made-up kids right after a fetch costs nothing; after the interval, exactly one fetch.
	a.flood(t, k2, 40)
	wantFetches(t, p, 2, "flood within the interval")
	clock.Advance(auth.MinRefreshInterval + time.Second)
	a.flood(t, k2, 40)
	wantFetches(t, p, 3, "flood after the interval")
	a.flood(t, k2, 40)
	wantFetches(t, p, 3, "second flood")

	// k1 is revoked and k3 added. The cached set still holds k1 until it is an hour old.
	p.publish(k2, k3)
	clock.Advance(time.Second)
	wantStatus(t, a.get(t, t1), 200, "revoked k1 while cached")
	clock.Advance(time.Hour)
	wantStatus(t, a.get(t, t1), 401, "revoked k1 after the cache expired")
	wantFetches(t, p, 4, "expired cache")
	wantStatus(t, a.get(t, t3), 200, "k3")
	wantStatus(t, a.get(t, t2), 200, "k2")

	// The identity provider goes down. Known keys keep working from the cache, even past its age, and neither
	// floods of unknown kids nor the expired cache fetch more than once per MinRefreshInterval.
	p.fail(true)
	clock.Advance(auth.MinRefreshInterval + time.Second)
	a.flood(t, k2, 40)
	wantFetches(t, p, 5, "flood during the outage")
	a.flood(t, k2, 40)
	wantFetches(t, p, 5, "second flood during the outage")
	wantStatus(t, a.get(t, t2), 200, "k2 during the outage")
	clock.Advance(time.Hour)
	for range 20 {
		wantStatus(t, a.get(t, t3), 200, "k3 during the outage, cache expired")
	}
	wantFetches(t, p, 6, "expired cache during the outage")
	clock.Advance(auth.MinRefreshInterval + time.Second)
	wantStatus(t, a.get(t, t3), 200, "k3 later in the outage")
	wantFetches(t, p, 7, "retry after the interval")

	// It comes back with k4, which graphd picks up at the next allowed look.
	p.publish(k2, k3, k4)
	p.fail(false)
	wantStatus(t, a.get(t, t4), 401, "k4 within the interval")
	clock.Advance(auth.MinRefreshInterval + time.Second)
	wantStatus(t, a.get(t, t4), 200, "k4 after recovery")
	wantFetches(t, p, 8, "recovery")
}

// TestJWKSUnavailableAtStart checks graphd starting while the identity provider is down: requests get 503 with
// Retry-After (not 401: the token may be fine; not 500), at most one fetch per RetryInterval however many
// requests come, and tokens work as soon as a fetch succeeds.
func TestJWKSUnavailableAtStart(t *testing.T) {
	t.Parallel()
	k1 := ecKey(t, "k1")
	p := newIDP(t, k1)
	p.fail(true)
	var clock testClock
	a := newAPI(t, p, &clock)
	tok := k1.token(t, k1.kid)

	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			if s := a.get(t, tok); s != http.StatusServiceUnavailable {
				t.Errorf("while the JWKS cannot load: status %d, want 503", s)
			}
		})
	}
	wg.Wait()
	wantFetches(t, p, 1, "30 requests while down")
	clock.Advance(auth.RetryInterval)
	wantStatus(t, a.get(t, tok), 503, "still down")
	wantFetches(t, p, 2, "retry")
	p.fail(false)
	wantStatus(t, a.get(t, tok), 503, "up again, within the retry interval")
	clock.Advance(auth.RetryInterval)
	wantStatus(t, a.get(t, tok), 200, "up again")
	wantFetches(t, p, 3, "recovered")
}

// emptyStore is a store without rows: these tests are about tokens.
type emptyStore struct{}

func (emptyStore) Get(context.Context, *odata.EntitySet, string, string) (odata.Entity, error) {
	return odata.Entity{}, odata.ErrNotFound
}
func (emptyStore) Create(context.Context, *odata.EntitySet, string, *odata.Patch, odata.DateTimeOffset) (odata.Entity, error) {
	return odata.Entity{}, odata.ErrUnavailable
}
func (emptyStore) Update(context.Context, *odata.EntitySet, string, string, *odata.Patch, store.Precondition, odata.DateTimeOffset) (odata.Entity, error) {
	return odata.Entity{}, odata.ErrNotFound
}
func (emptyStore) Delete(context.Context, *odata.EntitySet, string, string, store.Precondition) error {
	return odata.ErrNotFound
}
func (emptyStore) List(context.Context, *odata.EntitySet, string, store.ListRequest) (store.ListResult, error) {
	return store.ListResult{}, nil
}
func (emptyStore) EncodeCursor(context.Context, []byte, string, *store.Cursor) (string, error) {
	return "", odata.ErrUnavailable
}
func (emptyStore) DecodeCursor(context.Context, []byte, string, string, int) (*store.Cursor, error) {
	return nil, odata.ErrUnavailable
}
func (emptyStore) HealthMetrics(context.Context, string, string, []string) ([]int64, error) {
	return nil, odata.ErrNotFound
}
func (emptyStore) HealthMetricTimeSeries(context.Context, string, string, string, odata.DateTimeOffset, odata.DateTimeOffset) ([]odata.MetricSample, error) {
	return nil, odata.ErrNotFound
}
func (emptyStore) Ping(context.Context) error { return nil }
