package embedded

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaultDataDir(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		env     map[string]string
		euid    int
		want    string
		wantErr bool
	}{
		{"GRAPHDDataDir", map[string]string{"GRAPHD_DATA_DIR": "/srv/graphd/", "XDG_DATA_HOME": "/x", "HOME": "/home/u"}, 1000, "/srv/graphd", false},
		{"GRAPHDDataDirAsRoot", map[string]string{"GRAPHD_DATA_DIR": "/srv/graphd"}, 0, "/srv/graphd", false},
		{"Root", map[string]string{"XDG_DATA_HOME": "/x", "HOME": "/root"}, 0, "/var/lib/graphd", false},
		{"XDGDataHome", map[string]string{"XDG_DATA_HOME": "/home/u/data", "HOME": "/home/u"}, 1000, "/home/u/data/graphd", false},
		{"RelativeXDGDataHomeIgnored", map[string]string{"XDG_DATA_HOME": "data", "HOME": "/home/u"}, 1000, "/home/u/.local/share/graphd", false},
		{"Home", map[string]string{"HOME": "/home/u"}, 1000, "/home/u/.local/share/graphd", false},
		{"ErrNoHome", map[string]string{}, 1000, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := defaultDataDir(func(k string) string { return tc.env[k] }, tc.euid)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSocketDirFor(t *testing.T) {
	t.Parallel()
	long := "/" + strings.Repeat("x", 90)
	for _, tc := range []struct {
		name, dataDir, want string
	}{
		{"Short", "/var/lib/graphd", "/var/lib/graphd/run"},
		// 84 + len("/run/.s.PGSQL.5432") = 102: too long.
		{"Long", long, "/tmp/graphd-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := socketDirFor(tc.dataDir)
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("socketDirFor(%q) = %q, want prefix %q", tc.dataDir, got, tc.want)
			}
			if n := len(socketPath(got, port)); n >= maxSocketPath {
				t.Errorf("socket path %d bytes long, want < %d", n, maxSocketPath)
			}
			if again := socketDirFor(tc.dataDir); again != got {
				t.Errorf("socketDirFor not deterministic: %q then %q", got, again)
			}
		})
	}
	if socketDirFor(long+"a") == socketDirFor(long+"b") {
		t.Error("two long data directories share a socket directory")
	}
}

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	got := []string{"9.6", "15", "10", "16", "15.1", "beta"}
	slices.SortFunc(got, compareVersions)
	want := []string{"beta", "9.6", "10", "15", "15.1", "16"}
	if !slices.Equal(got, want) {
		t.Errorf("sorted = %q, want %q", got, want)
	}
}

func TestDebianBinDirs(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, v := range []string{"9.6", "15", "13"} {
		if err := os.MkdirAll(filepath.Join(root, v, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got := debianBinDirs(root)
	want := []string{filepath.Join(root, "15", "bin"), filepath.Join(root, "13", "bin"), filepath.Join(root, "9.6", "bin")}
	if !slices.Equal(got, want) {
		t.Errorf("debianBinDirs = %q, want %q", got, want)
	}
}

func TestQuoteConnValue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"Plain", "/var/lib/graphd/run", "/var/lib/graphd/run"},
		{"Space", "/my data/run", `'/my data/run'`},
		{"QuoteAndBackslash", `/a'b\c`, `'/a\'b\\c'`},
		{"Empty", "", "''"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := quoteConnValue(tc.in); got != tc.want {
				t.Errorf("quoteConnValue(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestProbeNoServer(t *testing.T) {
	t.Parallel()
	if got := probe(t.Context(), t.TempDir(), port); got != probeNoResponse {
		t.Errorf("probe of an empty directory = %v, want probeNoResponse", got)
	}
}

// TestStartServerLosesRace covers a server started on the cluster by a process that bypassed init.lock:
// our postmaster then fails on postmaster.pid, and startServer must attach to the winner.
func TestStartServerLosesRace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg := Config{DataDir: filepath.Join(dir, "data"), NoSync: true, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	s, err := newSite(t.Context(), cfg)
	if errors.Is(err, ErrNoBinaries) {
		t.Skipf("PostgreSQL binaries not found: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := prepareDataDir(s.dataDir, s.acct); err != nil {
		t.Fatal(err)
	}
	if err := s.ensureInitialized(t.Context()); err != nil {
		t.Fatal(err)
	}
	winner, err := s.startServer(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 30*time.Second)
		defer cancel()
		if err := winner.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})

	loser, err := s.startServer(t.Context())
	if err != nil {
		t.Fatalf("second startServer: %v", err)
	}
	if loser.Owned() {
		t.Error("second startServer: Owned() = true, want false (attached to the winner)")
	}
	if loser.URL() != winner.URL() {
		t.Errorf("second startServer: URL() = %q, want %q", loser.URL(), winner.URL())
	}
	if got := probe(t.Context(), winner.sockDir, winner.port); got != probeReady {
		t.Errorf("winner after the race: probe = %v, want probeReady", got)
	}
}
