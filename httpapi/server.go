// Package httpapi serves the Microsoft Graph beta surface of the model's entity sets over HTTP: routing,
// content negotiation, the Graph error envelope and middleware. Payloads are parsed by odata and stored by a
// Store; every error reaches the client through respond.go.
package httpapi

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/graphd/graphd/httpapi/auth"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Store is what the handlers need of the store; tests substitute it.
type Store interface {
	Get(ctx context.Context, set *odata.EntitySet, tenant, key string) (odata.Entity, error)
	Create(ctx context.Context, set *odata.EntitySet, tenant string, p *odata.Patch, now odata.DateTimeOffset) (odata.Entity, error)
	Update(ctx context.Context, set *odata.EntitySet, tenant, key string, p *odata.Patch, cond store.Precondition, now odata.DateTimeOffset) (odata.Entity, error)
	Delete(ctx context.Context, set *odata.EntitySet, tenant, key string, cond store.Precondition) error
	List(ctx context.Context, set *odata.EntitySet, tenant string, req store.ListRequest) (store.ListResult, error)
	EncodeCursor(ctx context.Context, key []byte, bind string, c *store.Cursor) (string, error)
	DecodeCursor(ctx context.Context, key []byte, bind, token string, items int) (*store.Cursor, error)
	HealthMetrics(ctx context.Context, tenant, id string, names []string) ([]int64, error)
	HealthMetricTimeSeries(ctx context.Context, tenant, id, metric string, start, end odata.DateTimeOffset) ([]odata.MetricSample, error)
	Ping(ctx context.Context) error
}

// Authenticator validates bearer tokens.
type Authenticator interface {
	Verify(ctx context.Context, token string) (auth.Principal, error)
}

// Config holds the server's settings.
type Config struct {
	// PublicURL is the service root clients see, such as https://graph.example.test/beta; empty means the
	// request's scheme and Host plus /beta.
	PublicURL string
	// MaxBodyBytes bounds a request body after decompression; default 4 MiB.
	MaxBodyBytes int64
	Logger       *slog.Logger
	// Now is the clock for error envelopes; tests pin it.
	Now func() time.Time
	// NewRequestID makes request ids; tests pin it.
	NewRequestID func() string
	// Auth validates tokens. Nil turns authentication off (GRAPHD_AUTH=none): every request then acts in
	// odata.DevTenantID with every permission.
	Auth Authenticator
	// JWKS, when set, is published at /.well-known/jwks.json (graphd as its own token issuer).
	JWKS []byte
	// SkipTokenKey signs $skiptoken values; replicas must share it. Empty: a random key for this process.
	SkipTokenKey []byte
	// PageSize is the default page of a collection (1000, as Intune); MaxPageSize bounds
	// Prefer: odata.maxpagesize (default PageSize).
	PageSize    int
	MaxPageSize int
	// MaxHeaderBytes and MaxURLBytes bound a request's headers (431) and URL (414); RequestTimeout bounds its
	// work, database included. Zero values take the defaults.
	MaxHeaderBytes int
	MaxURLBytes    int
	RequestTimeout time.Duration
	// RateLimit, when above zero, allows each tenant that many requests a second, with bursts of RateBurst;
	// more get 429 with Retry-After.
	RateLimit float64
	RateBurst int
	// Metrics is the Prometheus registry /metrics serves; nil makes a private one.
	Metrics *prometheus.Registry
	// Model is the entity model served; default odata.Graph(). It must be the store's.
	Model *odata.Model
	// Admin, when set, turns on the test-lab admin API under /_graphd/ (admin.go); the store must then be an
	// AdminStore.
	Admin *AdminConfig
}

// Defaults of Config.
const (
	DefaultMaxBodyBytes = 4 << 20
	DefaultPageSize     = 1000
)

// server carries the dependencies the handlers share.
type server struct {
	cfg      Config
	model    *odata.Model
	store    Store
	log      *slog.Logger
	metrics  *metrics
	throttle *throttle // nil: no rate limit
	// serviceValue is the service document's value member, built from the model once.
	serviceValue []byte
	// root is the whole handler chain, which serves the requests of a $batch as it serves them alone.
	root http.Handler
	// tx runs an atomicity group's requests on one transaction.
	tx Transactor
	// clock is the time of server-set values and now(), which the admin API may pin.
	clock *labClock
	// The test lab, nil while the admin API is off: then they cost nothing on the request path.
	adminStore AdminStore
	journal    *journal
	faults     *faults
}

// Transactor runs fn so that every store operation under the context it is given runs on one transaction,
// committed when fn returns nil and rolled back otherwise. *store.Store is one; a Store that is not one makes
// atomicity groups run without a transaction (tests' fakes).
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

type noTx struct{}

func (noTx) InTx(ctx context.Context, fn func(ctx context.Context) error) error { return fn(ctx) }

// NewServer returns the whole HTTP API as one handler.
func NewServer(cfg Config, st Store) http.Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewRequestID == nil {
		cfg.NewRequestID = odata.NewGUID
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.MaxPageSize < cfg.PageSize {
		cfg.MaxPageSize = cfg.PageSize
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if cfg.MaxURLBytes <= 0 {
		cfg.MaxURLBytes = DefaultMaxURLBytes
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Metrics == nil {
		cfg.Metrics = prometheus.NewRegistry()
	}
	if len(cfg.SkipTokenKey) == 0 {
		cfg.SkipTokenKey = make([]byte, 32)
		_, _ = rand.Read(cfg.SkipTokenKey)
	}
	if cfg.Model == nil {
		cfg.Model = odata.Graph()
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	s := &server{cfg: cfg, model: cfg.Model, store: st, log: cfg.Logger, metrics: newMetrics(cfg.Metrics),
		serviceValue: serviceDocumentValue(cfg.Model)}
	if cfg.RateLimit > 0 {
		s.throttle = newThrottle(cfg.RateLimit, cfg.RateBurst, cfg.Now)
	}
	s.tx = noTx{}
	if tx, ok := st.(Transactor); ok {
		s.tx = tx
	}
	s.clock = &labClock{real: cfg.Now}
	if cfg.Admin != nil {
		as, ok := st.(AdminStore)
		if !ok || len(cfg.Admin.Token) < MinAdminTokenLength {
			panic("httpapi: the admin API needs an AdminStore and a token of at least 16 characters")
		}
		s.adminStore = as
		s.journal = newJournal(cfg.Admin.JournalSize, cfg.Admin.JournalMaxBytes)
		s.faults = &faults{}
	}
	// Recovery sits inside the access log, so a request that panicked is logged with its 500 like any other.
	s.root = s.withRequestInfo(s.withAccessLog(s.withRecovery(s.routes())))
	return s.root
}

// serviceRoot is the absolute service root for URLs in responses.
func (s *server) serviceRoot(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + serviceRootPath
}
