package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// These tests step an injected clock; nothing sleeps.

type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) Add(d time.Duration) { c.ns.Add(int64(d)) }

var hsSecret = []byte("a-shared-secret-of-32-bytes-long!")

func hsKey() keyPair { return keyPair{alg: jose.HS256, priv: hsSecret} }

// newCachedVerifier verifies RS256/ES256 with keys and HS256 with hsSecret, on clock.
func newCachedVerifier(keys KeySource, clock *fakeClock, size int) *Verifier {
	return NewVerifier(VerifierConfig{Issuer: issuer, Audience: audience, Keys: keys, HS256Secret: hsSecret, Now: clock.Now, CacheSize: size})
}

// verifications returns how many full verifications v has run since the last call.
func verifications(v *Verifier, last *uint64) uint64 {
	n := v.verifications.Load()
	d := n - *last
	*last = n
	return d
}

func mustVerify(tb testing.TB, v *Verifier, tok, what string) Principal {
	tb.Helper()
	p, err := v.Verify(context.Background(), tok)
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	return p
}

func mustRefuse(tb testing.TB, v *Verifier, tok, what string) {
	tb.Helper()
	if _, err := v.Verify(context.Background(), tok); err == nil {
		tb.Fatalf("%s: accepted", what)
	} else if !IsInvalidToken(err) {
		tb.Fatalf("%s: %v is not an InvalidTokenError", what, err)
	}
}

func TestCacheHitReturnsThePrincipal(t *testing.T) {
	t.Parallel()
	ec := newEC(t, "ec1")
	tests := []struct {
		name   string
		claims map[string]any
	}{
		{"ScopesAndRoles", with(baseClaims(), "scp", "User.Read "+PermReadAll, "roles", []string{"Other.Role", PermReadWriteAll})},
		{"RolesOnly", with(baseClaims(), "scp", nil, "roles", []string{PermReadAll})},
		{"EmptyRoles", with(baseClaims(), "roles", []string{})},
		{"SubNotOid", with(baseClaims(), "oid", nil, "sub", "subject-1")},
		{"UpperCaseTid", with(baseClaims(), "tid", strings.ToUpper(tenant))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newCachedVerifier(StaticKeys{jwks(ec)}, newFakeClock(now), 0)
			uncached := newCachedVerifier(StaticKeys{jwks(ec)}, newFakeClock(now), -1)
			tok := sign(t, ec, tt.claims, nil)
			want := mustVerify(t, uncached, tok, "uncached")
			var n uint64
			miss := mustVerify(t, v, tok, "miss")
			hit := mustVerify(t, v, tok, "hit")
			if got := verifications(v, &n); got != 1 {
				t.Fatalf("%d verifications for a miss and a hit, want 1", got)
			}
			if !reflect.DeepEqual(miss, want) || !reflect.DeepEqual(hit, want) {
				t.Fatalf("uncached %#v\nmiss     %#v\nhit      %#v", want, miss, hit)
			}
			// A caller that writes to its principal cannot change what the next hit returns.
			for _, p := range []Principal{miss, hit} {
				scribble(p.Scopes)
				scribble(p.Roles)
			}
			if again := mustVerify(t, v, tok, "hit after the caller wrote"); !reflect.DeepEqual(again, want) {
				t.Fatalf("the cache changed with its callers' principals: %#v, want %#v", again, want)
			}
		})
	}
}

// scribble writes to every element of s.
func scribble(s []string) {
	for i := range s {
		s[i] = PermReadWriteAll
	}
}

// TestCacheTimes checks that, at every instant around a token's limits, the cache answers as full verification
// does, and never serves an entry longer than MaxCacheAge.
func TestCacheTimes(t *testing.T) {
	t.Parallel()
	ec := newEC(t, "ec1")
	exp := now.Add(10 * time.Minute)
	nbf := now.Add(30 * time.Second) // ahead, but within the skew: valid now
	short := sign(t, ec, with(baseClaims(), "exp", exp.Unix(), "nbf", nbf.Unix(), "iat", nbf.Unix()), nil)
	long := sign(t, ec, with(baseClaims(), "exp", now.Add(3*time.Hour).Unix()), nil)
	tests := []struct {
		name  string
		tok   string
		at    time.Duration // from now, after the token was cached at now
		ok    bool
		fresh bool // needs a full verification
	}{
		{"BeforeExpiry", short, 9 * time.Minute, true, false},
		{"AtExpiry", short, 10 * time.Minute, true, false},
		{"AtExpiryPlusLeeway", short, 10*time.Minute + Leeway, true, false},
		{"JustAfterExpiryPlusLeeway", short, 10*time.Minute + Leeway + time.Nanosecond, false, true},
		{"ClockBackStillWithinSkew", short, -10 * time.Second, true, true},
		{"ClockBackBeforeNbfMinusSkew", short, nbf.Sub(now) - Leeway - time.Nanosecond, false, true},
		{"AtNbfMinusSkew", short, nbf.Sub(now) - Leeway, true, true},
		{"LongTokenWithinMaxAge", long, MaxCacheAge, true, false},
		{"LongTokenAfterMaxAge", long, MaxCacheAge + time.Nanosecond, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock(now)
			v := newCachedVerifier(StaticKeys{jwks(ec)}, clock, 0)
			uncached := newCachedVerifier(StaticKeys{jwks(ec)}, clock, -1)
			var n uint64
			mustVerify(t, v, tt.tok, "at now")
			verifications(v, &n)
			clock.Set(now.Add(tt.at))
			_, err := v.Verify(context.Background(), tt.tok)
			_, uerr := uncached.Verify(context.Background(), tt.tok)
			if (err == nil) != tt.ok || (uerr == nil) != tt.ok {
				t.Fatalf("cached: %v, uncached: %v; want ok=%v", err, uerr, tt.ok)
			}
			if err != nil && err.Error() != uerr.Error() {
				t.Fatalf("cached refusal %q differs from uncached %q", err, uerr)
			}
			if got := verifications(v, &n); (got == 1) != tt.fresh || got > 1 {
				t.Fatalf("%d verifications, want fresh=%v", got, tt.fresh)
			}
			if !tt.ok && v.cache.len() != 0 {
				t.Fatalf("a refused token's entry is still cached")
			}
		})
	}
}

// jwksFile is a JWKS published in a file that a JWKSSource reads, on a stepped clock.
type jwksFile struct {
	path  string
	src   *JWKSSource
	clock *fakeClock
}

func newJWKSFile(t *testing.T, clock *fakeClock, keys ...keyPair) *jwksFile {
	t.Helper()
	f := &jwksFile{path: filepath.Join(t.TempDir(), "jwks.json"), clock: clock}
	f.publish(t, keys...)
	src, err := NewJWKSSource(f.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	src.now = clock.Now
	f.src = src
	return f
}

// publish replaces the file at once (readers never see half of it).
func (f *jwksFile) publish(tb testing.TB, keys ...keyPair) {
	tb.Helper()
	b, err := json.Marshal(jwks(keys...))
	if err != nil {
		tb.Fatal(err)
	}
	tmp := f.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, f.path); err != nil {
		tb.Fatal(err)
	}
}

// TestCacheDropsRemovedKeys removes a key from the JWKS and checks that the tokens it signed stop being served
// from the cache at each way the set is reloaded, while the other key's tokens stay cached.
func TestCacheDropsRemovedKeys(t *testing.T) {
	t.Parallel()
	k1, k2 := newEC(t, "k1"), newRSA(t, "k2")
	k1Again := newEC(t, "k1") // new material under the old kid
	long := with(baseClaims(), "exp", now.Add(3*time.Hour).Unix())
	t1, t2 := sign(t, k1, long, nil), sign(t, k2, long, nil)
	tests := []struct {
		name   string
		after  []keyPair
		reload func(t *testing.T, f *jwksFile, v *Verifier)
	}{
		{"UnknownKidRefetch", []keyPair{k2}, func(t *testing.T, f *jwksFile, v *Verifier) {
			f.clock.Add(MinRefreshInterval)
			mustRefuse(t, v, sign(t, k2, long, ptr("made-up")), "unknown kid")
		}},
		{"BackgroundReloadAhead", []keyPair{k2}, func(t *testing.T, f *jwksFile, v *Verifier) {
			f.clock.Add(f.src.maxAge - ReloadAhead)
			mustVerify(t, v, t2, "hit near the end of the hour")
			f.src.bg.Wait()
		}},
		{"HourlyReloadDue", []keyPair{k2}, func(t *testing.T, f *jwksFile, v *Verifier) {
			// Past the hour at once, with no hit in the reload-ahead window: the next request reloads.
			f.clock.Add(f.src.maxAge)
		}},
		{"KidKeepsNewKey", []keyPair{k1Again, k2}, func(t *testing.T, f *jwksFile, v *Verifier) {
			f.clock.Add(MinRefreshInterval)
			mustRefuse(t, v, sign(t, k2, long, ptr("made-up")), "unknown kid")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock(now)
			f := newJWKSFile(t, clock, k1, k2)
			v := newCachedVerifier(f.src, clock, 0)
			var n uint64
			mustVerify(t, v, t1, "t1")
			mustVerify(t, v, t2, "t2")
			mustVerify(t, v, t1, "t1 again")
			if got := verifications(v, &n); got != 2 {
				t.Fatalf("%d verifications, want 2", got)
			}
			f.publish(t, tt.after...)
			mustVerify(t, v, t1, "t1 before the reload") // the set in use still holds k1
			tt.reload(t, f, v)
			verifications(v, &n)
			mustRefuse(t, v, t1, "t1 after the reload")
			if got := verifications(v, &n); got != 1 {
				t.Fatalf("t1 after the reload: %d verifications, want 1 (not a hit)", got)
			}
			mustVerify(t, v, t2, "t2 after the reload")
			if got := verifications(v, &n); got != 0 {
				t.Fatalf("t2 after the reload: %d verifications, want 0: its key stayed", got)
			}
			if got := v.cache.len(); got != 1 {
				t.Fatalf("%d entries, want 1", got)
			}
		})
	}
}

// TestCacheBackgroundReloadKeepsHitsServed checks that the reload ahead of the hour happens while hits are
// served, so no request waits for the fetch and the tokens of keys that stay need no new verification.
func TestCacheBackgroundReloadKeepsHitsServed(t *testing.T) {
	t.Parallel()
	k1 := newEC(t, "k1")
	clock := newFakeClock(now)
	f := newJWKSFile(t, clock, k1)
	v := newCachedVerifier(f.src, clock, 0)
	long := sign(t, k1, with(baseClaims(), "exp", now.Add(3*time.Hour).Unix()), nil)
	var n uint64
	mustVerify(t, v, long, "first")
	first, _ := f.src.Current()
	verifications(v, &n)
	clock.Add(f.src.maxAge - ReloadAhead - time.Second)
	mustVerify(t, v, long, "before the window")
	f.src.bg.Wait()
	if set, _ := f.src.Current(); set != first {
		t.Fatal("reloaded before the reload-ahead window")
	}
	clock.Add(time.Second)
	mustVerify(t, v, long, "in the window")
	f.src.bg.Wait()
	set, fresh := f.src.Current()
	if set == first || !fresh {
		t.Fatal("no background reload in the reload-ahead window")
	}
	mustVerify(t, v, long, "after the reload")
	if got := verifications(v, &n); got != 0 {
		t.Fatalf("%d verifications across the background reload, want 0", got)
	}
	if v.swept.Load() != set {
		t.Fatal("the cache was not swept against the reloaded set")
	}
}

// racingKeys hands Keys callers an older set than the newest it has published, as a request that fetched before
// a reload sees it.
type racingKeys struct{ old, newest *jose.JSONWebKeySet }

func (k racingKeys) Keys(context.Context) (*jose.JSONWebKeySet, error)    { return k.old, nil }
func (k racingKeys) Refresh(context.Context) (*jose.JSONWebKeySet, error) { return k.old, nil }
func (k racingKeys) Current() (*jose.JSONWebKeySet, bool)                 { return k.newest, true }

func TestCacheRefusesTokensCheckedAgainstAnOlderSet(t *testing.T) {
	t.Parallel()
	k1, k2 := newEC(t, "k1"), newEC(t, "k2")
	v := newCachedVerifier(racingKeys{old: jwks(k1, k2), newest: jwks(k2)}, newFakeClock(now), 0)
	t1 := sign(t, k1, baseClaims(), nil)
	mustVerify(t, v, t1, "t1 against the old set") // what the request saw; the cache must not keep it
	if got := v.cache.len(); got != 0 {
		t.Fatalf("%d entries: a token checked against a superseded set was cached", got)
	}
	mustVerify(t, v, sign(t, k2, baseClaims(), nil), "t2")
	if got := v.cache.len(); got != 0 {
		t.Fatalf("%d entries: still checked against the old set", got)
	}
}

// TestCacheServesNoHitDuringASweep stops a sweep half-way, after it has published the new set as the one to admit
// against but before it reached the shard of a token whose key the new set dropped, and checks that the token is
// not served from that shard meanwhile, while an HS256 token, which no key set affects, still is.
func TestCacheServesNoHitDuringASweep(t *testing.T) {
	t.Parallel()
	stable, rotating := newEC(t, "stable"), newEC(t, "rotating")
	clock := newFakeClock(now)
	f := newJWKSFile(t, clock, stable, rotating)
	v := newCachedVerifier(f.src, clock, 256)
	if len(v.cache.shards) < 2 {
		t.Fatalf("%d shards: the test needs a shard the sweep has not reached", len(v.cache.shards))
	}
	// Tokens outside shard 0, where the test holds the sweep (a lookup there would wait for it too).
	outside := func(k keyPair, kid *string) (string, digest) {
		for i := 0; ; i++ {
			tok := sign(t, k, with(baseClaims(), "jti", fmt.Sprint(i)), kid)
			if d := sha256.Sum256([]byte(tok)); v.cache.shard(&d) != &v.cache.shards[0] {
				return tok, d
			}
		}
	}
	rot, rotDigest := outside(rotating, nil)
	hs, hsDigest := outside(hsKey(), nil)
	madeUp, _ := outside(stable, ptr("made-up"))
	mustVerify(t, v, rot, "rot")
	mustVerify(t, v, hs, "hs")
	old := v.swept.Load()
	if old == nil || v.cache.len() != 2 {
		t.Fatalf("%d entries, swept %p: want both tokens cached against the first set", v.cache.len(), old)
	}

	f.publish(t, stable)
	clock.Add(MinRefreshInterval)
	first := &v.cache.shards[0]
	first.mu.Lock()
	sweeper := make(chan error, 1)
	go func() {
		// An unknown kid refetches the set, and the sweep that follows stops at shard 0.
		_, err := v.Verify(context.Background(), madeUp)
		sweeper <- err
	}()
	for v.observed.Load() == old {
		runtime.Gosched()
	}
	if cur, _ := f.src.Current(); cur == old {
		t.Fatal("the refetch did not load the new set")
	}
	if _, ok := v.lookup(&rotDigest, clock.Now()); ok {
		t.Error("a token of a dropped key was served while the sweep that drops it was under way")
	}
	if _, ok := v.lookup(&hsDigest, clock.Now()); !ok {
		t.Error("an HS256 token was not served during a sweep")
	}
	first.mu.Unlock()
	if err := <-sweeper; err == nil {
		t.Fatal("a made-up kid was accepted")
	}
	mustRefuse(t, v, rot, "rot after the sweep")
	if got := v.cache.len(); got != 1 {
		t.Fatalf("%d entries after the sweep, want the HS256 one", got)
	}
}

// refused are tokens the verifier refuses, of every kind.
func refused(tb testing.TB, k keyPair) map[string]string {
	other := newEC(tb, k.kid)
	return map[string]string{
		"Garbage":         "not-a-token",
		"Expired":         sign(tb, k, with(baseClaims(), "exp", now.Add(-2*time.Minute).Unix()), nil),
		"NotYetValid":     sign(tb, k, with(baseClaims(), "nbf", now.Add(5*time.Minute).Unix()), nil),
		"WrongAudience":   sign(tb, k, with(baseClaims(), "aud", "https://other.test"), nil),
		"BadSignature":    sign(tb, other, baseClaims(), nil),
		"TamperedPayload": tamper(sign(tb, k, baseClaims(), nil), with(baseClaims(), "tid", "bbbbbbbb-0000-4000-8000-000000000002")),
		"UnknownKid":      sign(tb, k, baseClaims(), ptr("nope")),
		"WrongHSSecret":   sign(tb, keyPair{alg: jose.HS256, priv: []byte("another-secret-of-32-bytes-long!!")}, baseClaims(), nil),
		"NoTid":           sign(tb, k, with(baseClaims(), "tid", nil), nil),
	}
}

// tamper replaces a signed token's payload, keeping its header and signature.
func tamper(tok string, claims map[string]any) string {
	parts := strings.Split(tok, ".")
	return parts[0] + "." + b64(claims) + "." + parts[2]
}

func TestCacheNeverKeepsRefusedTokens(t *testing.T) {
	t.Parallel()
	ec := newEC(t, "ec1")
	for name, tok := range refused(t, ec) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v := newCachedVerifier(StaticKeys{jwks(ec)}, newFakeClock(now), 0)
			var n uint64
			for range 3 {
				mustRefuse(t, v, tok, name)
			}
			if got := verifications(v, &n); got != 3 {
				t.Fatalf("%d verifications for 3 refusals, want 3: a refusal was answered from the cache", got)
			}
			if got := v.cache.len(); got != 0 {
				t.Fatalf("%d entries after refusals", got)
			}
		})
	}
}

// TestCacheGarbageFlood sends many distinct refused tokens from several goroutines and checks that the cache
// neither grows nor loses the good entries.
func TestCacheGarbageFlood(t *testing.T) {
	t.Parallel()
	ec := newEC(t, "ec1")
	v := newCachedVerifier(StaticKeys{jwks(ec)}, newFakeClock(now), 64)
	var good []string
	for i := range 8 {
		good = append(good, sign(t, ec, with(baseClaims(), "jti", fmt.Sprint(i)), nil))
	}
	for _, g := range good {
		mustVerify(t, v, g, "good")
	}
	var kinds []string
	for _, tok := range refused(t, ec) {
		kinds = append(kinds, tok)
	}
	hs, es := sign(t, hsKey(), baseClaims(), nil), sign(t, ec, baseClaims(), nil)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 3000 {
				var tok string
				switch i % 4 {
				case 0: // distinct garbage
					tok = fmt.Sprintf("garbage-%d-%d", w, i)
				case 1: // distinct well-formed tokens whose HMAC does not match
					tok = tamper(hs, with(baseClaims(), "jti", fmt.Sprint(w, i)))
				case 2: // the same with ECDSA, which costs a signature check each
					tok = tamper(es, with(baseClaims(), "jti", fmt.Sprint(w, i)))
				default:
					tok = kinds[i%len(kinds)]
				}
				if _, err := v.Verify(context.Background(), tok); err == nil {
					t.Errorf("flood token %q accepted", tok)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := v.cache.len(); got != len(good) {
		t.Fatalf("%d entries after the flood, want the %d good ones", got, len(good))
	}
	var n uint64
	verifications(v, &n)
	for _, g := range good {
		mustVerify(t, v, g, "good after the flood")
	}
	if got := verifications(v, &n); got != 0 {
		t.Fatalf("%d good tokens needed verifying again after the flood", got)
	}
}

// TestCacheBoundedEviction floods the cache with valid distinct tokens (each one verified) and checks that it
// stays within its size, that a token in use keeps its entry, and that unused entries make room.
func TestCacheBoundedEviction(t *testing.T) {
	t.Parallel()
	for _, size := range []int{64, 1024} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock(now)
			v := newCachedVerifier(nil, clock, size)
			hot := sign(t, hsKey(), with(baseClaims(), "jti", "hot"), nil)
			cold := sign(t, hsKey(), with(baseClaims(), "jti", "cold"), nil)
			var n uint64
			mustVerify(t, v, hot, "hot")
			mustVerify(t, v, cold, "cold")
			verifications(v, &n)
			shard := size / len(v.cache.shards)
			const rounds = 4
			for i := range rounds * size {
				mustVerify(t, v, sign(t, hsKey(), with(baseClaims(), "jti", fmt.Sprint(i)), nil), "flood")
				if i%(shard/4) == 0 {
					mustVerify(t, v, hot, "hot during the flood")
				}
				if got := v.cache.len(); got > size {
					t.Fatalf("%d entries, over the size %d", got, size)
				}
			}
			if got := verifications(v, &n); got != uint64(rounds*size) {
				t.Fatalf("%d verifications for %d flood tokens and the hot one: the hot token lost its entry", got, rounds*size)
			}
			if got := v.cache.len(); got != size {
				t.Fatalf("%d entries, want a full cache of %d", got, size)
			}
			mustVerify(t, v, cold, "cold")
			if got := verifications(v, &n); got != 1 {
				t.Fatal("the cold token kept its entry through the flood")
			}
		})
	}
}

func TestCacheEvictsExpiredFirst(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(now)
	v := newCachedVerifier(nil, clock, 4)
	var toks []string
	for i := range 4 {
		exp := now.Add(time.Hour)
		if i == 2 {
			exp = now.Add(time.Minute)
		}
		toks = append(toks, sign(t, hsKey(), with(baseClaims(), "jti", fmt.Sprint(i), "exp", exp.Unix()), nil))
		mustVerify(t, v, toks[i], "fill")
		mustVerify(t, v, toks[i], "use") // every entry marked used
	}
	clock.Add(time.Minute + Leeway + time.Nanosecond) // the third is expired
	mustVerify(t, v, sign(t, hsKey(), with(baseClaims(), "jti", "new"), nil), "new")
	// All four were used, so CLOCK clears every mark and evicts the first it meets again; an expired entry it
	// meets on the way goes at once instead.
	var n uint64
	verifications(v, &n)
	for i, tok := range toks {
		if i == 2 {
			continue
		}
		mustVerify(t, v, tok, "survivor")
	}
	if got := verifications(v, &n); got != 0 {
		t.Fatalf("%d used, unexpired entries were evicted while an expired one was there", got)
	}
}

func TestCacheOff(t *testing.T) {
	t.Parallel()
	ec := newEC(t, "ec1")
	v := newCachedVerifier(StaticKeys{jwks(ec)}, newFakeClock(now), -1)
	tok := sign(t, ec, baseClaims(), nil)
	var n uint64
	for range 3 {
		mustVerify(t, v, tok, "uncached")
	}
	if got := verifications(v, &n); got != 3 || v.cache != nil {
		t.Fatalf("%d verifications with the cache off, want 3", got)
	}
}

// TestCacheConcurrent verifies good, refused and rotating tokens from many goroutines while the JWKS rotates and
// the clock moves, for the race detector, and checks that no answer is ever wrong.
func TestCacheConcurrent(t *testing.T) {
	t.Parallel()
	stable, rotating := newEC(t, "stable"), newEC(t, "rotating")
	clock := newFakeClock(now)
	f := newJWKSFile(t, clock, stable, rotating)
	v := newCachedVerifier(f.src, clock, 256)
	long := with(baseClaims(), "exp", now.Add(24*time.Hour).Unix())
	var good []string
	for i := range 16 {
		good = append(good, sign(t, stable, with(long, "jti", fmt.Sprint(i)), nil))
		good = append(good, sign(t, hsKey(), with(long, "jti", fmt.Sprint(i)), nil))
	}
	var bad []string
	for name, tok := range refused(t, stable) {
		if name != "NotYetValid" { // the clock moves on to its nbf
			bad = append(bad, tok)
		}
	}
	rot := sign(t, rotating, long, nil)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := v.Verify(context.Background(), good[(w+i)%len(good)]); err != nil {
					t.Errorf("good token refused: %v", err)
					return
				}
				if _, err := v.Verify(context.Background(), bad[i%len(bad)]); err == nil {
					t.Error("refused token accepted")
					return
				}
				_, _ = v.Verify(context.Background(), rot) // either answer, depending on the moment
			}
		})
	}
	for round := range 20 {
		keys := []keyPair{stable}
		if round%2 == 1 {
			keys = append(keys, rotating)
		}
		f.publish(t, keys...)
		clock.Add(MinRefreshInterval)
		_, _ = v.Verify(context.Background(), sign(t, stable, long, ptr("made-up"))) // refetch
		// Once this goroutine has seen the new set, everyone's answer for rot must follow it.
		_, err := v.Verify(context.Background(), rot)
		if (err == nil) != (round%2 == 1) {
			t.Fatalf("round %d: rotating key published=%v, but Verify: %v", round, round%2 == 1, err)
		}
	}
	close(stop)
	wg.Wait()
	f.src.bg.Wait()
}

func BenchmarkVerify(b *testing.B) {
	ec, rs := newEC(b, "ec1"), newRSA(b, "rs1")
	toks := map[string]string{
		"ES256": sign(b, ec, baseClaims(), nil),
		"RS256": sign(b, rs, baseClaims(), nil),
		"HS256": sign(b, hsKey(), baseClaims(), nil),
	}
	for _, alg := range []string{"ES256", "RS256", "HS256"} {
		for _, mode := range []struct {
			name string
			size int
		}{{"uncached", -1}, {"cached", 0}} {
			b.Run(alg+"/"+mode.name, func(b *testing.B) {
				clock := newFakeClock(now)
				v := newCachedVerifier(StaticKeys{jwks(ec, rs)}, clock, mode.size)
				tok := toks[alg]
				mustVerify(b, v, tok, "warm-up")
				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.Verify(context.Background(), tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
	// Cached, with a JWKSSource (its Current is on the hit path) and every core hitting one token, as wrk does.
	b.Run("ES256/cached-jwks-parallel", func(b *testing.B) {
		clock := newFakeClock(now)
		dir := b.TempDir()
		path := filepath.Join(dir, "jwks.json")
		data, _ := json.Marshal(jwks(ec, rs))
		if err := os.WriteFile(path, data, 0o600); err != nil {
			b.Fatal(err)
		}
		src, err := NewJWKSSource(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		src.now = clock.Now
		v := newCachedVerifier(src, clock, 0)
		tok := toks["ES256"]
		mustVerify(b, v, tok, "warm-up")
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.Verify(context.Background(), tok); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
