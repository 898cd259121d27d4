package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/graphd/graphd/httpapi/auth"
	"github.com/graphd/graphd/odata"
)

// Caller is who a request acts for: the tenant whose rows it may touch, and the token's principal.
type Caller struct {
	TenantID  string
	Principal auth.Principal
}

// callerFrom is the caller authorization found for the request (the zero Caller before it has run). It lives in
// the request's requestInfo, which the context already carries, so authorizing costs no new context or request.
func callerFrom(ctx context.Context) Caller {
	if info, ok := ctx.Value(requestInfoKey).(*requestInfo); ok {
		return info.caller
	}
	return Caller{}
}

// devCaller is every request's caller when authentication is off.
var devCaller = Caller{TenantID: odata.DevTenantID, Principal: auth.Principal{
	TenantID: odata.DevTenantID, Subject: "dev", Scopes: []string{auth.PermReadWriteAll}}}

// allows reports whether the principal holds one of perms (none: any valid token grants access). Delegated and
// application permissions both count, so a token carrying both is judged on their union.
func allows(p *auth.Principal, perms []string) bool {
	if len(perms) == 0 {
		return true
	}
	for _, list := range [2][]string{p.Scopes, p.Roles} {
		for _, have := range list {
			for _, want := range perms {
				if strings.EqualFold(have, want) {
					return true
				}
			}
		}
	}
	return false
}

// authorized runs h for callers whose token holds one of perms, then checks the request's size limits. It runs
// after routing has chosen the handler, so an unknown path (400) or verb (405) wins over a missing token (401),
// which wins over missing permission (403), which wins over the header and URL limits (431, 414), as contract
// §0.6 orders them.
func (s *server) authorized(perms []string, h http.Handler) http.Handler {
	required := "Application is not authorized to perform this operation. Application must have one of the following scopes: " + strings.Join(perms, ", ") + "."
	h = s.withRequestLimits(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		step := stepFrom(r.Context())
		caller, ok := devCaller, true
		switch {
		case step != nil:
			// A request of a $batch acts for the batch's caller, whose token was checked once.
			caller = step.caller
		case s.cfg.Auth != nil:
			if caller, ok = s.authenticate(w, r); !ok {
				return
			}
		}
		requestInfoFrom(r.Context()).tenant = caller.TenantID
		// A fault that names a tenant fires once the caller is known, for that tenant only.
		if s.faults != nil && s.injectFault(w, r, caller.TenantID) {
			return
		}
		if caller.Principal.TenantID == auth.PersonalAccountsTenant {
			s.error(w, r, errForbidden("Personal Microsoft accounts are not supported by this API."))
			return
		}
		if !allows(&caller.Principal, perms) {
			s.error(w, r, errForbidden(required))
			return
		}
		// A $batch request is counted once, however often its atomicity group runs.
		if s.throttle != nil && (step == nil || !step.state.charged) {
			if step != nil {
				step.state.charged = true
			}
			if ok, wait := s.throttle.allow(caller.TenantID); !ok {
				s.errThrottled(w, r, wait)
				return
			}
		}
		requestInfoFrom(r.Context()).caller = caller
		h.ServeHTTP(w, r)
	})
}

// authenticate checks the bearer token and answers 401 (or 503 when the keys cannot be loaded) when it does not
// pass; ok says whether the caller may go on.
func (s *server) authenticate(w http.ResponseWriter, r *http.Request) (Caller, bool) {
	raw, err := auth.BearerToken(r.Header.Get("Authorization"))
	presented := err == nil
	var p auth.Principal
	if presented {
		p, err = s.cfg.Auth.Verify(r.Context(), raw)
	}
	if err != nil {
		var invalid *auth.InvalidTokenError
		if errors.As(err, &invalid) {
			s.unauthenticated(w, r, invalid, presented)
			return Caller{}, false
		}
		// The keys could not be loaded: a server-side problem a retry may fix.
		s.error(w, r, &unavailableAuth{cause: err})
		return Caller{}, false
	}
	requestInfoFrom(r.Context()).tenant = p.TenantID
	return Caller{TenantID: p.TenantID, Principal: p}, true
}

// authenticated runs h for a caller with a valid token, whatever its permissions, without throttling: for
// $batch, whose requests are each authorized and throttled as they run.
func (s *server) authenticated(h http.Handler) http.Handler {
	h = s.withRequestLimits(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller := devCaller
		if s.cfg.Auth != nil {
			var ok bool
			if caller, ok = s.authenticate(w, r); !ok {
				return
			}
		}
		info := requestInfoFrom(r.Context())
		info.tenant, info.caller = caller.TenantID, caller
		h.ServeHTTP(w, r)
	})
}

// unauthenticated answers 401 with a Bearer challenge (RFC 6750 §3.1): error="invalid_token" only when a bearer
// token was presented. A request without one, or with another scheme (Basic), lacks authentication
// information, and the challenge then carries no error code.
func (s *server) unauthenticated(w http.ResponseWriter, r *http.Request, e *auth.InvalidTokenError, presented bool) {
	challenge := `Bearer realm="graphd"`
	if presented {
		challenge += `, error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	s.error(w, r, &httpError{http.StatusUnauthorized, "InvalidAuthenticationToken", e.Reason})
}

func errForbidden(msg string) error {
	return &httpError{http.StatusForbidden, "Forbidden", msg}
}

// unavailableAuth is a failure to load verification keys; it is answered like an unreachable database.
type unavailableAuth struct{ cause error }

func (e *unavailableAuth) Error() string   { return "token keys unavailable: " + e.cause.Error() }
func (e *unavailableAuth) Unwrap() []error { return []error{odata.ErrUnavailable, e.cause} }
