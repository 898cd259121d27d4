package graphdtest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graphd/graphd/graphdtest/admin"
	"github.com/graphd/graphd/httpapi"
)

func TestPoolSize(t *testing.T) {
	t.Parallel()
	s := New(t)
	if got := s.store.Pool().Config().MaxConns; got != maxConns {
		t.Errorf("database pool of %d connections, want %d", got, maxConns)
	}
}

// TestChildProcess is the child of TestNoPostgresOutlivesTheBinary: it starts a server and returns, in a test
// binary that does not call Main.
func TestChildProcess(t *testing.T) {
	if os.Getenv("GRAPHDTEST_CHILD") != "1" {
		t.Skip("runs as TestNoPostgresOutlivesTheBinary's child")
	}
	New(t)
	b, err := os.ReadFile(filepath.Join(db.dataDir, "pgdata", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _, _ := strings.Cut(string(b), "\n")
	t.Logf("\nDATADIR=%s\nPOSTMASTER=%s\n", db.dataDir, pid)
}

// TestNoPostgresOutlivesTheBinary runs a test binary without Main that starts the embedded cluster, and checks
// that the cluster stops when that binary exits, and that the next binary removes its data directory.
func TestNoPostgresOutlivesTheBinary(t *testing.T) {
	if os.Getenv("TEST_DATABASE_URL") != "" {
		t.Skip("TEST_DATABASE_URL is set: no embedded cluster")
	}
	t.Parallel()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestChildProcess$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "GRAPHDTEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var dataDir string
	var pid int
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "DATADIR="); ok {
			dataDir = v
		}
		if v, ok := strings.CutPrefix(line, "POSTMASTER="); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	if dataDir == "" || pid <= 0 {
		t.Fatalf("the child did not report its cluster:\n%s", out)
	}
	// The kernel asks the postmaster for a fast shutdown when the binary exits; give it time to finish.
	exited := time.Now()
	deadline := exited.Add(30 * time.Second)
	for alive(pid) || len(processesUsing(dataDir)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("PostgreSQL of the exited test binary still runs: postmaster %d alive %v, processes %v", pid, alive(pid), processesUsing(dataDir))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("postmaster %d gone %v after its test binary", pid, time.Since(exited).Round(time.Millisecond))
	if _, err := os.Stat(dataDir); err != nil {
		t.Fatalf("the data directory of a binary without Main: %v (expected to stay until the next binary)", err)
	}
	if !stale(dataDir) {
		t.Fatalf("%s is not stale after its binary and PostgreSQL are gone", dataDir)
	}
	removeStaleDataDirs(filepath.Dir(dataDir))
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("removeStaleDataDirs left %s: %v", dataDir, err)
	}
}

// processesUsing lists the processes whose command line names dir.
func processesUsing(dir string) []string {
	var out []string
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err == nil && bytes.Contains(b, []byte(dir)) {
			out = append(out, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

func TestRemoveStaleDataDirs(t *testing.T) {
	t.Parallel()
	// A pid that is certainly gone: a child that has exited and been waited for.
	done := exec.Command("true")
	if err := done.Run(); err != nil {
		t.Fatal(err)
	}
	gone, self := strconv.Itoa(done.Process.Pid), strconv.Itoa(os.Getpid())
	old := time.Now().Add(-2 * time.Hour)
	tests := []struct {
		name       string
		owner      string // "" for no owner file
		postmaster string // "" for no postmaster.pid
		cluster    bool
		mtime      time.Time
		removed    bool
	}{
		{"OwnerGone", gone, "", true, time.Now(), true},
		{"OwnerGonePostmasterGone", gone, gone, true, time.Now(), true},
		{"OwnerAlive", self, "", true, time.Now(), false},
		{"PostmasterStillStopping", gone, self, true, time.Now(), false},
		{"NoOwnerNew", "", "", true, time.Now(), false},
		{"NoOwnerOldCluster", "", "", true, old, true},
		{"NoOwnerOldNotACluster", "", "", false, old, false},
		{"OwnerGarbage", "x", "", true, old, false},
	}
	root := t.TempDir()
	for _, tc := range tests {
		dir := filepath.Join(root, dataDirPrefix+tc.name)
		if err := os.MkdirAll(filepath.Join(dir, "pgdata"), 0o755); err != nil {
			t.Fatal(err)
		}
		write := func(name, content string) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if tc.owner != "" {
			write(ownerFile, tc.owner)
		}
		if tc.postmaster != "" {
			write("pgdata/postmaster.pid", tc.postmaster+"\n/x\n")
		}
		if tc.cluster {
			write("pgdata/PG_VERSION", "15\n")
		}
		if err := os.Chtimes(dir, tc.mtime, tc.mtime); err != nil {
			t.Fatal(err)
		}
	}
	// Not ours: another prefix.
	if err := os.Mkdir(filepath.Join(root, "graphd-other"), 0o755); err != nil {
		t.Fatal(err)
	}
	removeStaleDataDirs(root)
	for _, tc := range tests {
		_, err := os.Stat(filepath.Join(root, dataDirPrefix+tc.name))
		if removed := os.IsNotExist(err); removed != tc.removed {
			t.Errorf("%s: removed %v, want %v", tc.name, removed, tc.removed)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "graphd-other")); err != nil {
		t.Errorf("a directory of another name was touched: %v", err)
	}
}

// TestAdminTypes checks that the admin client's types carry the JSON members the server writes, so that the
// client does not silently drop one the server adds.
func TestAdminTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		client, serv any
	}{
		{"Fault", admin.Fault{}, httpapi.Fault{}},
		{"Request", admin.Request{}, httpapi.JournalEntry{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := jsonNames(tc.client), jsonNames(tc.serv); !slices.Equal(got, want) {
				t.Errorf("members %v, the server's %v", got, want)
			}
		})
	}
}

func jsonNames(v any) []string {
	var names []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
