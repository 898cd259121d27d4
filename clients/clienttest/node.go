package clienttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Node runs the JavaScript client scripts of one npm project (a directory with package.json and a
// committed package-lock.json) against graphd.
type Node struct {
	dir  string
	node string
	once sync.Once
	err  error
}

// NewNode prepares the npm project in dir; its dependencies are installed on first use.
func NewNode(dir string) *Node {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return &Node{err: err}
	}
	return &Node{dir: abs}
}

// stampFile records the SHA-256 of the package-lock.json that node_modules was installed from.
const stampFile = ".graphd-package-lock.sha256"

// Require makes sure node and the project's node_modules are there, running `npm ci` once per test binary
// when node_modules is missing or was installed from another package-lock.json. Without node or npm the
// test is skipped, unless CI=true: CI must install them.
func (n *Node) Require(tb testing.TB) {
	tb.Helper()
	node, errNode := exec.LookPath("node")
	npm, errNPM := exec.LookPath("npm")
	if errNode != nil || errNPM != nil {
		msg := "node (20 or later) and npm are needed for the JavaScript client tests"
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	n.once.Do(func() {
		if n.err == nil {
			n.node = node
			n.err = n.install(npm)
		}
	})
	if n.err != nil {
		tb.Fatal(n.err)
	}
}

func (n *Node) install(npm string) error {
	lock, err := os.ReadFile(filepath.Join(n.dir, "package-lock.json"))
	if err != nil {
		return fmt.Errorf("clienttest: %w", err)
	}
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])
	stamp := filepath.Join(n.dir, "node_modules", stampFile)
	if got, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(got)) == want {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = n.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("clienttest: npm ci in %s: %v\n%s", n.dir, err, out)
	}
	return os.WriteFile(stamp, []byte(want+"\n"), 0o644)
}

// Run runs a script of the project with node, with g's service root and token (and, for https, its
// certificate) in the environment along with env, and decodes the JSON it prints into out. The script's
// failure fails the test with its stderr.
func (n *Node) Run(tb testing.TB, g *Graphd, script string, env map[string]any, out any) {
	tb.Helper()
	n.Require(tb)
	ctx, cancel := context.WithTimeout(tb.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.node, script)
	cmd.Dir = n.dir
	cmd.Env = append(os.Environ(),
		"GRAPHD_SERVICE_ROOT="+g.ServiceRoot,
		"GRAPHD_TOKEN="+g.Token,
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
	)
	if g.CertFile != "" {
		cmd.Env = append(cmd.Env, "NODE_EXTRA_CA_CERTS="+g.CertFile)
	}
	for k, v := range env {
		s, ok := v.(string)
		if !ok {
			b, err := json.Marshal(v)
			if err != nil {
				tb.Fatal(err)
			}
			s = string(b)
		}
		cmd.Env = append(cmd.Env, k+"="+s)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	tb.Logf("node %s: %v", script, time.Since(start).Round(time.Millisecond))
	if err != nil {
		tb.Fatalf("node %s: %v\nstderr:\n%s\nstdout:\n%s", script, err, stderr.Bytes(), stdout.Bytes())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		tb.Fatalf("node %s printed no JSON result: %v\nstdout:\n%s\nstderr:\n%s", script, err, stdout.Bytes(), stderr.Bytes())
	}
}
