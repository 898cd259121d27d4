package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// graphdServer is `graphd serve` running as a child process on its own embedded PostgreSQL cluster.
type graphdServer struct {
	bin     string
	addr    string
	dataDir string
	env     []string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// startGraphd starts bin serve on a free loopback port with its data under dir and waits until /readyz
// answers 200. The cluster keeps PostgreSQL's default durability settings (fsync, synchronous_commit).
func startGraphd(ctx context.Context, bin, dir string, extraEnv []string) (*graphdServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &graphdServer{
		bin:     bin,
		addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		dataDir: filepath.Join(dir, "data"),
		logPath: filepath.Join(dir, "graphd.log"),
		exited:  make(chan struct{}),
	}
	// As root the cluster runs as the postgres user, which must be able to traverse to its directory.
	if err := os.Mkdir(s.dataDir, 0o755); err != nil {
		return nil, err
	}
	s.env = append(withoutVars(os.Environ(), "DATABASE_URL", "GRAPHD_", "PG"),
		"GRAPHD_DATA_DIR="+s.dataDir,
		"GRAPHD_ADDR="+s.addr,
		"GRAPHD_LOG_LEVEL=warn", // an access log line per request at info would be part of the measurement
		"GRAPHD_AUTH=none",
	)
	s.env = append(s.env, extraEnv...)
	logf, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = s.env
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx, 120*time.Second); err != nil {
		return nil, errors.Join(err, s.stop())
	}
	return s, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// fixedEnv are the graphd settings the bench decides.
var fixedEnv = []string{"GRAPHD_DATA_DIR", "GRAPHD_ADDR", "GRAPHD_LOG_LEVEL", "GRAPHD_AUTH"}

// withoutVars drops the variables whose names start with one of prefixes, so nothing in the caller's
// environment redirects graphd to another database or configures it differently.
func withoutVars(env []string, prefixes ...string) []string {
	var out []string
next:
	for _, kv := range env {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

func (s *graphdServer) baseURL() string { return "http://" + s.addr }

func (s *graphdServer) pid() int { return s.cmd.Process.Pid }

func (s *graphdServer) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(s.baseURL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("graphd exited during start (%v); its log:\n%s", s.cmd.ProcessState, s.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("graphd was not ready within %v; its log:\n%s", timeout, s.logTail())
		}
	}
}

// stop asks graphd to drain and stop its cluster (SIGTERM), and kills it if it has not exited in a minute.
func (s *graphdServer) stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		if !s.cmd.ProcessState.Success() {
			return fmt.Errorf("graphd stopped with %v", s.cmd.ProcessState)
		}
		return nil
	case <-time.After(time.Minute):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return errors.New("graphd did not stop within a minute of SIGTERM; killed it")
	}
}

// command runs another graphd command (import) with the server's environment, so it attaches to the
// running cluster.
func (s *graphdServer) command(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("graphd %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// logTail returns the end of graphd's log (warnings and errors only, at the level the bench runs it).
func (s *graphdServer) logTail() string {
	data, _ := os.ReadFile(s.logPath)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// errorLines counts graphd's log lines at level ERROR and returns the first one.
func (s *graphdServer) errorLines() (int, string) {
	data, _ := os.ReadFile(s.logPath)
	n, first := 0, ""
	for line := range strings.Lines(string(data)) {
		if strings.Contains(line, `"level":"ERROR"`) {
			if n == 0 {
				first = strings.TrimSpace(line)
			}
			n++
		}
	}
	return n, first
}

// cluster describes the embedded PostgreSQL server as its postmaster.pid does.
type cluster struct {
	pid     int
	sockDir string
	port    string
	pgdata  string
}

func (s *graphdServer) cluster() (cluster, error) {
	c := cluster{pgdata: filepath.Join(s.dataDir, "pgdata")}
	data, err := os.ReadFile(filepath.Join(c.pgdata, "postmaster.pid"))
	if err != nil {
		return c, fmt.Errorf("embedded cluster: %w", err)
	}
	// Lines: pid, data directory, start time, port, socket directory, listen address, shared memory key, status.
	lines := strings.Split(string(data), "\n")
	if len(lines) < 5 {
		return c, errors.New("embedded cluster: short postmaster.pid")
	}
	if c.pid, err = strconv.Atoi(strings.TrimSpace(lines[0])); err != nil {
		return c, fmt.Errorf("embedded cluster: postmaster.pid: %w", err)
	}
	c.port, c.sockDir = strings.TrimSpace(lines[3]), strings.TrimSpace(lines[4])
	return c, nil
}

// connString is a pgx/libpq connection string to graphd's database over the cluster's unix socket.
func (c cluster) connString() string {
	return fmt.Sprintf("host=%s port=%s user=graphd dbname=graphd sslmode=disable application_name=%s", c.sockDir, c.port, benchAppName)
}

// benchAppName marks the bench's own database sessions, so the activity sampler leaves them out.
const benchAppName = "graphd-bench"
