package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Leeway is the clock skew allowed on exp, nbf and iat.
const Leeway = 60 * time.Second

// KeySource supplies the verification keys of a JWKS and can be asked to look again (key rotation).
type KeySource interface {
	Keys(ctx context.Context) (*jose.JSONWebKeySet, error)
	// Refresh reloads the set, at most as often as the source allows; it returns the current set either way.
	Refresh(ctx context.Context) (*jose.JSONWebKeySet, error)
}

// VerifierConfig says which tokens to accept.
type VerifierConfig struct {
	// Issuer must equal iss; a "{tenantid}" in it must equal the token's tid, as in Entra ID's multi-tenant issuers.
	Issuer string
	// Audience must be one of aud.
	Audience string
	// Keys verifies RS256 and ES256 tokens; nil accepts none.
	Keys KeySource
	// HS256Secret, when set, also accepts HS256 tokens signed with it.
	HS256Secret []byte
	Now         func() time.Time
}

// Verifier checks bearer tokens.
type Verifier struct{ cfg VerifierConfig }

// NewVerifier returns a Verifier for cfg.
func NewVerifier(cfg VerifierConfig) *Verifier {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Verifier{cfg: cfg}
}

// claims are the members graphd reads.
type claims struct {
	jwt.Claims
	TenantID string   `json:"tid"`
	ObjectID string   `json:"oid,omitempty"`
	Scope    string   `json:"scp,omitempty"`
	Roles    []string `json:"roles,omitempty"`
}

// Verify checks a token's signature, algorithm, times, issuer and audience, and returns its principal.
func (v *Verifier) Verify(ctx context.Context, raw string) (Principal, error) {
	algs := []jose.SignatureAlgorithm{jose.RS256, jose.ES256}
	if len(v.cfg.HS256Secret) > 0 {
		algs = append(algs, jose.HS256)
	}
	tok, err := jwt.ParseSigned(raw, algs)
	if err != nil {
		// Covers malformed tokens, alg "none" and any algorithm not listed.
		return Principal{}, invalidToken("Access token validation failure: the token is malformed or uses an algorithm that is not accepted.")
	}
	if len(tok.Headers) != 1 {
		return Principal{}, invalidToken("Access token validation failure: exactly one signature is required.")
	}
	hdr := tok.Headers[0]
	key, err := v.key(ctx, hdr)
	if err != nil {
		return Principal{}, err
	}
	// The signature first, on its own, so that a well-signed token whose claims do not decode (a roles claim
	// that is a string, say) is not reported as badly signed.
	if err := tok.Claims(key); err != nil {
		return Principal{}, invalidToken("Access token validation failure: the signature is invalid.")
	}
	var c claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return Principal{}, invalidToken("Access token validation failure: the claims are malformed.")
	}
	tid := strings.ToLower(c.TenantID)
	if !isGUID(tid) {
		return Principal{}, invalidToken("Access token validation failure: the tid claim is missing or not a GUID.")
	}
	expected := jwt.Expected{
		Issuer:      strings.ReplaceAll(v.cfg.Issuer, "{tenantid}", tid),
		AnyAudience: jwt.Audience{v.cfg.Audience},
		Time:        v.cfg.Now(),
	}
	if c.Expiry == nil {
		return Principal{}, invalidToken("Access token validation failure: the token has no expiry.")
	}
	if err := c.Claims.ValidateWithLeeway(expected, Leeway); err != nil {
		return Principal{}, invalidToken(claimsReason(err))
	}
	p := Principal{TenantID: tid, Subject: c.ObjectID, Roles: c.Roles}
	if p.Subject == "" {
		p.Subject = c.Subject
	}
	if c.Scope != "" {
		p.Scopes = strings.Fields(c.Scope)
	}
	return p, nil
}

func claimsReason(err error) string {
	switch err {
	case jwt.ErrExpired:
		return "Lifetime validation failed, the token is expired."
	case jwt.ErrNotValidYet, jwt.ErrIssuedInTheFuture:
		return "Lifetime validation failed, the token is not yet valid."
	case jwt.ErrInvalidIssuer:
		return "Access token validation failure: invalid issuer."
	case jwt.ErrInvalidAudience:
		return "Access token validation failure: invalid audience."
	}
	return "Access token validation failure."
}

// key picks the verification key for a header. The key's type must fit the header's algorithm, so an RSA public
// key can never be used as an HMAC secret. A token without kid is accepted only when the set holds one key.
func (v *Verifier) key(ctx context.Context, hdr jose.Header) (any, error) {
	alg := jose.SignatureAlgorithm(hdr.Algorithm)
	if alg == jose.HS256 {
		return v.cfg.HS256Secret, nil
	}
	if v.cfg.Keys == nil {
		return nil, invalidToken("Access token validation failure: no keys are configured for " + string(alg) + ".")
	}
	set, err := v.cfg.Keys.Keys(ctx)
	if err != nil {
		return nil, err
	}
	k, found := pick(set, hdr.KeyID)
	if !found && hdr.KeyID != "" {
		// An unknown kid may be a rotated key: look again (the source rate-limits this).
		if set, err = v.cfg.Keys.Refresh(ctx); err != nil {
			return nil, err
		}
		k, found = pick(set, hdr.KeyID)
	}
	if !found {
		if hdr.KeyID == "" {
			return nil, invalidToken("Access token validation failure: the token has no kid and the key set holds several keys.")
		}
		return nil, invalidToken("Access token validation failure: no key with the token's kid.")
	}
	if k.Algorithm != "" && k.Algorithm != string(alg) {
		return nil, invalidToken("Access token validation failure: the key does not match the token's algorithm.")
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		if alg == jose.RS256 {
			return pub, nil
		}
	case *ecdsa.PublicKey:
		if alg == jose.ES256 && pub.Curve == elliptic.P256() {
			return pub, nil
		}
	}
	return nil, invalidToken("Access token validation failure: the key does not match the token's algorithm.")
}

func pick(set *jose.JSONWebKeySet, kid string) (jose.JSONWebKey, bool) {
	if set == nil {
		return jose.JSONWebKey{}, false
	}
	var usable []jose.JSONWebKey
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if !k.IsPublic() {
			k = k.Public()
		}
		if kid == "" || k.KeyID == kid {
			usable = append(usable, k)
		}
	}
	if len(usable) != 1 {
		return jose.JSONWebKey{}, false
	}
	return usable[0], true
}

// isGUID reports whether s is a GUID in the lower-case 8-4-4-4-12 form. The tenant becomes a uuid parameter of
// every statement, so anything else must be refused here rather than fail in PostgreSQL.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}
