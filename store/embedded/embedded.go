// Package embedded runs graphd's default database: a private PostgreSQL cluster under graphd's data directory,
// created with the PostgreSQL binaries found on the machine and run as a child process that listens only on a
// unix socket.
//
// Layout of the data directory:
//
//	DataDir/pgdata        the cluster (created by initdb on first start)
//	DataDir/postgres.log  initdb's and the server's output, appended
//	DataDir/run/          the unix socket, unless that path is too long (see socketDirFor)
//	DataDir/init.lock     held while a process creates or starts the cluster
//	DataDir/serve.lock    held by `graphd serve` for its lifetime (see LockServe)
//
// The cluster trusts every local connection (initdb --auth=trust). That is safe only because the socket is
// reachable by nobody but the cluster's OS user and root: the socket directory is 0700 and the socket itself
// is created with unix_socket_permissions=0700, and the server does not listen on TCP.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// port only names the socket file (.s.PGSQL.5432); the server listens on no TCP port, and the socket
	// directory is private to this data directory, so the default port cannot clash with anything.
	port = 5432

	superuser = "graphd"
	database  = "graphd"

	startTimeout = 60 * time.Second
	pollInterval = 50 * time.Millisecond

	// killGrace is how long Stop waits after an immediate shutdown request before it kills the process group.
	killGrace = 5 * time.Second
)

// ErrNoBinaries is returned (wrapped) by Start when no PostgreSQL server binaries are found.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries (initdb, postgres) found: " +
	"install PostgreSQL (e.g. `apt-get install postgresql`), " +
	"or set DATABASE_URL to use an existing server, " +
	"or run `docker compose up` to start one")

// ErrInUse is returned (wrapped) by LockServe when another `graphd serve` owns the data directory.
var ErrInUse = errors.New("data directory is in use by another graphd serve")

// ErrNotInitialized is returned (wrapped) by Start with Config.RequireExisting when the data directory holds
// no cluster yet.
var ErrNotInitialized = errors.New("no PostgreSQL cluster has been created in the data directory")

// Config says where the cluster lives.
type Config struct {
	// DataDir is graphd's data directory; the cluster lives in DataDir/pgdata.
	DataDir string

	// BinDir holds initdb, postgres and psql. If empty, Start searches /usr/lib/postgresql/*/bin (the
	// version that created an existing cluster first, then the highest version), then `pg_config --bindir`,
	// then the directories of postgres and initdb on PATH.
	BinDir string

	// Logger receives progress messages; nil discards them.
	Logger *slog.Logger

	// NoSync makes initdb skip fsync and runs the server with fsync, synchronous_commit and full_page_writes
	// off. It makes throwaway test clusters several times faster; a machine crash can corrupt such a
	// cluster, so never set it for data that matters. It applies only when this Start creates or starts
	// the server, not when it attaches to a running one.
	NoSync bool

	// RequireExisting makes Start use only a cluster that already exists: it attaches to the running server
	// or starts the existing cluster, and fails with ErrNotInitialized instead of running initdb (and
	// creates nothing, not even DataDir). Processes that only borrow the database, such as graphd's CLI
	// commands, set it so that a wrong data directory is an error rather than a new, empty cluster.
	RequireExisting bool

	// MaxConnections sets the server's max_connections when this Start starts it (0: PostgreSQL's default of
	// 100). graphd serve sizes it to its pool plus room for the commands that borrow the database.
	MaxConnections int
}

// Cluster is a running cluster, either started by this process (Owned) or attached to.
type Cluster struct {
	sockDir string
	port    int
	owned   bool
	logger  *slog.Logger

	// The rest is set only for an owned cluster.
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the postmaster has exited and waitErr is set
	waitErr error

	stopOnce sync.Once
	stopErr  error
}

// URL returns a libpq/pgx connection string for database graphd.
func (c *Cluster) URL() string { return c.connString(database) }

// AdminURL returns a connection string for the maintenance database postgres, for statements that cannot
// run while connected to graphd (CREATE DATABASE … TEMPLATE graphd, DROP DATABASE).
func (c *Cluster) AdminURL() string { return c.connString("postgres") }

func (c *Cluster) connString(dbname string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable",
		quoteConnValue(c.sockDir), c.port, superuser, dbname)
}

// quoteConnValue quotes a keyword/value connection string value as libpq (and pgx) parse it.
func quoteConnValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n\r\v\f'\\") {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// Owned reports whether this process started the server, and so whether Stop stops it.
func (c *Cluster) Owned() bool { return c.owned }

// Done is closed when a server this process started has exited, whether through Stop or not; a caller that
// keeps running on the cluster can select on it to notice a crash. For an attached cluster it returns nil,
// which blocks forever: this process cannot observe that server's exit.
func (c *Cluster) Done() <-chan struct{} {
	if !c.owned {
		return nil
	}
	return c.exited
}

// Stop stops the server if this process started it, and does nothing for an attached one. It asks for a
// fast shutdown (SIGINT: roll back open transactions, checkpoint, exit) and waits until ctx is done; then it
// asks for an immediate shutdown (SIGQUIT: exit without a checkpoint, recovered on the next start), and
// finally kills the server's process group. Stop is idempotent: later calls return the first call's result.
func (c *Cluster) Stop(ctx context.Context) error {
	if !c.owned {
		return nil
	}
	c.stopOnce.Do(func() { c.stopErr = c.stop(ctx) })
	return c.stopErr
}

func (c *Cluster) stop(ctx context.Context) error {
	select {
	case <-c.exited:
		if c.waitErr != nil {
			return fmt.Errorf("embedded: postgres had already exited: %w", c.waitErr)
		}
		return nil
	default:
	}
	pid := c.cmd.Process.Pid
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("embedded: asking postgres (pid %d) to shut down: %w", pid, err)
	}
	select {
	case <-c.exited:
		if c.waitErr != nil {
			return fmt.Errorf("embedded: postgres (pid %d) shut down with an error: %w", pid, c.waitErr)
		}
		c.logger.Info("embedded postgres stopped", "pid", pid)
		return nil
	case <-ctx.Done():
	}

	c.logger.Warn("embedded postgres did not finish a fast shutdown in time; requesting an immediate shutdown", "pid", pid)
	_ = c.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-c.exited:
		return fmt.Errorf("embedded: postgres (pid %d) needed an immediate shutdown: %w", pid, ctx.Err())
	case <-time.After(killGrace):
	}
	// The whole group, so that no backend outlives the postmaster holding shared memory; Setpgid made the
	// postmaster the group leader.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-c.exited
	return fmt.Errorf("embedded: killed postgres (pid %d) after it ignored shutdown requests: %w", pid, ctx.Err())
}

// Start makes sure the cluster under cfg.DataDir exists and runs, and returns it.
//
// On first start it creates the cluster with initdb (UTF8, locale C.UTF-8, superuser graphd, trust
// authentication) and then the database graphd. If a server already runs on the cluster it attaches to it
// (Owned is false); else it starts one as a child process (Owned is true) and waits until it accepts
// connections. Processes starting the same cluster at once are serialized by DataDir/init.lock; the later
// ones attach to the server the first one started.
//
// As root, the server and initdb run as the postgres OS user, because PostgreSQL refuses to run as root.
// That user then needs to traverse every parent directory of DataDir; Start makes DataDir itself
// traversable (0711) but refuses to change permissions of directories above it.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	s, err := newSite(ctx, cfg)
	if err != nil {
		return nil, err
	}
	// Before prepareDataDir, which would create or change the directory.
	if s.requireExisting && !HasCluster(s.dataDir) {
		return nil, fmt.Errorf("%w: %s holds no %s", ErrNotInitialized, s.dataDir, filepath.Join("pgdata", "PG_VERSION"))
	}
	if err := prepareDataDir(s.dataDir, s.acct); err != nil {
		return nil, err
	}

	unlock, err := lockWait(ctx, filepath.Join(s.dataDir, "init.lock"), s.logger)
	if err != nil {
		return nil, err
	}
	defer unlock()

	// Checked under init.lock: a first start that is running initdb right now holds it, and its cluster
	// exists once the lock is free.
	if s.requireExisting {
		if err := s.checkInitialized(); err != nil {
			return nil, err
		}
	} else if err := s.ensureInitialized(ctx); err != nil {
		return nil, err
	}
	c, err := s.attach(ctx, 0)
	if err != nil {
		return nil, err
	}
	if c == nil {
		if c, err = s.startServer(ctx); err != nil {
			return nil, err
		}
	}
	if err := s.ensureDatabase(ctx, c); err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return nil, errors.Join(err, c.Stop(stopCtx))
	}
	return c, nil
}

func newSite(ctx context.Context, cfg Config) (*site, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("embedded: Config.DataDir is empty")
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("embedded: data directory: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &site{
		dataDir: dataDir,
		pgdata:  filepath.Join(dataDir, "pgdata"),
		logPath: filepath.Join(dataDir, "postgres.log"),
		logger:  logger,
		noSync:  cfg.NoSync,
		maxConn: cfg.MaxConnections,

		requireExisting: cfg.RequireExisting,
	}
	if s.bins, err = findBinaries(ctx, cfg.BinDir, s.pgdata); err != nil {
		return nil, err
	}
	if s.acct, err = serverAccount(); err != nil {
		return nil, err
	}
	return s, nil
}

// site is one Start call's view of a data directory.
type site struct {
	dataDir string
	pgdata  string
	logPath string
	bins    binaries
	acct    *account // nil: run postgres as the current user
	logger  *slog.Logger
	noSync  bool
	maxConn int

	requireExisting bool
}

// HasCluster reports whether dataDir holds a cluster, or one that initdb is creating right now (which Start
// with RequireExisting waits for). It creates and changes nothing.
func HasCluster(dataDir string) bool {
	pgdata := filepath.Join(dataDir, "pgdata")
	for _, path := range []string{filepath.Join(pgdata, "PG_VERSION"), pgdata + ".initdb"} {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			return true
		}
	}
	return false
}

// checkInitialized fails with ErrNotInitialized unless the cluster exists.
func (s *site) checkInitialized() error {
	_, err := os.Stat(filepath.Join(s.pgdata, "PG_VERSION"))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w: %s has no PG_VERSION", ErrNotInitialized, s.pgdata)
	case err != nil:
		return fmt.Errorf("embedded: checking for a cluster: %w", err)
	}
	return nil
}

// ensureInitialized runs initdb if the cluster does not exist yet. initdb writes into a scratch directory
// that is renamed into place only when it succeeded, so a crash half-way leaves no cluster that looks
// complete; the next start removes the scratch directory and begins again. The caller holds init.lock.
func (s *site) ensureInitialized(ctx context.Context) error {
	_, err := os.Stat(filepath.Join(s.pgdata, "PG_VERSION"))
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("embedded: checking for a cluster: %w", err)
	}
	if _, err := os.Stat(s.pgdata); err == nil {
		return fmt.Errorf("embedded: %s exists but is not a PostgreSQL data directory (no PG_VERSION); move it away to have graphd create a new cluster", s.pgdata)
	}

	scratch := s.pgdata + ".initdb"
	if err := os.RemoveAll(scratch); err != nil {
		return fmt.Errorf("embedded: removing an interrupted initdb's directory: %w", err)
	}
	// Created here rather than by initdb because, as root, DataDir is not writable by the postgres user.
	if err := s.acct.prepareDir(scratch); err != nil {
		return err
	}
	s.logger.Info("creating embedded PostgreSQL cluster", "pgdata", s.pgdata, "bindir", s.bins.dir)
	args := []string{"-D", scratch, "--encoding=UTF8", "--locale=C.UTF-8", "--auth=trust", "-U", superuser}
	if s.noSync {
		args = append(args, "--no-sync")
	}
	cmd := exec.CommandContext(ctx, s.bins.initdb, args...)
	logf, offset, err := s.openLog()
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	s.prepareCmd(cmd)
	// initdb runs postgres in bootstrap mode as its own children; cancelling must not leave those behind.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("embedded: initdb interrupted (the next start begins again): %w", ctx.Err())
		}
		return fmt.Errorf("embedded: initdb: %w; end of %s:\n%s", err, s.logPath, s.logTail(offset))
	}
	if err := os.Rename(scratch, s.pgdata); err != nil {
		return fmt.Errorf("embedded: moving the new cluster into place: %w", err)
	}
	return syncDir(s.dataDir)
}

// prepareCmd sets what every initdb and postgres process needs: the server's OS user, a working directory
// that user can enter, an environment without PG* variables that would redirect or reconfigure it, and its
// own process group so that a Ctrl-C in graphd's terminal reaches graphd only, which then shuts the server
// down in order.
func (s *site) prepareCmd(cmd *exec.Cmd) {
	cmd.Dir = "/"
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: s.acct.credential()}
}

// cleanEnv returns the environment without PG* variables (PGDATA, PGHOST, PGOPTIONS, …).
func cleanEnv() []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PG") {
			out = append(out, kv)
		}
	}
	return out
}

// attach returns the server running on the cluster, or nil if none answers. patience is how long to wait
// for a server to appear; a server that answers but is still starting (or recovering) is waited for up to
// startTimeout regardless.
func (s *site) attach(ctx context.Context, patience time.Duration) (*Cluster, error) {
	begin := time.Now()
	for {
		state := probeNoResponse
		pf, ok := readPIDFile(s.pgdata)
		switch {
		case ok && pf.mayBeReady():
			state = probe(ctx, pf.sockDir, pf.port)
		case ok && processAlive(pf.pid):
			state = probeRejecting
		}
		if state == probeReady {
			s.logger.Info("attached to running embedded PostgreSQL", "pid", pf.pid, "socket_dir", pf.sockDir)
			return &Cluster{sockDir: pf.sockDir, port: pf.port, logger: s.logger}, nil
		}
		waited := time.Since(begin)
		if state != probeRejecting && waited >= patience {
			return nil, nil
		}
		if waited >= startTimeout {
			return nil, fmt.Errorf("embedded: postgres (pid %d) on %s did not accept connections within %v", pf.pid, s.pgdata, startTimeout)
		}
		if err := sleep(ctx, pollInterval); err != nil {
			return nil, fmt.Errorf("embedded: waiting for postgres: %w", err)
		}
	}
}

// startServer starts postgres as a child process and waits until it accepts connections.
func (s *site) startServer(ctx context.Context) (*Cluster, error) {
	sockDir := socketDirFor(s.dataDir)
	if err := s.acct.prepareSocketDir(sockDir); err != nil {
		return nil, err
	}
	logf, offset, err := s.openLog()
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor

	args := []string{
		"-D", s.pgdata,
		"-k", sockDir,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=",
		"-c", "unix_socket_permissions=0700",
	}
	if s.noSync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	if s.maxConn > 0 {
		args = append(args, "-c", "max_connections="+strconv.Itoa(s.maxConn))
	}
	// Not CommandContext: ctx bounds the start, not the server's life.
	cmd := exec.Command(s.bins.postgres, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	s.prepareCmd(cmd)
	// If graphd dies without stopping the server (SIGKILL, a panic), the kernel sends the server SIGINT, a
	// fast shutdown, instead of leaving it running. The kernel ties this to the thread that forked the
	// child, not to the process, and the Go runtime may end threads; spawn pins the fork to a thread that
	// lives exactly as long as the server.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGINT

	c := &Cluster{
		sockDir: sockDir,
		port:    port,
		owned:   true,
		logger:  s.logger,
		cmd:     cmd,
		exited:  make(chan struct{}),
	}
	if err := c.spawn(); err != nil {
		return nil, fmt.Errorf("embedded: starting postgres: %w", err)
	}
	s.logger.Info("starting embedded PostgreSQL", "pid", cmd.Process.Pid, "pgdata", s.pgdata, "socket_dir", sockDir, "log", s.logPath)

	timeout := time.NewTimer(startTimeout)
	defer timeout.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	abandon := func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = c.Stop(stopCtx)
	}
	for {
		// Checking the pid, not only the socket: a server that another process started on this cluster
		// answers on the same socket while ours is failing to start.
		if pf, ok := readPIDFile(s.pgdata); ok && pf.pid == cmd.Process.Pid && pf.mayBeReady() && probe(ctx, pf.sockDir, pf.port) == probeReady {
			s.logger.Info("embedded PostgreSQL accepts connections", "pid", pf.pid)
			return c, nil
		}
		select {
		case <-c.exited:
			tail := s.logTail(offset)
			// Another process (one that does not take init.lock, or a manual pg_ctl) started a server on
			// this cluster first: postgres's own postmaster.pid lock made ours give up, so use theirs.
			if lockConflict(tail) || otherPostmasterAlive(s.pgdata, cmd.Process.Pid) {
				s.logger.Info("another postgres owns the cluster; attaching to it", "pgdata", s.pgdata)
				other, err := s.attach(ctx, startTimeout)
				if err != nil {
					return nil, err
				}
				if other != nil {
					return other, nil
				}
			}
			return nil, fmt.Errorf("embedded: postgres exited during startup (%v); end of %s:\n%s", c.waitErr, s.logPath, tail)
		case <-ctx.Done():
			abandon()
			return nil, fmt.Errorf("embedded: waiting for postgres to start: %w", ctx.Err())
		case <-timeout.C:
			abandon()
			return nil, fmt.Errorf("embedded: postgres did not accept connections within %v; end of %s:\n%s", startTimeout, s.logPath, s.logTail(offset))
		case <-tick.C:
		}
	}
}

// spawn starts c.cmd from a goroutine locked to its OS thread and keeps that goroutine (and so the thread)
// in cmd.Wait until the server exits. Pdeathsig fires when the forking thread exits; the runtime ends a
// thread only when a goroutine locked to it returns, which here happens only after the server is gone. The
// cost is one OS thread per owned cluster.
func (c *Cluster) spawn() error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := c.cmd.Start(); err != nil {
			runtime.UnlockOSThread()
			started <- err
			return
		}
		started <- nil
		c.waitErr = c.cmd.Wait()
		close(c.exited)
		// Deliberately still locked: returning ends the thread, and the server it could signal is gone.
	}()
	return <-started
}

func lockConflict(logTail string) bool {
	return strings.Contains(logTail, `lock file "postmaster.pid" already exists`) ||
		strings.Contains(logTail, fmt.Sprintf(`.s.PGSQL.%d.lock" already exists`, port))
}

// otherPostmasterAlive reports whether postmaster.pid names a live process other than ours.
func otherPostmasterAlive(pgdata string, ours int) bool {
	pf, ok := readPIDFile(pgdata)
	return ok && pf.pid != ours && processAlive(pf.pid)
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ensureDatabase creates database graphd if it is missing. It runs on every start, not only after initdb,
// so that a first start that crashed between initdb and CREATE DATABASE heals on the next one.
func (s *site) ensureDatabase(ctx context.Context, c *Cluster) error {
	out, err := s.psql(ctx, c, "select 1 from pg_database where datname = '"+database+"'")
	if err != nil {
		return err
	}
	if strings.TrimSpace(out) == "1" {
		return nil
	}
	s.logger.Info("creating database", "database", database)
	if _, err := s.psql(ctx, c, "create database "+database); err != nil {
		// Someone else created it between our check and our create; that is the outcome we wanted.
		if strings.Contains(err.Error(), "already exists") {
			return nil
		}
		return err
	}
	return nil
}

// psql runs one statement in the postgres database and returns its unaligned, tuples-only output.
func (s *site) psql(ctx context.Context, c *Cluster, sql string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bins.psql,
		"-X", "-w", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-d", c.AdminURL(), "-c", sql)
	cmd.Env = cleanEnv()
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return "", fmt.Errorf("embedded: psql %q: %w: %s", sql, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// openLog opens postgres.log for appending and returns its size before this run, so that errors can quote
// only what this run wrote.
func (s *site) openLog() (*os.File, int64, error) {
	f, err := os.OpenFile(s.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("embedded: opening postgres log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("embedded: opening postgres log: %w", err)
	}
	return f, fi.Size(), nil
}

// logTail returns the last few lines written to postgres.log since offset.
func (s *site) logTail(offset int64) string {
	const maxTail = 4 << 10
	f, err := os.Open(s.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", s.logPath, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", s.logPath, err)
	}
	start := max(offset, fi.Size()-maxTail)
	buf := make([]byte, fi.Size()-start)
	n, _ := f.ReadAt(buf, start)
	tail := string(buf[:n])
	if start > offset {
		// Drop the partial first line.
		if i := strings.IndexByte(tail, '\n'); i >= 0 {
			tail = tail[i+1:]
		}
	}
	tail = strings.TrimRight(tail, "\n")
	if tail == "" {
		return "(nothing was logged)"
	}
	return tail
}

// pidFile is what postmaster.pid says about a server: its first line is the pid, the fourth the port,
// the fifth the first unix socket directory, the eighth (since PostgreSQL 10) "starting", "ready" or
// "stopping".
type pidFile struct {
	pid     int
	port    int
	sockDir string
	status  string
}

// mayBeReady reports whether probing the server is worthwhile. Probing one that is still starting works but
// makes it log a FATAL line per attempt; pg_ctl waits for "ready" for the same reason.
func (pf pidFile) mayBeReady() bool { return pf.status == "" || pf.status == "ready" }

// readPIDFile reads pgdata/postmaster.pid; ok is false if there is none or it is not complete yet (the
// server fills it in while it starts).
func readPIDFile(pgdata string) (pf pidFile, ok bool) {
	b, err := os.ReadFile(filepath.Join(pgdata, "postmaster.pid"))
	if err != nil {
		return pidFile{}, false
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 5 {
		return pidFile{}, false
	}
	pf.pid, err = strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil {
		return pidFile{}, false
	}
	pf.port, err = strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil {
		return pidFile{}, false
	}
	pf.sockDir = strings.TrimSpace(lines[4])
	if pf.sockDir == "" {
		return pidFile{}, false
	}
	if len(lines) >= 8 {
		pf.status = strings.TrimSpace(lines[7])
	}
	return pf, true
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
