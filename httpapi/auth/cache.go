package auth

// The token cache.
//
// Checking an ES256 or RS256 signature costs more CPU than the rest of a request, and a client sends the same
// token for as long as it lives (an hour or so). So the Verifier remembers the tokens it accepted, and a repeated
// token costs a SHA-256 and a map lookup. The cache never accepts a token that the verifier would refuse at that
// moment:
//
//   - Only a token that passed every check enters. A refused token is never cached, so garbage, however much of
//     it, takes no space and evicts nothing.
//   - The key is the SHA-256 of the whole token; the token itself is not kept. Serving another token from an
//     entry would need a second SHA-256 preimage. The map compares whole digests; the timing of that comparison
//     can only tell digest bits, which do not help to find such a token.
//   - An entry is served up to the token's exp plus Leeway, as verification allows, and for at most MaxCacheAge
//     after it was verified; never before the moment it was verified (a clock stepped back falls through to full
//     verification, so a token whose nbf is still ahead is refused as before).
//   - An entry remembers the key that verified it. Whenever the KeySource publishes a new set (hourly reload,
//     refetch for an unknown kid), entries whose kid no longer selects an equal key are dropped before the new set
//     serves a hit; an entry verified against an older set than the newest one seen is not admitted. A
//     JWKS-verified entry is served only while KeySource.Current says the source would hand out its set without
//     loading, and only once the sweep against that set has finished (a hit does not wait for a sweep that
//     another request runs); otherwise the request takes the full path, which loads and waits for the sweep, as
//     it did without a cache. JWKSSource reloads in the background ReloadAhead before its set is due, so hits
//     keep being served across the hour.
//   - Size: at most CacheSize entries, spread over shards by digest. A full shard evicts with CLOCK (second
//     chance): the hand drops the first entry that is expired or has not been hit since the hand last passed,
//     clearing hit marks on its way. A flood of valid one-shot tokens (each costs a signature check before it can
//     enter) therefore cycles through the unused slots, while a token in use keeps its entry.
//   - A hit returns the Principal as verified, with fresh copies of its slices, so no caller can change what the
//     next hit sees.

import (
	"crypto"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	// DefaultCacheSize is the number of verified tokens kept when VerifierConfig.CacheSize is 0: a few hundred
	// bytes each, so about 2 MB when full.
	DefaultCacheSize = 4096
	// MaxCacheAge is the longest an entry is served after its token was verified, whatever the token's exp.
	MaxCacheAge = time.Hour
)

const cacheShards = 16 // a power of two; caches below cacheShards*cacheShards entries use one shard

type digest = [32]byte

// verifyingKey is the JWKS key that verified a token: the kid and algorithm that selected it, and the public key.
type verifyingKey struct {
	kid string
	alg jose.SignatureAlgorithm
	pub crypto.PublicKey
}

// cacheEntry is one verified token. Everything but used and pos is immutable once the entry is in a shard.
type cacheEntry struct {
	digest    digest
	principal Principal
	notBefore int64         // unix ns: the verification time; never served earlier
	deadline  int64         // unix ns: served up to and including this instant
	key       *verifyingKey // nil for HS256, whose secret is fixed for the verifier's life
	used      atomic.Bool   // hit since the CLOCK hand last passed
	pos       int           // index in the shard's ring; guarded by the shard's lock
}

func (e *cacheEntry) live(t int64) bool { return t >= e.notBefore && t <= e.deadline }

type tokenCache struct {
	shards []cacheShard
	mask   byte
}

type cacheShard struct {
	mu    sync.RWMutex
	index map[digest]*cacheEntry
	ring  []*cacheEntry // the CLOCK; its order is the hand's, unrelated to age
	hand  int
	max   int
	_     [64]byte // keeps neighbouring shards' locks off one cache line
}

func newTokenCache(size int) *tokenCache {
	n := 1
	if size >= cacheShards*cacheShards {
		n = cacheShards
	}
	c := &tokenCache{shards: make([]cacheShard, n), mask: byte(n - 1)}
	for i := range c.shards {
		c.shards[i].index = make(map[digest]*cacheEntry)
		c.shards[i].max = size / n
	}
	return c
}

func (c *tokenCache) shard(d *digest) *cacheShard { return &c.shards[d[0]&c.mask] }

// get returns the entry for d, live or not.
func (c *tokenCache) get(d *digest) *cacheEntry {
	sh := c.shard(d)
	sh.mu.RLock()
	e := sh.index[*d]
	sh.mu.RUnlock()
	return e
}

// put adds e unless admit, called under the shard's lock, says no. A full shard evicts first.
func (c *tokenCache) put(e *cacheEntry, now int64, admit func(*cacheEntry) bool) {
	sh := c.shard(&e.digest)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.max <= 0 || !admit(e) {
		return
	}
	if old, ok := sh.index[e.digest]; ok {
		e.pos = old.pos
	} else if len(sh.ring) < sh.max {
		e.pos = len(sh.ring)
		sh.ring = append(sh.ring, nil)
	} else {
		e.pos = sh.victim(now)
		delete(sh.index, sh.ring[e.pos].digest)
	}
	sh.ring[e.pos] = e
	sh.index[e.digest] = e
}

// victim moves the hand to the slot to reuse: the first entry that is expired or unused since the hand's last
// pass. Two turns at most, since the first clears every mark.
func (sh *cacheShard) victim(now int64) int {
	for range 2 * len(sh.ring) {
		e := sh.ring[sh.hand]
		i := sh.hand
		sh.hand = (sh.hand + 1) % len(sh.ring)
		if now > e.deadline || !e.used.Load() {
			return i
		}
		e.used.Store(false)
	}
	return sh.hand
}

// remove drops e if it is still the entry for its digest.
func (c *tokenCache) remove(e *cacheEntry) {
	sh := c.shard(&e.digest)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.index[e.digest] == e {
		sh.removeLocked(e)
	}
}

func (sh *cacheShard) removeLocked(e *cacheEntry) {
	delete(sh.index, e.digest)
	last := sh.ring[len(sh.ring)-1]
	sh.ring[e.pos], last.pos = last, e.pos
	sh.ring[len(sh.ring)-1] = nil
	sh.ring = sh.ring[:len(sh.ring)-1]
	if sh.hand >= len(sh.ring) {
		sh.hand = 0
	}
}

// sweep drops every entry keep refuses. It holds one shard's lock at a time.
func (c *tokenCache) sweep(keep func(*cacheEntry) bool) {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for j := len(sh.ring) - 1; j >= 0; j-- {
			if e := sh.ring[j]; !keep(e) {
				sh.removeLocked(e)
			}
		}
		sh.mu.Unlock()
	}
}

// len counts the entries, live or not.
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		n += len(sh.ring)
		sh.mu.RUnlock()
	}
	return n
}

// clone returns p with copies of its slices (one allocation for both), nil and empty kept apart.
func (p Principal) clone() Principal {
	n := len(p.Scopes) + len(p.Roles)
	if n == 0 {
		return p // empty slices are clipped when cached, so appending to them cannot write into the cache
	}
	buf := make([]string, n)
	if p.Scopes != nil {
		s := len(p.Scopes)
		copy(buf, p.Scopes)
		p.Scopes = buf[:s:s]
	}
	if p.Roles != nil {
		copy(buf[len(p.Scopes):], p.Roles)
		p.Roles = buf[len(p.Scopes):n:n]
	}
	return p
}
