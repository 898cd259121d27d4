package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	tenant   = "aaaaaaaa-0000-4000-8000-000000000001"
	issuer   = "https://login.example.test/{tenantid}/v2.0"
	audience = "api://graphd-test"
)

var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

type keyPair struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv any
	pub  any
}

func newRSA(tb testing.TB, kid string) keyPair {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return keyPair{kid: kid, alg: jose.RS256, priv: k, pub: &k.PublicKey}
}

func newEC(tb testing.TB, kid string) keyPair {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return keyPair{kid: kid, alg: jose.ES256, priv: k, pub: &k.PublicKey}
}

func jwks(keys ...keyPair) *jose.JSONWebKeySet {
	set := &jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.pub, KeyID: k.kid, Use: "sig"})
	}
	return set
}

func baseClaims() map[string]any {
	return map[string]any{
		"iss": strings.ReplaceAll(issuer, "{tenantid}", tenant),
		"aud": audience,
		"tid": tenant,
		"oid": "user-1",
		"scp": PermReadWriteAll,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
}

func sign(tb testing.TB, k keyPair, claims map[string]any, kid *string) string {
	tb.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	var key any = jose.JSONWebKey{Key: k.priv, KeyID: k.kid}
	if kid != nil {
		key = jose.JSONWebKey{Key: k.priv, KeyID: *kid}
	}
	if b, ok := k.priv.([]byte); ok {
		key = b
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: key}, opts)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestVerify(t *testing.T) {
	t.Parallel()
	rs, ec, other := newRSA(t, "rs1"), newEC(t, "ec1"), newRSA(t, "rs1")
	secret := []byte("a-shared-secret-of-32-bytes-long!")
	v := NewVerifier(VerifierConfig{Issuer: issuer, Audience: audience, Keys: StaticKeys{jwks(rs, ec)}, HS256Secret: secret, Now: func() time.Time { return now }})
	noHS := NewVerifier(VerifierConfig{Issuer: issuer, Audience: audience, Keys: StaticKeys{jwks(rs, ec)}, Now: func() time.Time { return now }})
	rsDER, _ := x509.MarshalPKIXPublicKey(&rs.priv.(*rsa.PrivateKey).PublicKey)
	empty := ""
	tests := []struct {
		name   string
		v      *Verifier
		token  string
		ok     bool
		scopes int
	}{
		{"OKRS256", v, sign(t, rs, baseClaims(), nil), true, 1},
		{"OKES256", v, sign(t, ec, baseClaims(), nil), true, 1},
		{"OKHS256WithSecret", v, sign(t, keyPair{alg: jose.HS256, priv: secret}, baseClaims(), nil), true, 1},
		{"ErrHS256WithoutSecret", noHS, sign(t, keyPair{alg: jose.HS256, priv: secret}, baseClaims(), nil), false, 0},
		{"OKSkewedExpiry", v, sign(t, rs, with(baseClaims(), "exp", now.Add(-30*time.Second).Unix()), nil), true, 1},
		{"ErrExpired", v, sign(t, rs, with(baseClaims(), "exp", now.Add(-2*time.Minute).Unix()), nil), false, 0},
		{"ErrNoExpiry", v, sign(t, rs, with(baseClaims(), "exp", nil), nil), false, 0},
		{"ErrNotYetValid", v, sign(t, rs, with(baseClaims(), "nbf", now.Add(5*time.Minute).Unix()), nil), false, 0},
		{"ErrWrongIssuer", v, sign(t, rs, with(baseClaims(), "iss", "https://evil.test/"), nil), false, 0},
		{"ErrIssuerOfOtherTenant", v, sign(t, rs, with(baseClaims(), "iss", strings.ReplaceAll(issuer, "{tenantid}", "bbbbbbbb-0000-4000-8000-000000000002")), nil), false, 0},
		{"ErrWrongAudience", v, sign(t, rs, with(baseClaims(), "aud", "https://graph.microsoft.com"), nil), false, 0},
		{"ErrNoTid", v, sign(t, rs, with(baseClaims(), "tid", nil), nil), false, 0},
		{"ErrBadSignature", v, sign(t, other, baseClaims(), nil), false, 0},
		{"ErrUnknownKid", v, sign(t, rs, baseClaims(), ptr("nope")), false, 0},
		{"ErrNoKidSeveralKeys", v, sign(t, rs, baseClaims(), &empty), false, 0},
		{"ErrAlgNone", v, b64(map[string]string{"alg": "none", "typ": "JWT"}) + "." + b64(baseClaims()) + ".", false, 0},
		// HS256 signed with the RSA public key's bytes, naming the RSA key's kid: the classic confusion attack.
		{"ErrHSRSConfusion", v, sign(t, keyPair{alg: jose.HS256, priv: rsDER}, baseClaims(), nil), false, 0},
		{"ErrHSRSConfusionWithKid", noHS, signHSWithKid(t, rsDER, "rs1"), false, 0},
		{"ErrGarbage", v, "not-a-token", false, 0},
		{"ErrTwoParts", v, "a.b", false, 0},
		{"OKRolesOnly", v, sign(t, rs, with(baseClaims(), "scp", nil, "roles", []string{PermReadAll}), nil), true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := tt.v.Verify(t.Context(), tt.token)
			if tt.ok != (err == nil) {
				t.Fatalf("Verify: %v, want ok=%v", err, tt.ok)
			}
			if err != nil {
				if !IsInvalidToken(err) {
					t.Fatalf("error %v is not an InvalidTokenError", err)
				}
				return
			}
			if p.TenantID != tenant || len(p.Scopes) != tt.scopes {
				t.Fatalf("principal %+v", p)
			}
		})
	}
}

func signHSWithKid(tb testing.TB, secret []byte, kid string) string {
	tb.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		tb.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(baseClaims()).Serialize()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func ptr(s string) *string { return &s }

func TestAllows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		p           Principal
		read, write bool
	}{
		{"None", Principal{}, false, false},
		{"ScpRead", Principal{Scopes: []string{"User.Read", PermReadAll}}, true, false},
		{"ScpReadWrite", Principal{Scopes: []string{PermReadWriteAll}}, true, true},
		{"RolesRead", Principal{Roles: []string{PermReadAll}}, true, false},
		{"RolesReadWrite", Principal{Roles: []string{PermReadWriteAll}}, true, true},
		{"BothUnion", Principal{Scopes: []string{PermReadAll}, Roles: []string{PermReadWriteAll}}, true, true},
		{"OtherPermissions", Principal{Scopes: []string{"DeviceManagementManagedDevices.ReadWrite.All"}}, false, false},
		{"ShortNamesDoNotCount", Principal{Scopes: []string{"ReadWrite.All"}}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.p.Allows(AccessRead); got != tt.read {
				t.Errorf("read = %v", got)
			}
			if got := tt.p.Allows(AccessWrite); got != tt.write {
				t.Errorf("write = %v", got)
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	for h, ok := range map[string]bool{"": false, "Bearer": false, "Bearer ": false, "Basic abc": false, "bearer abc": true, "Bearer abc": true} {
		if _, err := BearerToken(h); (err == nil) != ok {
			t.Errorf("BearerToken(%q): %v", h, err)
		}
	}
}

// TestJWKSRotationOverHTTPS serves a JWKS over TLS, rotates the key mid-test, and checks that an unknown kid
// triggers one refetch, not one per token.
func TestJWKSRotationOverHTTPS(t *testing.T) {
	t.Parallel()
	k1, k2 := newRSA(t, "k1"), newEC(t, "k2")
	var current atomic.Pointer[jose.JSONWebKeySet]
	current.Store(jwks(k1))
	var fetches atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		_ = json.NewEncoder(w).Encode(current.Load())
	}))
	defer srv.Close()
	src, err := NewJWKSSource(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	clock := now
	src.now = func() time.Time { return clock }
	v := NewVerifier(VerifierConfig{Issuer: issuer, Audience: audience, Keys: src, Now: func() time.Time { return now }})
	if _, err := v.Verify(context.Background(), sign(t, k1, baseClaims(), nil)); err != nil {
		t.Fatalf("k1: %v", err)
	}
	// Rotate: k2 appears. The first refresh is allowed at once only after MinRefreshInterval.
	current.Store(jwks(k1, k2))
	clock = clock.Add(MinRefreshInterval + time.Second)
	if _, err := v.Verify(context.Background(), sign(t, k2, baseClaims(), nil)); err != nil {
		t.Fatalf("k2 after rotation: %v", err)
	}
	before := fetches.Load()
	for range 20 {
		if _, err := v.Verify(context.Background(), sign(t, k2, baseClaims(), ptr("made-up"))); err == nil {
			t.Fatal("unknown kid accepted")
		}
	}
	if got := fetches.Load() - before; got != 0 {
		t.Fatalf("%d refetches for unknown kids within the minimum interval, want 0", got)
	}
	if _, err := NewJWKSSource("http://example.test/jwks", nil); err == nil {
		t.Fatal("plain http JWKS accepted for a remote host")
	}
}

func TestIssuerRoundTrip(t *testing.T) {
	t.Parallel()
	der, err := NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	iss, err := NewIssuer(der, DefaultIssuer, DefaultAudience)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Sign(TokenRequest{TenantID: tenant, Subject: "dev", Roles: []string{PermReadAll}, TTL: time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(VerifierConfig{Issuer: DefaultIssuer, Audience: DefaultAudience, Keys: StaticKeys{iss.JWKS()}, Now: func() time.Time { return now }})
	p, err := v.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if p.TenantID != tenant || !p.Allows(AccessRead) || p.Allows(AccessWrite) || p.Subject != "dev" {
		t.Fatalf("principal %+v", p)
	}
	// The same key loaded again (another replica) has the same kid.
	iss2, _ := NewIssuer(der, DefaultIssuer, DefaultAudience)
	if iss2.kid != iss.kid {
		t.Fatal("kid differs between loads of one key")
	}
}
