package httpapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/graphd/graphd/httpapi/auth"
	"github.com/graphd/graphd/odata"
)

// The test-lab admin API under /_graphd/, for projects that use graphd as the Graph their tests talk to: seed
// and reset tenants, pin the clock, mint tokens, read the journal of requests, and inject faults. It exists only
// when Config.Admin is set, and every call needs Authorization: Bearer <the admin token>; nothing else opens it,
// not a Graph token, and GRAPHD_AUTH=none does not relax it. The admin token opens nothing under /beta. Errors use
// the Graph envelope. Never expose it without a strong token: it can read and erase every tenant.

// AdminConfig turns the admin API on.
type AdminConfig struct {
	// Token is the bearer token every admin call needs; at least MinAdminTokenLength characters.
	Token string
	// JournalSize and JournalMaxBytes bound the request journal (defaults 1000 and 8 MiB).
	JournalSize, JournalMaxBytes int
	// Issue mints a token for POST /_graphd/tokens when graphd is its own issuer; nil otherwise.
	Issue func(auth.TokenRequest) (string, error)
}

// MinAdminTokenLength is the shortest admin token accepted.
const MinAdminTokenLength = 16

// AdminStore is what the admin API needs of the store beyond Store.
type AdminStore interface {
	Import(ctx context.Context, tenant string, set *odata.ImportSet) error
	Export(ctx context.Context, tenant string) (odata.ImportSet, error)
	DeleteTenant(ctx context.Context, tenant string) error
	DeleteAll(ctx context.Context) error
}

const adminPrefix = "/_graphd"

func (s *server) adminRoutes(handle func(string, map[string]http.Handler)) {
	admin := func(h http.Handler) http.Handler { return s.adminOnly(h) }
	handle(adminPrefix, map[string]http.Handler{http.MethodDelete: admin(s.handleResetAll())})
	handle(adminPrefix+"/tenants/{tenant}", map[string]http.Handler{http.MethodDelete: admin(s.handleResetTenant())})
	handle(adminPrefix+"/tenants/{tenant}/import", map[string]http.Handler{http.MethodPost: admin(s.handleAdminImport())})
	handle(adminPrefix+"/tenants/{tenant}/export", map[string]http.Handler{http.MethodGet: admin(s.handleAdminExport())})
	handle(adminPrefix+"/clock", map[string]http.Handler{
		http.MethodPost: admin(s.handlePinClock()), http.MethodDelete: admin(s.handleUnpinClock())})
	handle(adminPrefix+"/tokens", map[string]http.Handler{http.MethodPost: admin(s.handleAdminToken())})
	handle(adminPrefix+"/requests", map[string]http.Handler{
		http.MethodGet: admin(s.handleJournal()), http.MethodDelete: admin(s.handleClearJournal())})
	handle(adminPrefix+"/faults", map[string]http.Handler{
		http.MethodGet: admin(s.handleListFaults()), http.MethodPost: admin(s.handleAddFault()),
		http.MethodDelete: admin(s.handleClearFaults())})
	handle(adminPrefix+"/faults/{id}", map[string]http.Handler{http.MethodDelete: admin(s.handleRemoveFault())})
}

// adminOnly lets through only calls with the admin token.
func (s *server) adminOnly(h http.Handler) http.Handler {
	want := []byte("Bearer " + s.cfg.Admin.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if len(got) > 7 && strings.EqualFold(string(got[:7]), "Bearer ") {
			copy(got, "Bearer ")
		}
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="graphd-admin"`)
			s.error(w, r, &httpError{http.StatusUnauthorized, "InvalidAuthenticationToken",
				"The admin API needs Authorization: Bearer <GRAPHD_ADMIN_TOKEN>."})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// adminTenant reads the {tenant} of an admin path. With authentication off every request acts in the
// development tenant, so only that one can be seeded, read or reset.
func (s *server) adminTenant(r *http.Request) (string, error) {
	t, ok := odata.ParseGUID(mux.Vars(r)["tenant"])
	if !ok {
		return "", &httpError{http.StatusBadRequest, odata.CodeBadRequest, "The tenant in the path must be a GUID."}
	}
	if s.cfg.Auth == nil && t != odata.DevTenantID {
		return "", &httpError{http.StatusBadRequest, odata.CodeBadRequest,
			"Authentication is off (GRAPHD_AUTH=none): every request acts in the development tenant " + odata.DevTenantID + ", the only tenant the admin API serves."}
	}
	return t, nil
}

// decodeStrict reads one JSON object into v, refusing unknown members and anything after it.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

func writeAdminJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	writeBody(w, r, b)
}

func (s *server) handleAdminImport() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant, err := s.adminTenant(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		body, err := s.readJSONBody(w, r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		set, err := odata.ParseImport(s.model, body, s.now())
		if err != nil {
			s.error(w, r, err)
			return
		}
		if err := s.adminStore.Import(r.Context(), tenant, &set); err != nil {
			s.error(w, r, err)
			return
		}
		counts := make(map[string]int, len(s.model.Sets)+1)
		for _, es := range s.model.Sets {
			counts[es.Name] = set.Count(es)
		}
		counts["healthMetricSamples"] = len(set.Samples)
		writeAdminJSON(w, r, http.StatusOK, counts)
	})
}

func (s *server) handleAdminExport() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant, err := s.adminTenant(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		set, err := s.adminStore.Export(r.Context(), tenant)
		if err != nil {
			s.error(w, r, err)
			return
		}
		b := odata.AppendExport(nil, s.model, &set)
		writeRaw(w, r, "application/json", b)
	})
}

func (s *server) handleResetTenant() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant, err := s.adminTenant(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if err := s.adminStore.DeleteTenant(r.Context(), tenant); err != nil {
			s.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleResetAll restores a fresh server: no tenant data, an empty journal, no faults, the real clock.
func (s *server) handleResetAll() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.adminStore.DeleteAll(r.Context()); err != nil {
			s.error(w, r, err)
			return
		}
		s.journal.clear("")
		s.faults.clear()
		s.clock.unpin()
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *server) handlePinClock() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := s.readJSONBody(w, r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		var req struct {
			Now string `json:"now"`
		}
		if err := decodeStrict(body, &req); err != nil {
			s.error(w, r, &httpError{http.StatusBadRequest, odata.CodeBadRequest, "The body must be {\"now\": \"<DateTimeOffset>\"}."})
			return
		}
		d, ok := odata.ParseDateTimeOffset(req.Now)
		if !ok {
			s.error(w, r, &httpError{http.StatusBadRequest, odata.CodeBadRequest,
				"The value of 'now' must be a DateTimeOffset such as 2026-01-02T03:04:05Z."})
			return
		}
		t := d.Time()
		s.clock.pin(t)
		writeAdminJSON(w, r, http.StatusOK, map[string]string{"now": odata.FromTime(t.UTC()).String()})
	})
}

func (s *server) handleUnpinClock() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.clock.unpin()
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleAdminToken mints a token when graphd is its own issuer.
func (s *server) handleAdminToken() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case s.cfg.Auth == nil:
			s.error(w, r, &httpError{http.StatusConflict, odata.CodeConflict,
				"Authentication is off (GRAPHD_AUTH=none): requests need no token, and graphd mints none."})
			return
		case s.cfg.Admin.Issue == nil:
			s.error(w, r, &httpError{http.StatusConflict, odata.CodeConflict,
				"graphd is not its own token issuer here (GRAPHD_AUTH_JWKS is set): get tokens from your identity provider."})
			return
		}
		body, err := s.readJSONBody(w, r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		var req struct {
			Tenant     string   `json:"tenant"`
			Scopes     []string `json:"scopes"`
			Roles      []string `json:"roles"`
			User       string   `json:"user"`
			TTLSeconds *int     `json:"ttlSeconds"`
		}
		bad := func(msg string) { s.error(w, r, &httpError{http.StatusBadRequest, odata.CodeBadRequest, msg}) }
		// Strict, so that a misspelt "scope" is refused rather than minting a token without permissions.
		if err := decodeStrict(body, &req); err != nil {
			bad("The body must be {\"tenant\", \"scopes\": [...] or \"roles\": [...], \"user\"?, \"ttlSeconds\"?}.")
			return
		}
		tenant, ok := odata.ParseGUID(req.Tenant)
		switch {
		case !ok:
			bad("The token's tenant must be a GUID.")
			return
		case len(req.Scopes) > 0 && len(req.Roles) > 0:
			bad("Give scopes (a delegated token) or roles (an application token), not both.")
			return
		case req.TTLSeconds != nil && (*req.TTLSeconds < 1 || *req.TTLSeconds > 24*3600):
			bad("ttlSeconds must be between 1 and 86400.")
			return
		}
		ttl := time.Hour
		if req.TTLSeconds != nil {
			ttl = time.Duration(*req.TTLSeconds) * time.Second
		}
		user := req.User
		if user == "" {
			user = "graphd-test"
		}
		token, err := s.cfg.Admin.Issue(auth.TokenRequest{TenantID: tenant, Subject: user, Scopes: req.Scopes, Roles: req.Roles, TTL: ttl})
		if err != nil {
			s.error(w, r, err)
			return
		}
		writeAdminJSON(w, r, http.StatusOK, map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": int(ttl.Seconds())})
	})
}

func (s *server) handleJournal() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := journalFilter{method: q.Get("method"), tenant: q.Get("tenant"), pathPrefix: q.Get("pathPrefix")}
		if v := q.Get("status"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 100 || n > 599 {
				s.error(w, r, &httpError{http.StatusBadRequest, odata.CodeBadRequest, "status must be an HTTP status code."})
				return
			}
			f.status = n
		}
		writeAdminJSON(w, r, http.StatusOK, map[string]any{"value": s.journal.list(f)})
	})
}

func (s *server) handleClearJournal() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant := r.URL.Query().Get("tenant")
		if tenant != "" {
			t, ok := odata.ParseGUID(tenant)
			if !ok {
				s.error(w, r, &httpError{http.StatusBadRequest, odata.CodeBadRequest, "tenant must be a GUID."})
				return
			}
			tenant = t
		}
		s.journal.clear(tenant)
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *server) handleAddFault() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := s.readJSONBody(w, r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		var f Fault
		if err := decodeStrict(body, &f); err != nil {
			s.error(w, r, &httpError{http.StatusBadRequest, odata.CodeBadRequest, "The fault is not valid: " + quoteText(err.Error()) + "."})
			return
		}
		f.ID = ""
		if err := f.validate(); err != nil {
			s.error(w, r, err)
			return
		}
		writeAdminJSON(w, r, http.StatusCreated, s.faults.add(&f))
	})
}

func (s *server) handleListFaults() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeAdminJSON(w, r, http.StatusOK, map[string]any{"value": s.faults.list()})
	})
}

func (s *server) handleClearFaults() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.faults.clear()
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *server) handleRemoveFault() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.faults.remove(mux.Vars(r)["id"]) {
			s.error(w, r, odata.ErrNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
