// Package clienttest runs a real graphd in-process for tests driven by Microsoft's own client code (the
// kiota Go and JavaScript SDK cores, the JavaScript Graph client): PostgreSQL from storetest, the real
// httpapi handler behind an httptest server, and graphd's own token issuer, exactly as `graphd serve` wires
// them. A test gets the service root, a token as `graphd token` prints it, and a log of the requests the
// client sent, so it can assert on what went over the wire as well as on what the client returned.
//
// Packages using it call storetest.Main from their TestMain.
package clienttest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/httpapi/auth"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
	"github.com/graphd/graphd/store/storetest"
)

// Options changes how Start runs graphd.
type Options struct {
	// TLS serves https with httptest's certificate (for 127.0.0.1 and example.com). Graph's JavaScript
	// client sends tokens to https URLs only, and follows only https nextLinks.
	TLS bool
	// PageSize and MaxPageSize are httpapi.Config's; zero takes graphd's defaults.
	PageSize, MaxPageSize int
}

// Graphd is one running graphd with a database of its own.
type Graphd struct {
	// URL is the origin, such as http://127.0.0.1:41234; ServiceRoot is URL + "/beta", the base URL that
	// Graph SDKs take.
	URL, ServiceRoot string
	// Token is a delegated DeviceManagementConfiguration.ReadWrite.All token for odata.DevTenantID, as
	// `graphd token` prints it.
	Token string
	// CertFile is the PEM file of the TLS certificate (for NODE_EXTRA_CA_CERTS); empty without TLS.
	CertFile string
	// HTTPClient trusts the server's certificate.
	HTTPClient *http.Client
	Store      *store.Store
	Issuer     *auth.Issuer

	mu       sync.Mutex
	requests []Request
}

// Request is what graphd received, in arrival order.
type Request struct {
	Method string
	// RequestURI is the request target exactly as the client sent it (path and raw query).
	RequestURI string
	Header     http.Header
	Status     int
}

// Start runs graphd until the test ends.
func Start(tb testing.TB, opts Options) *Graphd {
	tb.Helper()
	ctx := tb.Context()
	st := storetest.Open(tb)
	der, err := st.Secret(ctx, auth.SigningKeySecret, auth.NewSigningKey)
	if err != nil {
		tb.Fatalf("clienttest: signing key: %v", err)
	}
	iss, err := auth.NewIssuer(der, auth.DefaultIssuer, auth.DefaultAudience)
	if err != nil {
		tb.Fatalf("clienttest: issuer: %v", err)
	}
	jwks, err := json.Marshal(iss.JWKS())
	if err != nil {
		tb.Fatal(err)
	}
	skipKey, err := st.Secret(ctx, store.SkipTokenSecret, func() ([]byte, error) {
		k := make([]byte, 32)
		_, err := rand.Read(k)
		return k, err
	})
	if err != nil {
		tb.Fatalf("clienttest: skiptoken key: %v", err)
	}
	api := httpapi.NewServer(httpapi.Config{
		Auth:         auth.NewVerifier(auth.VerifierConfig{Issuer: auth.DefaultIssuer, Audience: auth.DefaultAudience, Keys: auth.StaticKeys{Set: iss.JWKS()}}),
		JWKS:         jwks,
		SkipTokenKey: skipKey,
		PageSize:     opts.PageSize,
		MaxPageSize:  opts.MaxPageSize,
	}, st)

	g := &Graphd{Store: st, Issuer: iss}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		api.ServeHTTP(rec, r)
		g.mu.Lock()
		g.requests = append(g.requests, Request{Method: r.Method, RequestURI: r.RequestURI, Header: r.Header.Clone(), Status: rec.status})
		g.mu.Unlock()
	})
	var srv *httptest.Server
	if opts.TLS {
		srv = httptest.NewTLSServer(h)
		g.CertFile = filepath.Join(tb.TempDir(), "graphd.pem")
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
		if err := os.WriteFile(g.CertFile, pemBytes, 0o600); err != nil {
			tb.Fatal(err)
		}
	} else {
		srv = httptest.NewServer(h)
	}
	tb.Cleanup(srv.Close)
	g.URL = srv.URL
	g.ServiceRoot = srv.URL + "/beta"
	g.HTTPClient = srv.Client()
	g.Token = g.NewToken(tb, auth.TokenRequest{TenantID: odata.DevTenantID, Scopes: []string{auth.PermReadWriteAll}})
	return g
}

// NewToken signs a token with graphd's key; Subject and TTL default to `graphd token`'s.
func (g *Graphd) NewToken(tb testing.TB, r auth.TokenRequest) string {
	tb.Helper()
	if r.Subject == "" {
		r.Subject = "dev@graphd.local"
	}
	if r.TTL == 0 {
		r.TTL = time.Hour
	}
	tok, err := g.Issuer.Sign(r)
	if err != nil {
		tb.Fatalf("clienttest: sign token: %v", err)
	}
	return tok
}

// Connectors is the certificateConnectorDetails entity set.
var Connectors = odata.Graph().MustSet(odata.ConnectorsSet)

// NewConnector builds a connector with an id and property values by name; the others take the create defaults.
func NewConnector(id string, values map[string]odata.Value) odata.Entity {
	p := odata.NewPatch(Connectors.Type)
	for name, v := range values {
		p.SetName(name, v)
	}
	return odata.NewEntity(Connectors.Type, id, &p, odata.ZeroDateTimeOffset)
}

// Import stores connectors, ids included, in the development tenant.
func (g *Graphd) Import(tb testing.TB, conns ...odata.Entity) {
	tb.Helper()
	set := odata.ImportSet{Entities: make([][]odata.Entity, len(odata.Graph().Sets))}
	set.Entities[Connectors.Index] = conns
	if err := g.Store.Import(tb.Context(), odata.DevTenantID, &set); err != nil {
		tb.Fatalf("clienttest: import: %v", err)
	}
}

// Requests returns the requests received so far.
func (g *Graphd) Requests() []Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Request(nil), g.requests...)
}

// ClearRequests forgets the requests received so far, so that a test sharing graphd between cases sees
// only its own.
func (g *Graphd) ClearRequests() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests = nil
}

// Connector fetches one stored row of the development tenant.
func (g *Graphd) Connector(tb testing.TB, id string) odata.Entity {
	tb.Helper()
	c, err := g.Store.Get(context.WithoutCancel(tb.Context()), Connectors, odata.DevTenantID, id)
	if err != nil {
		tb.Fatalf("clienttest: get %s: %v", id, err)
	}
	return c
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
