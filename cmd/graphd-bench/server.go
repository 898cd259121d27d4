package main

import (
	"bytes"
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
	"sync"
	"syscall"
	"time"
)

// graphdServer is `graphd serve` running as a child process, on its own embedded PostgreSQL cluster or attached
// to another one through DATABASE_URL.
type graphdServer struct {
	name    string // for the output and the log file's name
	bin     string
	addr    string
	dataDir string // "" when attached to another server's cluster
	app     string // application_name of its database sessions ("" for a server that owns its cluster)
	env     []string
	logPath string
	log     *logSink
	cmd     *exec.Cmd
	exited  chan struct{}
}

// serverSpec says how to start one graphd.
type serverSpec struct {
	name string
	bin  string
	// dir holds the server's log and, without attach, its data directory (an embedded cluster of its own).
	dir string
	// attach, if set, is the cluster the server uses through DATABASE_URL; its sessions are then marked with
	// application_name graphd-<name>, so the activity sampler can tell them from the owner's.
	attach *cluster
	env    []string // settings, after the bench's own
	args   []string // the command line after the binary; default "serve"
}

// startGraphd starts spec.bin serve on a free loopback port and waits until /readyz answers 200. An embedded
// cluster keeps PostgreSQL's default durability settings (fsync, synchronous_commit).
func startGraphd(ctx context.Context, spec serverSpec) (*graphdServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &graphdServer{
		name:    spec.name,
		bin:     spec.bin,
		addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		logPath: filepath.Join(spec.dir, "graphd-"+spec.name+".log"),
		exited:  make(chan struct{}),
	}
	s.env = append(withoutVars(os.Environ(), "DATABASE_URL", "GRAPHD_", "PG"), "GRAPHD_ADDR="+s.addr)
	if spec.attach != nil {
		s.app = "graphd-" + spec.name
		s.env = append(s.env, "DATABASE_URL="+spec.attach.connStringAs(s.app))
	} else {
		s.dataDir = filepath.Join(spec.dir, "data-"+spec.name)
		// As root the cluster runs as the postgres user, which must be able to traverse to its directory.
		if err := os.Mkdir(s.dataDir, 0o755); err != nil {
			return nil, err
		}
		s.env = append(s.env, "GRAPHD_DATA_DIR="+s.dataDir)
	}
	s.env = append(s.env, spec.env...)
	logf, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	s.log = &logSink{file: logf}
	args := spec.args
	if args == nil {
		args = []string{"serve"}
	}
	s.cmd = exec.Command(spec.bin, args...)
	s.cmd.Env = s.env
	// One writer for both, so os/exec gives the child one pipe and copies it on one goroutine.
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() {
		_ = s.cmd.Wait() // returns once the pipe is drained
		s.log.close()
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

// fixedEnv are the graphd settings the bench decides: where graphd listens and keeps its data, and the ones the
// bench's phases compare (authentication and the admin API).
var fixedEnv = []string{"GRAPHD_DATA_DIR", "GRAPHD_ADDR", "GRAPHD_AUTH", "GRAPHD_ADMIN_TOKEN", "DATABASE_URL"}

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

// command runs another graphd command (import, token) with the server's environment, so it uses the server's
// database, and returns its standard output.
func (s *graphdServer) command(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = s.env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("graphd %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// token gets a bearer token from graphd's own issuer with `graphd token`, as a user of graphd would, valid
// for ttl.
func (s *graphdServer) token(ctx context.Context, scopes string, ttl time.Duration) (string, error) {
	out, err := s.command(ctx, "token", "--scopes", scopes, "--ttl", ttl.String())
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(out)
	if strings.Count(tok, ".") != 2 || strings.ContainsAny(tok, " \n") {
		return "", fmt.Errorf("graphd token printed %q, not a JWT", tok)
	}
	return tok, nil
}

// logSink takes graphd's output through a pipe, as a container runtime or journald would, and keeps it in the
// log file without the access log's lines, which it counts: at GRAPHD_LOG_LEVEL=info a run writes millions of
// them.
type logSink struct {
	mu          sync.Mutex
	file        *os.File
	partial     []byte // a line not yet ended
	accessLines int64
}

// accessLine marks the access log's lines in graphd's JSON log (httpapi's withAccessLog).
var accessLine = []byte(`"level":"INFO","msg":"request"`)

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			l.partial = append(l.partial, p...)
			break
		}
		line := p[:i+1]
		if len(l.partial) > 0 {
			line = append(l.partial, line...)
			l.partial = l.partial[:0]
		}
		p = p[i+1:]
		if bytes.Contains(line, accessLine) {
			l.accessLines++
			continue
		}
		_, _ = l.file.Write(line)
	}
	return n, nil
}

func (l *logSink) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		_, _ = l.file.Write(append(l.partial, '\n'))
	}
	l.file.Close()
}

// accessLogLines is how many access-log lines graphd has written so far.
func (s *graphdServer) accessLogLines() int64 {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return s.log.accessLines
}

// logTail returns the end of graphd's log, without the access log.
func (s *graphdServer) logTail() string {
	data, _ := os.ReadFile(s.logPath)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// errorLines counts graphd's log lines at level ERROR and returns the first one (the log file, which the access
// log's lines never reach, stays small).
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

// connString is a pgx/libpq connection string to graphd's database over the cluster's unix socket, for the
// bench's own sessions.
func (c cluster) connString() string { return c.connStringAs(benchAppName) }

// connStringAs is connString for sessions named app in pg_stat_activity.
func (c cluster) connStringAs(app string) string {
	return fmt.Sprintf("host=%s port=%s user=graphd dbname=graphd sslmode=disable application_name=%s", c.sockDir, c.port, app)
}

// benchAppName marks the bench's own database sessions, so the activity sampler leaves them out.
const benchAppName = "graphd-bench"
