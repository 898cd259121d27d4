package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

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
	// Current returns, without loading or waiting, the set Keys would return now (nil before the first load)
	// and whether Keys would return it as it is (false: Keys would load first). It never returns a set older
	// than one it returned before. The token cache serves a hit only while Current says fresh.
	Current() (set *jose.JSONWebKeySet, fresh bool)
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
	// CacheSize bounds the cache of verified tokens (cache.go): 0 means DefaultCacheSize, negative turns the
	// cache off.
	CacheSize int
}

// Verifier checks bearer tokens.
type Verifier struct {
	cfg   VerifierConfig
	cache *tokenCache // nil: off

	// observed is the newest key set a sweep has started against: a token checked against any other set is not
	// admitted. swept is the newest set a sweep has finished against: a JWKS-verified entry is served only while
	// the source's current set is swept, since until then the entry may be one the sweep is about to drop.
	// keysMu serializes the sweeps.
	keysMu   sync.Mutex
	observed atomic.Pointer[jose.JSONWebKeySet]
	swept    atomic.Pointer[jose.JSONWebKeySet]

	verifications atomic.Uint64 // full verifications, for tests: a hit does not count
}

// NewVerifier returns a Verifier for cfg.
func NewVerifier(cfg VerifierConfig) *Verifier {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &Verifier{cfg: cfg}
	switch {
	case cfg.CacheSize == 0:
		v.cache = newTokenCache(DefaultCacheSize)
	case cfg.CacheSize > 0:
		v.cache = newTokenCache(cfg.CacheSize)
	}
	return v
}

// claims are the members graphd reads.
type claims struct {
	jwt.Claims
	TenantID string   `json:"tid"`
	ObjectID string   `json:"oid,omitempty"`
	Scope    string   `json:"scp,omitempty"`
	Roles    []string `json:"roles,omitempty"`
}

// Verify checks a token's signature, algorithm, times, issuer and audience, and returns its principal. A token
// it accepted before is answered from the cache (cache.go) while that answer would still be the same.
func (v *Verifier) Verify(ctx context.Context, raw string) (Principal, error) {
	now := v.cfg.Now()
	if v.cache == nil {
		p, _, err := v.verify(ctx, raw, now)
		return p, err
	}
	d := sha256.Sum256(bytesOf(raw))
	if p, ok := v.lookup(&d, now); ok {
		return p, nil
	}
	p, vd, err := v.verify(ctx, raw, now)
	if err != nil {
		return Principal{}, err
	}
	e := &cacheEntry{digest: d, principal: p, notBefore: now.UnixNano(), deadline: vd.deadline.UnixNano(), key: vd.key}
	v.cache.put(e, now.UnixNano(), func(e *cacheEntry) bool {
		// A key set newer than the one this token was checked against has been swept already: the token may
		// have been signed by a key that set dropped.
		return e.key == nil || vd.set == v.observed.Load()
	})
	return p.clone(), nil
}

// lookup returns the cached principal for a token's digest if its entry may serve now.
func (v *Verifier) lookup(d *digest, now time.Time) (Principal, bool) {
	fresh := true
	if v.cfg.Keys != nil {
		var set *jose.JSONWebKeySet
		set, fresh = v.cfg.Keys.Current()
		if set != v.swept.Load() {
			if set != nil && v.keysMu.TryLock() {
				v.sweepLocked()
				v.keysMu.Unlock()
			}
			// Another request may be sweeping against set: this one does not wait for it, and serves no
			// JWKS-verified entry until the sweep is done.
			fresh = fresh && set == v.swept.Load()
		}
	}
	e := v.cache.get(d)
	if e == nil {
		return Principal{}, false
	}
	if !e.live(now.UnixNano()) {
		v.cache.remove(e)
		return Principal{}, false
	}
	if e.key != nil && !fresh {
		// The source would load before answering, or the set it answers with is not swept yet: the full path
		// loads and sweeps, as it would without a cache.
		return Principal{}, false
	}
	if !e.used.Load() {
		e.used.Store(true)
	}
	return e.principal.clone(), true
}

// observe sweeps the cache when the key source has published a set newer than the one it was last swept against,
// and returns once the cache has been swept against seen or a newer set: seen's answers hold from then on. seen
// may be older than the newest set (a request that fetched it raced another), so the newest is asked for.
func (v *Verifier) observe(seen *jose.JSONWebKeySet) {
	if v.cache == nil || seen == nil || seen == v.swept.Load() {
		return
	}
	v.keysMu.Lock()
	defer v.keysMu.Unlock()
	v.sweepLocked()
}

// sweepLocked sweeps the cache against the source's newest set unless that is done; keysMu is held.
func (v *Verifier) sweepLocked() {
	latest, _ := v.cfg.Keys.Current()
	if latest == nil || latest == v.swept.Load() {
		return
	}
	// Published before the sweep, so that a token checked against an older set can no longer be admitted; swept
	// after it, so that no entry the sweep drops is served meanwhile.
	v.observed.Store(latest)
	defer v.swept.Store(latest)
	now := v.cfg.Now().UnixNano()
	type selector struct {
		kid string
		alg jose.SignatureAlgorithm
	}
	selected := map[selector]crypto.PublicKey{} // what each kid and alg select in latest; nil: nothing
	v.cache.sweep(func(e *cacheEntry) bool {
		if now > e.deadline {
			return false
		}
		if e.key == nil {
			return true
		}
		id := selector{e.key.kid, e.key.alg}
		pub, ok := selected[id]
		if !ok {
			if k, found := pick(latest, id.kid); found {
				pub, _ = keyFor(k, id.alg)
			}
			selected[id] = pub
		}
		return pub != nil && sameKey(pub, e.key.pub)
	})
}

// bytesOf returns s's bytes without copying them, for reading only: a hit must not copy the token.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func sameKey(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// verified is what the cache needs to know about a token verify accepted.
type verified struct {
	deadline time.Time           // min(exp + Leeway, now + MaxCacheAge)
	key      *verifyingKey       // nil for HS256
	set      *jose.JSONWebKeySet // the set key came from
}

// verify checks a token in full.
func (v *Verifier) verify(ctx context.Context, raw string, now time.Time) (Principal, verified, error) {
	v.verifications.Add(1)
	algs := []jose.SignatureAlgorithm{jose.RS256, jose.ES256}
	if len(v.cfg.HS256Secret) > 0 {
		algs = append(algs, jose.HS256)
	}
	tok, err := jwt.ParseSigned(raw, algs)
	if err != nil {
		// Covers malformed tokens, alg "none" and any algorithm not listed.
		return Principal{}, verified{}, invalidToken("Access token validation failure: the token is malformed or uses an algorithm that is not accepted.")
	}
	if len(tok.Headers) != 1 {
		return Principal{}, verified{}, invalidToken("Access token validation failure: exactly one signature is required.")
	}
	hdr := tok.Headers[0]
	key, vd, err := v.key(ctx, hdr)
	if err != nil {
		return Principal{}, verified{}, err
	}
	// The signature first, on its own, so that a well-signed token whose claims do not decode (a roles claim
	// that is a string, say) is not reported as badly signed.
	if err := tok.Claims(key); err != nil {
		return Principal{}, verified{}, invalidToken("Access token validation failure: the signature is invalid.")
	}
	var c claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return Principal{}, verified{}, invalidToken("Access token validation failure: the claims are malformed.")
	}
	tid := strings.ToLower(c.TenantID)
	if !isGUID(tid) {
		return Principal{}, verified{}, invalidToken("Access token validation failure: the tid claim is missing or not a GUID.")
	}
	expected := jwt.Expected{
		Issuer:      strings.ReplaceAll(v.cfg.Issuer, "{tenantid}", tid),
		AnyAudience: jwt.Audience{v.cfg.Audience},
		Time:        now,
	}
	if c.Expiry == nil {
		return Principal{}, verified{}, invalidToken("Access token validation failure: the token has no expiry.")
	}
	if err := c.Claims.ValidateWithLeeway(expected, Leeway); err != nil {
		return Principal{}, verified{}, invalidToken(claimsReason(err))
	}
	// Clipped: the cache hands out empty slices as they are (clone), and an append to them must not write into
	// memory that other callers share.
	p := Principal{TenantID: tid, Subject: c.ObjectID, Roles: slices.Clip(c.Roles)}
	if p.Subject == "" {
		p.Subject = c.Subject
	}
	if c.Scope != "" {
		p.Scopes = slices.Clip(strings.Fields(c.Scope))
	}
	vd.deadline = now.Add(MaxCacheAge)
	if exp := c.Expiry.Time().Add(Leeway); exp.Before(vd.deadline) {
		vd.deadline = exp
	}
	return p, vd, nil
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
func (v *Verifier) key(ctx context.Context, hdr jose.Header) (any, verified, error) {
	alg := jose.SignatureAlgorithm(hdr.Algorithm)
	if alg == jose.HS256 {
		return v.cfg.HS256Secret, verified{}, nil
	}
	if v.cfg.Keys == nil {
		return nil, verified{}, invalidToken("Access token validation failure: no keys are configured for " + string(alg) + ".")
	}
	set, err := v.cfg.Keys.Keys(ctx)
	if err != nil {
		return nil, verified{}, err
	}
	v.observe(set)
	k, found := pick(set, hdr.KeyID)
	if !found && hdr.KeyID != "" {
		// An unknown kid may be a rotated key: look again (the source rate-limits this).
		if set, err = v.cfg.Keys.Refresh(ctx); err != nil {
			return nil, verified{}, err
		}
		v.observe(set)
		k, found = pick(set, hdr.KeyID)
	}
	if !found {
		if hdr.KeyID == "" {
			return nil, verified{}, invalidToken("Access token validation failure: the token has no kid and the key set holds several keys.")
		}
		return nil, verified{}, invalidToken("Access token validation failure: no key with the token's kid.")
	}
	pub, err := keyFor(k, alg)
	if err != nil {
		return nil, verified{}, err
	}
	return pub, verified{key: &verifyingKey{kid: hdr.KeyID, alg: alg, pub: pub}, set: set}, nil
}

// keyFor returns k's public key if it may verify alg.
func keyFor(k jose.JSONWebKey, alg jose.SignatureAlgorithm) (crypto.PublicKey, error) {
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
