package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/graphd/graphd/store"
	"github.com/graphd/graphd/store/embedded"
)

// TestPoolWarmAfterRestart: the pool opens MinConns connections at start, and after PostgreSQL restarts it
// replaces the broken idle ones by itself, before any request needs them (issue 12: pre-warm at start and after
// recovery, never MaxConns).
func TestPoolWarmAfterRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if os.Geteuid() == 0 { // the cluster then runs as the postgres user, who must reach the directory
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg := embedded.Config{DataDir: filepath.Join(dir, "data"), NoSync: true}
	c, err := embedded.Start(t.Context(), cfg)
	if errors.Is(err, embedded.ErrNoBinaries) {
		t.Skipf("no PostgreSQL binaries: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), c.URL(), store.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pool := st.Pool()

	waitFor := func(what string, limit time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !ok() {
			if time.Now().After(deadline) {
				s := pool.Stat()
				t.Fatalf("%s: not within %v (total %d, idle %d, new %d)", what, limit, s.TotalConns(), s.IdleConns(), s.NewConnsCount())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("two connections at start", 5*time.Second, func() bool { return pool.Stat().IdleConns() >= 2 })
	// MinConns, plus the one Open's ping may have opened before them; never MaxConns.
	if n := pool.Stat().TotalConns(); n > 3 {
		t.Fatalf("%d connections at start, want MinConns 2 (3 at most), not MaxConns", n)
	}

	if err := c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := pool.Stat().NewConnsCount()
	c, err = embedded.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(t.Context())

	// No request in between: the pool finds its connections broken and opens two new ones itself.
	waitFor("two new connections after the restart", 20*time.Second, func() bool {
		s := pool.Stat()
		return s.NewConnsCount() >= before+2 && s.IdleConns() >= 2
	})
	if n := pool.Stat().TotalConns(); n > 2 {
		t.Errorf("%d connections after the restart, want MinConns 2", n)
	}
	// And they work: the first request finds a live connection without a new connect.
	news := pool.Stat().NewConnsCount()
	if err := st.Ping(t.Context()); err != nil {
		t.Fatalf("the first request after the restart: %v", err)
	}
	if n := pool.Stat().NewConnsCount(); n != news {
		t.Errorf("the first request after the restart had to connect (%d new connections)", n-news)
	}
}
