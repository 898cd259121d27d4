package httpapi_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/httpapi/auth"
	"github.com/graphd/graphd/odata"
)

// The tokens of these tests: an Entra-style multi-tenant issuer, an API audience, and two tenants.
const (
	tokenIssuer   = "https://login.example.test/{tenantid}/v2.0"
	tokenAudience = "api://graphd-test"
	tenantA       = "aaaaaaaa-0000-4000-8000-00000000000a"
	tenantB       = "bbbbbbbb-0000-4000-8000-00000000000b"
)

// signingKey is a private key with the kid and algorithm its tokens carry.
type signingKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv any // *rsa.PrivateKey, *ecdsa.PrivateKey, or []byte for HS256
}

func (k signingKey) public() jose.JSONWebKey {
	var pub any
	switch p := k.priv.(type) {
	case *rsa.PrivateKey:
		pub = &p.PublicKey
	case *ecdsa.PrivateKey:
		pub = &p.PublicKey
	}
	return jose.JSONWebKey{Key: pub, KeyID: k.kid, Use: "sig"}
}

func newRSAKey(tb testing.TB, kid string) signingKey {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return signingKey{kid: kid, alg: jose.RS256, priv: k}
}

func newECKey(tb testing.TB, kid string) signingKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return signingKey{kid: kid, alg: jose.ES256, priv: k}
}

func keySet(keys ...signingKey) *jose.JSONWebKeySet {
	set := &jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.public())
	}
	return set
}

// claimsFor are a valid token's claims for tenant at pinnedNow, delegated ReadWrite.All; kv replaces claims
// (a nil value deletes one).
func claimsFor(tenant string, kv ...any) map[string]any {
	c := map[string]any{
		"iss": strings.ReplaceAll(tokenIssuer, "{tenantid}", tenant),
		"aud": tokenAudience,
		"tid": tenant,
		"oid": "user-" + tenant[:8],
		"scp": auth.PermReadWriteAll,
		"iat": pinnedNow.Unix(),
		"nbf": pinnedNow.Unix(),
		"exp": pinnedNow.Add(time.Hour).Unix(),
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
			continue
		}
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

// signToken signs claims with k. kid overrides the header's kid ("" leaves it out); nil keeps k's.
func signToken(tb testing.TB, k signingKey, claims map[string]any, kid *string) string {
	tb.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	var key any
	switch {
	case k.alg == jose.HS256:
		key = k.priv
		if kid != nil && *kid != "" {
			opts = opts.WithHeader("kid", *kid)
		} else if kid == nil && k.kid != "" {
			opts = opts.WithHeader("kid", k.kid)
		}
	case kid != nil:
		key = jose.JSONWebKey{Key: k.priv, KeyID: *kid}
	default:
		key = jose.JSONWebKey{Key: k.priv, KeyID: k.kid}
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

func b64JSON(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// testKeys are the keys of the matrix, made once: RSA key generation is slow under -race.
type testKeys struct {
	rs, ec, rogue signingKey // rogue: another RSA key that claims rs's kid
	rsDER, rsPEM  []byte     // rs's public key as an attacker would use it for an HMAC
}

var (
	keysOnce sync.Once
	keys     testKeys
)

func matrixKeys(tb testing.TB) testKeys {
	tb.Helper()
	keysOnce.Do(func() {
		keys.rs, keys.ec, keys.rogue = newRSAKey(tb, "rs1"), newECKey(tb, "ec1"), newRSAKey(tb, "rs1")
		der, err := x509.MarshalPKIXPublicKey(&keys.rs.priv.(*rsa.PrivateKey).PublicKey)
		if err != nil {
			tb.Fatal(err)
		}
		keys.rsDER = der
		keys.rsPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	})
	return keys
}

// hsSecret is the shared secret of the verifier that accepts HS256.
var hsSecret = []byte("a-shared-secret-of-at-least-32-bytes!")

func newVerifier(k testKeys, hs256 []byte) *auth.Verifier {
	return auth.NewVerifier(auth.VerifierConfig{
		Issuer: tokenIssuer, Audience: tokenAudience, Keys: auth.StaticKeys{Set: keySet(k.rs, k.ec)},
		HS256Secret: hs256, Now: func() time.Time { return pinnedNow },
	})
}

// authRoute is one route and method that needs a token, with a request that succeeds when the token allows it.
type authRoute struct {
	name   string
	method string
	path   string
	header http.Header
	body   string
	write  bool // needs ReadWrite.All
	// anyToken: any valid token of a work or school account may use the route (the users lookup).
	anyToken bool
	status   int // with a sufficient token
}

func authRoutes() []authRoute {
	paren := collection + "('" + seedID + "')"
	metrics := `{"metricNames":["m1"]}`
	series := `{"timeSeries":{"metricName":"m1","startDateTime":"2020-01-01T00:00:00Z"}}`
	routes := []authRoute{
		{name: "ListCollection", method: "GET", path: collection, status: 200},
		{name: "ListCollectionSlash", method: "GET", path: collection + "/", status: 200},
		{name: "HeadCollection", method: "HEAD", path: collection, status: 200},
		{name: "Count", method: "GET", path: collection + "/$count", status: 200},
		{name: "HeadCount", method: "HEAD", path: collection + "/$count", status: 200},
		{name: "GetItem", method: "GET", path: seedItem, status: 200},
		{name: "GetItemParen", method: "GET", path: paren, status: 200},
		{name: "HeadItem", method: "HEAD", path: seedItem, status: 200},
		{name: "HeadItemParen", method: "HEAD", path: paren, status: 200},
		{name: "Create", method: "POST", path: collection, header: jsonHdr(), body: `{"connectorName":"x"}`, write: true, status: 201},
		{name: "PatchItem", method: "PATCH", path: seedItem, header: jsonHdr(), body: `{"connectorName":"x"}`, write: true, status: 200},
		{name: "PatchItemParen", method: "PATCH", path: paren, header: jsonHdr(), body: `{"connectorName":"x"}`, write: true, status: 200},
		{name: "DeleteItem", method: "DELETE", path: seedItem, write: true, status: 204},
		{name: "DeleteItemParen", method: "DELETE", path: paren, write: true, status: 204},
	}
	// userPfxCertificates: the same operations in each of the three key forms, and the users lookup.
	pfxQuoted, pfxBare := pfxCollection+"('"+aliceKey+"')", pfxCollection+"("+aliceKey+")"
	newCert := `{"userPrincipalName":"new@contoso.example","thumbprint":"ABCD"}`
	routes = append(routes,
		authRoute{name: "PfxList", method: "GET", path: pfxCollection, status: 200},
		authRoute{name: "PfxListFilter", method: "GET", path: pfxCollection + "?$filter=tolower(userPrincipalName)%20eq%20'x'", status: 200},
		authRoute{name: "PfxHeadList", method: "HEAD", path: pfxCollection, status: 200},
		authRoute{name: "PfxCount", method: "GET", path: pfxCollection + "/$count", status: 200},
		authRoute{name: "PfxCreate", method: "POST", path: pfxCollection, header: jsonHdr(), body: newCert, write: true, status: 201},
		authRoute{name: "UsersLookup", method: "GET", path: "/beta/users?$filter=userPrincipalName%20eq%20'" + aliceUPN + "'", anyToken: true, status: 200},
		authRoute{name: "UsersLookupHead", method: "HEAD", path: "/beta/users?$filter=userPrincipalName%20eq%20'x'", anyToken: true, status: 200},
	)
	for _, key := range []struct{ name, path string }{{"Path", pfxItem}, {"Quoted", pfxQuoted}, {"Bare", pfxBare}} {
		routes = append(routes,
			authRoute{name: "PfxGet" + key.name, method: "GET", path: key.path, status: 200},
			authRoute{name: "PfxHead" + key.name, method: "HEAD", path: key.path, status: 200},
			authRoute{name: "PfxPatch" + key.name, method: "PATCH", path: key.path, header: jsonHdr(), body: `{"keyName":"x"}`, write: true, status: 200},
			authRoute{name: "PfxDelete" + key.name, method: "DELETE", path: key.path, write: true, status: 204})
	}
	for _, key := range []struct{ name, path string }{{"", seedItem}, {"Paren", paren}} {
		for _, ns := range []struct{ name, prefix string }{{"", ""}, {"Qualified", odata.Namespace + "."}} {
			routes = append(routes,
				authRoute{name: "GetHealthMetrics" + ns.name + key.name, method: "POST", path: key.path + "/" + ns.prefix + "getHealthMetrics",
					header: jsonHdr(), body: metrics, status: 200},
				authRoute{name: "GetHealthMetricTimeSeries" + ns.name + key.name, method: "POST", path: key.path + "/" + ns.prefix + "getHealthMetricTimeSeries",
					header: jsonHdr(), body: series, status: 200})
		}
	}
	return routes
}

// tokenCase is one Authorization header and how each route answers it.
type tokenCase struct {
	name   string
	header string         // the Authorization header; "" sends none
	v      *auth.Verifier // nil: the matrix's verifier, RS256 and ES256 only
	// status of reads and of writes: 0 means the route's own success status.
	read, write int
	// reason is a fragment of the 401 message.
	reason string
	// challengeError: the 401's WWW-Authenticate carries error="invalid_token" (a bearer token was sent).
	challengeError bool
	tenant         string // where a sufficient token acts; "" is tenantA
}

func tokenCases(tb testing.TB) []tokenCase {
	k := matrixKeys(tb)
	withHS := newVerifier(k, hsSecret)
	bearer := func(tok string) string { return "Bearer " + tok }
	sign := func(key signingKey, claims map[string]any) string { return bearer(signToken(tb, key, claims, nil)) }
	kid := func(s string) *string { return &s }
	a := func(kv ...any) map[string]any { return claimsFor(tenantA, kv...) }
	hs := func(secret []byte, kid string) signingKey { return signingKey{kid: kid, alg: jose.HS256, priv: secret} }
	none := b64JSON(map[string]string{"alg": "none", "typ": "JWT"}) + "." + b64JSON(a()) + "."
	noneKid := b64JSON(map[string]string{"alg": "none", "typ": "JWT", "kid": "rs1"}) + "." + b64JSON(a()) + "."
	goodParts := strings.Split(signToken(tb, k.rs, a(), nil), ".")
	// The payload of another tenant under rs's valid signature of tenantA's payload.
	swapped := goodParts[0] + "." + b64JSON(claimsFor(tenantB)) + "." + goodParts[2]

	const (
		u = http.StatusUnauthorized
		f = http.StatusForbidden
	)
	return []tokenCase{
		// Accepted, with every permission.
		{name: "OKRS256Scp", header: sign(k.rs, a())},
		{name: "OKES256Scp", header: sign(k.ec, a())},
		{name: "OKLowerCaseBearer", header: "bearer " + signToken(tb, k.rs, a(), nil)},
		{name: "OKRolesReadWrite", header: sign(k.rs, a("scp", nil, "roles", []string{auth.PermReadWriteAll}))},
		{name: "OKBothReadScpWriteRole", header: sign(k.rs, a("scp", auth.PermReadAll, "roles", []string{auth.PermReadWriteAll}))},
		{name: "OKBothWriteScpReadRole", header: sign(k.rs, a("scp", "User.Read "+auth.PermReadWriteAll, "roles", []string{auth.PermReadAll}))},
		{name: "OKScpAmongOthers", header: sign(k.rs, a("scp", "openid profile "+auth.PermReadWriteAll+" User.Read"))},
		{name: "OKExpiredWithinSkew", header: sign(k.rs, a("exp", pinnedNow.Add(-50*time.Second).Unix()))},
		{name: "OKNotBeforeWithinSkew", header: sign(k.rs, a("nbf", pinnedNow.Add(50*time.Second).Unix()))},
		{name: "OKAudienceList", header: sign(k.rs, a("aud", []string{"https://graph.microsoft.com", tokenAudience}))},
		{name: "OKUpperCaseTid", header: sign(k.rs, a("tid", strings.ToUpper(tenantA), "iss", strings.ReplaceAll(tokenIssuer, "{tenantid}", tenantA)))},
		{name: "OKHS256WithSecret", v: withHS, header: sign(hs(hsSecret, ""), a())},
		{name: "OKTenantB", header: sign(k.rs, claimsFor(tenantB)), tenant: tenantB},

		// Read.All only: reads and actions, no writes.
		{name: "ReadScp", header: sign(k.rs, a("scp", auth.PermReadAll)), write: f},
		{name: "ReadRoles", header: sign(k.ec, a("scp", nil, "roles", []string{auth.PermReadAll})), write: f},
		{name: "ReadBoth", header: sign(k.rs, a("scp", auth.PermReadAll, "roles", []string{auth.PermReadAll})), write: f},

		// Valid tokens without a permission that counts.
		{name: "ForbiddenNoPermissions", header: sign(k.rs, a("scp", nil)), read: f, write: f},
		{name: "ForbiddenOtherScopes", header: sign(k.rs, a("scp", "User.Read DeviceManagementManagedDevices.ReadWrite.All")), read: f, write: f},
		{name: "ForbiddenShortNames", header: sign(k.rs, a("scp", "ReadWrite.All Read.All")), read: f, write: f},
		{name: "RolesNotAnArray", header: sign(k.rs, a("scp", nil, "roles", auth.PermReadWriteAll)), read: u, write: u,
			reason: "claims are malformed", challengeError: true},
		{name: "ForbiddenPersonalAccount", header: sign(k.rs, claimsFor(auth.PersonalAccountsTenant)), read: f, write: f},
		{name: "ForbiddenPersonalAccountRoles", header: sign(k.rs, claimsFor(auth.PersonalAccountsTenant, "scp", nil, "roles", []string{auth.PermReadWriteAll})), read: f, write: f},

		// Refused tokens.
		{name: "NoHeader", read: u, write: u, reason: "Access token is empty."},
		{name: "EmptyBearer", header: "Bearer ", read: u, write: u, reason: "Access token is empty."},
		{name: "BasicScheme", header: "Basic dXNlcjpwYXNzd29yZA==", read: u, write: u, reason: "Bearer scheme"},
		{name: "TokenWithoutScheme", header: signToken(tb, k.rs, a(), nil), read: u, write: u, reason: "Bearer scheme"},
		{name: "Garbage", header: "Bearer not-a-token", read: u, write: u, reason: "malformed", challengeError: true},
		{name: "GarbageThreeParts", header: "Bearer a.b.c", read: u, write: u, reason: "malformed", challengeError: true},
		{name: "BadSignature", header: sign(k.rogue, a()), read: u, write: u, reason: "signature is invalid", challengeError: true},
		{name: "SwappedPayload", header: bearer(swapped), read: u, write: u, reason: "signature is invalid", challengeError: true},
		{name: "Expired", header: sign(k.rs, a("exp", pinnedNow.Add(-2*time.Minute).Unix())), read: u, write: u, reason: "expired", challengeError: true},
		{name: "NoExpiry", header: sign(k.rs, a("exp", nil)), read: u, write: u, reason: "no expiry", challengeError: true},
		{name: "NotYetValid", header: sign(k.rs, a("nbf", pinnedNow.Add(5*time.Minute).Unix())), read: u, write: u, reason: "not yet valid", challengeError: true},
		{name: "IssuedInTheFuture", header: sign(k.rs, a("iat", pinnedNow.Add(5*time.Minute).Unix())), read: u, write: u, reason: "not yet valid", challengeError: true},
		{name: "WrongIssuer", header: sign(k.rs, a("iss", "https://evil.example.test/"+tenantA+"/v2.0")), read: u, write: u, reason: "invalid issuer", challengeError: true},
		{name: "IssuerOfOtherTenant", header: sign(k.rs, a("iss", strings.ReplaceAll(tokenIssuer, "{tenantid}", tenantB))), read: u, write: u, reason: "invalid issuer", challengeError: true},
		{name: "WrongAudience", header: sign(k.rs, a("aud", "https://graph.microsoft.com")), read: u, write: u, reason: "invalid audience", challengeError: true},
		{name: "NoTid", header: sign(k.rs, a("tid", nil)), read: u, write: u, reason: "tid", challengeError: true},
		{name: "TidNotGUID", header: sign(k.rs, claimsFor("zzzzzzzz-0000-4000-8000-00000000000a")), read: u, write: u, reason: "tid", challengeError: true},
		{name: "TidBraced", header: sign(k.rs, claimsFor("{aaaaaaa-0000-4000-8000-00000000000}")), read: u, write: u, reason: "tid", challengeError: true},
		{name: "AlgNone", header: bearer(none), read: u, write: u, reason: "algorithm", challengeError: true},
		{name: "AlgNoneWithKid", header: bearer(noneKid), read: u, write: u, reason: "algorithm", challengeError: true},
		{name: "HSRSConfusionDER", header: sign(hs(k.rsDER, "rs1"), a()), read: u, write: u, reason: "algorithm", challengeError: true},
		{name: "HSRSConfusionPEM", header: sign(hs(k.rsPEM, "rs1"), a()), read: u, write: u, reason: "algorithm", challengeError: true},
		{name: "HSRSConfusionWithHS256Enabled", v: withHS, header: sign(hs(k.rsPEM, "rs1"), a()), read: u, write: u, reason: "signature is invalid", challengeError: true},
		{name: "HS256WithoutSecretConfigured", header: sign(hs(hsSecret, ""), a()), read: u, write: u, reason: "algorithm", challengeError: true},
		{name: "HS256WrongSecret", v: withHS, header: sign(hs([]byte("another-secret-of-at-least-32-bytes!!"), ""), a()), read: u, write: u, reason: "signature is invalid", challengeError: true},
		{name: "UnknownKid", header: bearer(signToken(tb, k.rs, a(), kid("rotated-away"))), read: u, write: u, reason: "kid", challengeError: true},
		{name: "NoKidSeveralKeys", header: bearer(signToken(tb, k.rs, a(), kid(""))), read: u, write: u, reason: "no kid", challengeError: true},
		{name: "ECKidOnRSAToken", header: bearer(signToken(tb, k.rs, a(), kid("ec1"))), read: u, write: u, reason: "algorithm", challengeError: true},
	}
}

// serveAuth runs one request against a fresh fake store that holds the seed's row in tenants A and B.
func serveAuth(t *testing.T, v *auth.Verifier, method, path string, header http.Header, body string) (*http.Response, []byte, *fakeStore, map[int]map[string]map[string]odata.Entity) {
	t.Helper()
	fake := newFakeStore()
	for _, tenant := range []string{tenantA, tenantB} {
		fake.put(tenant, seedRow(t))
		fake.put(tenant, aliceRow(t))
	}
	cfg := testConfig(nil)
	if v != nil {
		cfg.Auth = v
	}
	h := httpapi.NewServer(cfg, fake)
	before := fake.snapshot()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	var req *http.Request
	if rd != nil {
		req = httptest.NewRequestWithContext(t.Context(), method, "http://graph.example.test"+path, rd)
	} else {
		req = httptest.NewRequestWithContext(t.Context(), method, "http://graph.example.test"+path, nil)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result(), rec.Body.Bytes(), fake, before
}

// TestAuthMatrix sends every token case to every route and method that needs a token.
func TestAuthMatrix(t *testing.T) {
	t.Parallel()
	k := matrixKeys(t)
	v := newVerifier(k, nil)
	routes := authRoutes()
	for _, tc := range tokenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			verifier := tc.v
			if verifier == nil {
				verifier = v
			}
			for _, rt := range routes {
				want := rt.status
				switch {
				case rt.anyToken:
					// Any valid token: only a refused token or a personal account is turned away.
					if tc.read == http.StatusUnauthorized {
						want = tc.read
					} else if strings.Contains(tc.name, "PersonalAccount") {
						want = http.StatusForbidden
					}
				case rt.write && tc.write != 0:
					want = tc.write
				case !rt.write && tc.read != 0:
					want = tc.read
				}
				h := rt.header.Clone()
				if h == nil {
					h = http.Header{}
				}
				if tc.header != "" {
					h.Set("Authorization", tc.header)
				}
				res, body, fake, before := serveAuth(t, verifier, rt.method, rt.path, h, rt.body)
				checkAuthResponse(t, rt, tc, want, res, body)
				if res.StatusCode >= 400 {
					if after := fake.snapshot(); !reflect.DeepEqual(before, after) || fake.writes != 0 {
						t.Errorf("%s: a refused request changed the store", rt.name)
					}
				} else if rt.write {
					// The write landed in the token's tenant and nowhere else.
					tenant, other := tenantA, tenantB
					if tc.tenant == tenantB {
						tenant, other = tenantB, tenantA
					}
					after := fake.snapshot()
					if !reflect.DeepEqual(ofTenant(before, other), ofTenant(after, other)) {
						t.Errorf("%s: a write of tenant %s changed tenant %s", rt.name, tenant, other)
					}
					if reflect.DeepEqual(ofTenant(before, tenant), ofTenant(after, tenant)) {
						t.Errorf("%s: the write did not reach tenant %s", rt.name, tenant)
					}
				}
			}
		})
	}
}

// ofTenant is a snapshot's entities of one tenant, by set.
func ofTenant(snap map[int]map[string]map[string]odata.Entity, tenant string) map[int]map[string]odata.Entity {
	out := map[int]map[string]odata.Entity{}
	for set, tenants := range snap {
		if len(tenants[tenant]) > 0 {
			out[set] = tenants[tenant]
		}
	}
	return out
}

func checkAuthResponse(t *testing.T, rt authRoute, tc tokenCase, want int, res *http.Response, body []byte) {
	t.Helper()
	if res.StatusCode != want {
		t.Errorf("%s %s: status %d, want %d: %s", rt.method, rt.path, res.StatusCode, want, body)
		return
	}
	challenge := res.Header.Get("WWW-Authenticate")
	if want == http.StatusUnauthorized {
		if !strings.HasPrefix(challenge, "Bearer ") {
			t.Errorf("%s: 401 with WWW-Authenticate %q, want a Bearer challenge", rt.name, challenge)
		}
		if got := strings.Contains(challenge, `error="invalid_token"`); got != tc.challengeError {
			t.Errorf("%s: WWW-Authenticate %q: error=\"invalid_token\" present %v, want %v (RFC 6750 §3.1)", rt.name, challenge, got, tc.challengeError)
		}
	} else if challenge != "" {
		t.Errorf("%s: status %d with WWW-Authenticate %q", rt.name, res.StatusCode, challenge)
	}
	if rt.method == http.MethodHead {
		if len(body) != 0 {
			t.Errorf("%s: HEAD answered with a body", rt.name)
		}
		if want >= 400 && res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: HEAD error without the envelope's Content-Type", rt.name)
		}
		return
	}
	switch want {
	case http.StatusUnauthorized:
		env := checkEnvelope(t, res, body, "InvalidAuthenticationToken")
		if !strings.Contains(env.Error.Message, tc.reason) {
			t.Errorf("%s: 401 message %q lacks %q", rt.name, env.Error.Message, tc.reason)
		}
	case http.StatusForbidden:
		env := checkEnvelope(t, res, body, "Forbidden")
		msg := env.Error.Message
		switch {
		case strings.Contains(tc.name, "PersonalAccount"):
			if !strings.Contains(msg, "Personal Microsoft accounts") {
				t.Errorf("%s: 403 message %q does not say personal accounts are not supported", rt.name, msg)
			}
		case rt.write:
			if !strings.Contains(msg, auth.PermReadWriteAll) || strings.Contains(msg, auth.PermReadAll) {
				t.Errorf("%s: 403 message %q should name %s only", rt.name, msg, auth.PermReadWriteAll)
			}
		default:
			if !strings.Contains(msg, auth.PermReadAll+", "+auth.PermReadWriteAll) {
				t.Errorf("%s: 403 message %q should name %s and %s", rt.name, msg, auth.PermReadAll, auth.PermReadWriteAll)
			}
		}
	}
}

// TestAuthOpenRoutes checks what needs no token, with none, with garbage and with an expired one: the model,
// the service document, the probes and the published key set.
func TestAuthOpenRoutes(t *testing.T) {
	t.Parallel()
	k := matrixKeys(t)
	v := newVerifier(k, nil)
	jwks, err := json.Marshal(keySet(k.ec))
	if err != nil {
		t.Fatal(err)
	}
	fake := newFakeStore()
	cfg := testConfig(nil)
	cfg.Auth = v
	cfg.JWKS = jwks
	h := httpapi.NewServer(cfg, fake)
	expired := "Bearer " + signToken(t, k.rs, claimsFor(tenantA, "exp", pinnedNow.Add(-time.Hour).Unix()), nil)
	for _, path := range []string{"/beta/$metadata", "/beta", "/beta/", "/healthz", "/readyz", "/.well-known/jwks.json"} {
		for _, authz := range []string{"", "Bearer garbage", "Basic Zm9vOmJhcg==", expired} {
			for _, method := range []string{"GET", "HEAD"} {
				req := httptest.NewRequestWithContext(t.Context(), method, "http://graph.example.test"+path, nil)
				if authz != "" {
					req.Header.Set("Authorization", authz)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || rec.Header().Get("WWW-Authenticate") != "" {
					t.Errorf("%s %s with Authorization %.20q: %d %s", method, path, authz, rec.Code, rec.Body)
				}
				if method == "GET" && path == "/.well-known/jwks.json" && rec.Body.String() != string(jwks) {
					t.Errorf("the published JWKS is %s, want %s", rec.Body, jwks)
				}
			}
		}
	}
	// Without JWKS configured (a real identity provider publishes it) the path is unknown.
	cfg.JWKS = nil
	rec := httptest.NewRecorder()
	httpapi.NewServer(cfg, fake).ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", "http://graph.example.test/.well-known/jwks.json", nil))
	if rec.Code != http.StatusBadRequest {
		t.Errorf("jwks.json without a published key set: %d %s", rec.Code, rec.Body)
	}
}

// TestAuthCheckOrder checks contract §0.6: route (400 unknown segment, 405 verb) → 401 → 403 → headers and
// size (415, 413, 406) → body and query (400) → existence (404).
func TestAuthCheckOrder(t *testing.T) {
	t.Parallel()
	k := matrixKeys(t)
	v := newVerifier(k, nil)
	readOnly := "Bearer " + signToken(t, k.rs, claimsFor(tenantA, "scp", auth.PermReadAll), nil)
	noPerm := "Bearer " + signToken(t, k.rs, claimsFor(tenantA, "scp", "User.Read"), nil)
	full := "Bearer " + signToken(t, k.rs, claimsFor(tenantA), nil)
	bad := "Bearer garbage"
	big := strings.Repeat(" ", httpapi.DefaultMaxBodyBytes+1)
	tests := []struct {
		name, method, path, authz string
		header                    http.Header
		body                      string
		status                    int
		code                      string
	}{
		{"UnknownSegmentBeforeNoToken", "GET", "/beta/foo", "", nil, "", 400, badRequest},
		{"UnknownSegmentAfterKeyBeforeNoToken", "GET", seedItem + "/foo", "", nil, "", 400, badRequest},
		{"UnknownSegmentBeforeBadToken", "PATCH", collection + "/" + seedID + "/x/y", bad, jsonHdr(), `{`, 400, badRequest},
		{"UnknownActionBeforeNoToken", "POST", seedItem + "/microsoft.graph.getOther", "", jsonHdr(), `{}`, 400, badRequest},
		{"BatchGetBeforeNoToken", "GET", "/beta/$batch", "", nil, "", 405, "MethodNotAllowed"},
		{"BatchNoToken", "POST", "/beta/$batch", "", jsonHdr(), `{}`, 401, "InvalidAuthenticationToken"},
		{"DoubleSlashBeforeNoToken", "GET", collection + "//" + seedID, "", nil, "", 400, badRequest},
		{"PutBeforeNoToken", "PUT", seedItem, "", jsonHdr(), `{}`, 405, "MethodNotAllowed"},
		{"PostItemBeforeBadToken", "POST", seedItem, bad, jsonHdr(), `{}`, 405, "MethodNotAllowed"},
		{"PatchCollectionBeforeNoToken", "PATCH", collection, "", jsonHdr(), `{}`, 405, "MethodNotAllowed"},
		{"DeleteCollectionBeforeNoPermission", "DELETE", collection, noPerm, nil, "", 405, "MethodNotAllowed"},
		{"GetActionBeforeNoToken", "GET", seedItem + "/getHealthMetrics", "", nil, "", 405, "MethodNotAllowed"},
		{"PostCountBeforeNoToken", "POST", collection + "/$count", "", jsonHdr(), `{}`, 405, "MethodNotAllowed"},
		{"PostMetadataNeedsNoToken", "POST", "/beta/$metadata", "", jsonHdr(), `{}`, 405, "MethodNotAllowed"},
		{"NoTokenBeforeNoContentType", "PATCH", seedItem, "", nil, `{"connectorName":"x"}`, 401, "InvalidAuthenticationToken"},
		{"NoTokenBeforeBadBody", "PATCH", seedItem, "", jsonHdr(), `{"foo":1}`, 401, "InvalidAuthenticationToken"},
		{"NoTokenBeforeTooLarge", "POST", collection, "", jsonHdr(), big, 401, "InvalidAuthenticationToken"},
		{"NoTokenBeforeNotAcceptable", "GET", seedItem, "", hdr("Accept", "application/xml"), "", 401, "InvalidAuthenticationToken"},
		{"NoTokenBeforeBadQuery", "GET", collection + "?$filter=foo", "", nil, "", 401, "InvalidAuthenticationToken"},
		{"NoTokenBeforeBadSkipToken", "GET", collection + "?$skiptoken=x", "", nil, "", 401, "InvalidAuthenticationToken"},
		{"NoTokenBeforeMissingID", "GET", collection + "/" + missingID, "", nil, "", 401, "InvalidAuthenticationToken"},
		{"NoTokenBeforeNonGUIDKey", "DELETE", collection + "/not-a-guid", "", nil, "", 401, "InvalidAuthenticationToken"},
		{"BadTokenBeforeBadActionBody", "POST", seedItem + "/getHealthMetrics", bad, jsonHdr(), `{}`, 401, "InvalidAuthenticationToken"},
		{"ReadOnlyBeforeUnsupportedMediaType", "PATCH", seedItem, readOnly, hdr("Content-Type", "text/plain"), `{`, 403, "Forbidden"},
		{"ReadOnlyBeforeNoContentType", "POST", collection, readOnly, nil, `{}`, 403, "Forbidden"},
		{"ReadOnlyBeforeTooLarge", "POST", collection, readOnly, jsonHdr(), big, 403, "Forbidden"},
		{"ReadOnlyBeforeBadBody", "PATCH", seedItem, readOnly, jsonHdr(), `{"foo":1}`, 403, "Forbidden"},
		{"ReadOnlyBeforeMissingID", "DELETE", collection + "/" + missingID, readOnly, nil, "", 403, "Forbidden"},
		{"NoPermissionBeforeBadQuery", "GET", collection + "?$filter=foo%20eq%201", noPerm, nil, "", 403, "Forbidden"},
		{"NoPermissionBeforeNotAcceptable", "GET", collection, noPerm, hdr("Accept", "text/csv"), "", 403, "Forbidden"},
		{"NoPermissionBeforeMissingID", "GET", collection + "/" + missingID, noPerm, nil, "", 403, "Forbidden"},
		{"NoPermissionBeforeBadActionBody", "POST", seedItem + "/getHealthMetricTimeSeries", noPerm, jsonHdr(), `{}`, 403, "Forbidden"},
		{"ReadOnlyActionBadBody", "POST", seedItem + "/getHealthMetrics", readOnly, jsonHdr(), `{}`, 400, modelValidation},
		{"UnsupportedMediaTypeBeforeBadBody", "PATCH", seedItem, full, hdr("Content-Type", "text/plain"), `{`, 415, "UnsupportedMediaType"},
		{"TooLargeBeforeMissingID", "PATCH", collection + "/" + missingID, full, jsonHdr(), big, 413, "RequestEntityTooLarge"},
		{"NotAcceptableBeforeBadQuery", "GET", collection + "?$filter=foo", full, hdr("Accept", "application/xml"), "", 406, "NotAcceptable"},
		{"BadBodyBeforeMissingID", "PATCH", collection + "/" + missingID, full, jsonHdr(), `{"foo":1}`, 400, modelValidation},
		{"BadQueryBeforeMissingID", "GET", collection + "/" + missingID + "?$select=foo", full, nil, "", 400, badRequest},
		{"BadActionBodyBeforeMissingID", "POST", collection + "/" + missingID + "/getHealthMetrics", full, jsonHdr(), `{"metricNames":[]}`, 400, modelValidation},
		{"MissingIDLast", "PATCH", collection + "/" + missingID, full, jsonHdr(), `{}`, 404, notFound},

		// The URL (414) and header (431) limits come after the route, authentication and permission (contract
		// §0.6), and before the body, the query and existence.
		{"UnknownSegmentBeforeURLTooLong", "GET", "/beta/foo?x=" + longQuery, "", nil, "", 400, badRequest},
		{"UnknownSegmentBeforeHeaderTooLarge", "GET", "/beta/foo", "", bigHeader(), "", 400, badRequest},
		{"PutBeforeURLTooLong", "PUT", seedItem + "?x=" + longQuery, "", jsonHdr(), `{}`, 405, "MethodNotAllowed"},
		{"PutBeforeHeaderTooLarge", "PUT", seedItem, readOnly, bigHeader(), "", 405, "MethodNotAllowed"},
		{"NoTokenBeforeURLTooLong", "GET", collection + "?$filter=" + longQuery, "", nil, "", 401, "InvalidAuthenticationToken"},
		{"NoTokenBeforeHeaderTooLarge", "GET", seedItem, "", bigHeader(), "", 401, "InvalidAuthenticationToken"},
		{"BadTokenBeforeURLTooLong", "PATCH", seedItem + "?x=" + longQuery, bad, jsonHdr(), `{}`, 401, "InvalidAuthenticationToken"},
		{"NoTokenBeforeURLTooLongUserPfx", "GET", pfxCollection + "?$filter=" + longQuery, "", nil, "", 401, "InvalidAuthenticationToken"},
		{"NoTokenBeforeURLTooLongUsers", "GET", "/beta/users?$filter=" + longQuery, "", nil, "", 401, "InvalidAuthenticationToken"},
		{"ReadOnlyWriteBeforeURLTooLong", "PATCH", seedItem + "?x=" + longQuery, readOnly, jsonHdr(), `{}`, 403, "Forbidden"},
		{"ReadOnlyWriteBeforeHeaderTooLarge", "POST", collection, readOnly, bigHeader("Content-Type", "application/json"), `{}`, 403, "Forbidden"},
		{"ReadOnlyWriteBeforeURLTooLongUserPfx", "DELETE", pfxItem + "?x=" + longQuery, readOnly, nil, "", 403, "Forbidden"},
		{"NoPermissionBeforeURLTooLong", "GET", collection + "?$filter=" + longQuery, noPerm, nil, "", 403, "Forbidden"},
		{"NoPermissionBeforeHeaderTooLarge", "GET", pfxCollection, noPerm, bigHeader(), "", 403, "Forbidden"},
		{"URLTooLongBeforeBadQuery", "GET", collection + "?$filter=" + longQuery, full, nil, "", 414, "RequestUriTooLong"},
		{"URLTooLongBeforeMissingID", "GET", collection + "/" + missingID + "?x=" + longQuery, full, nil, "", 414, "RequestUriTooLong"},
		{"URLTooLongBeforeBadBody", "PATCH", pfxItem + "?x=" + longQuery, full, jsonHdr(), `{"foo":1}`, 414, "RequestUriTooLong"},
		{"URLTooLongOpenRoute", "GET", "/beta/$metadata?x=" + longQuery, "", nil, "", 414, "RequestUriTooLong"},
		{"HeaderTooLargeBeforeBadBody", "PATCH", seedItem, full, bigHeader("Content-Type", "application/json"), `{"foo":1}`, 431, "RequestHeaderFieldsTooLarge"},
		{"HeaderTooLargeBeforeMissingID", "DELETE", collection + "/" + missingID, full, bigHeader(), "", 431, "RequestHeaderFieldsTooLarge"},
		{"HeaderTooLargeReadOnlyRead", "GET", seedItem, readOnly, bigHeader(), "", 431, "RequestHeaderFieldsTooLarge"},
		{"HeaderTooLargeAnyTokenUsers", "GET", "/beta/users?$filter=userPrincipalName%20eq%20'a'", noPerm, bigHeader(), "", 431, "RequestHeaderFieldsTooLarge"},
		{"OtherTenantsIDLast", "GET", seedItem, "Bearer " + signToken(t, k.rs, claimsFor("cccccccc-0000-4000-8000-00000000000c"), nil), nil, "", 404, notFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.header.Clone()
			if h == nil {
				h = http.Header{}
			}
			if tt.authz != "" {
				h.Set("Authorization", tt.authz)
			}
			res, body, fake, before := serveAuth(t, v, tt.method, tt.path, h, tt.body)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, body)
			}
			checkEnvelope(t, res, body, tt.code)
			if res.StatusCode == http.StatusMethodNotAllowed && res.Header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
			if (res.StatusCode == http.StatusUnauthorized) != (res.Header.Get("WWW-Authenticate") != "") {
				t.Errorf("status %d with WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
			}
			if after := fake.snapshot(); !reflect.DeepEqual(before, after) || fake.writes != 0 {
				t.Error("a refused request changed the store")
			}
		})
	}
}

// longQuery makes a URL longer than the default limit, httpapi.DefaultMaxURLBytes.
var longQuery = strings.Repeat("q", httpapi.DefaultMaxURLBytes)

// bigHeader is a header set larger than the default limit, httpapi.DefaultMaxHeaderBytes, with kv added.
func bigHeader(kv ...string) http.Header {
	h := hdr(kv...)
	h.Set("X-Big", strings.Repeat("h", httpapi.DefaultMaxHeaderBytes))
	return h
}

// TestAuthNoneActsInDevTenant checks GRAPHD_AUTH=none: no token needed, any token ignored, and every request
// acts in the development tenant with every permission.
func TestAuthNoneActsInDevTenant(t *testing.T) {
	t.Parallel()
	for _, authz := range []string{"", "Bearer garbage", "Basic Zm9vOmJhcg=="} {
		res, body, fake, _ := serveAuth(t, nil, "PATCH", seedItem, jsonHdr("Authorization", authz), `{"connectorName":"dev"}`)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("Authorization %q: PATCH of a row only tenants A and B hold: %d %s", authz, res.StatusCode, body)
		}
		fake.put(odata.DevTenantID, seedRow(t))
		h := httpapi.NewServer(testConfig(nil), fake)
		req := httptest.NewRequestWithContext(t.Context(), "DELETE", "http://graph.example.test"+seedItem, nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			t.Errorf("Authorization %q: DELETE in the dev tenant: %d %s", authz, rec.Code, rec.Body)
		}
		if _, ok := fake.row(tenantA, seedID); !ok {
			t.Error("the dev tenant's DELETE removed tenant A's row")
		}
	}
}
