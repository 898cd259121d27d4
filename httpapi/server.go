// Package httpapi serves the Microsoft Graph beta surface of certificateConnectorDetails over HTTP: routing,
// content negotiation, the Graph error envelope and middleware. Payloads are parsed by odata and stored by a
// ConnectorStore; every error reaches the client through respond.go.
package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

// ConnectorStore is what the handlers need of the store; tests substitute it.
type ConnectorStore interface {
	Get(ctx context.Context, tenant, id string) (odata.Connector, error)
	Create(ctx context.Context, tenant string, p *odata.Patch) (odata.Connector, error)
	Update(ctx context.Context, tenant, id string, p *odata.Patch, cond store.Precondition) (odata.Connector, error)
	Delete(ctx context.Context, tenant, id string, cond store.Precondition) error
	Ping(ctx context.Context) error
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
}

// DefaultMaxBodyBytes is the default bound on a request body.
const DefaultMaxBodyBytes = 4 << 20

// server carries the dependencies the handlers share.
type server struct {
	cfg   Config
	store ConnectorStore
	log   *slog.Logger
}

// NewServer returns the whole HTTP API as one handler.
func NewServer(cfg Config, st ConnectorStore) http.Handler {
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
		cfg.NewRequestID = newRequestID
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	s := &server{cfg: cfg, store: st, log: cfg.Logger}
	// Recovery sits inside the access log, so a request that panicked is logged with its 500 like any other.
	return s.withRequestInfo(s.withAccessLog(s.withRecovery(s.withCaller(s.routes()))))
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
