package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/graphd/graphd/store/embedded"
)

// linReplicaEnv makes this test binary `graphd serve` instead of running tests, so that the linearizability
// test can run graphd replicas as processes of their own and kill them with SIGKILL.
const linReplicaEnv = "GRAPHD_TEST_LINEARIZABILITY_REPLICA"

func init() {
	if os.Getenv(linReplicaEnv) == "1" {
		os.Exit(linServeReplica())
	}
}

// linServeReplica is main for a replica: graphd serve with the process's environment, until SIGTERM, or until
// the test that started it has gone (so that no replica outlives a crashed or timed-out test binary).
func linServeReplica() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	parent := os.Getppid()
	go func() {
		for ctx.Err() == nil {
			time.Sleep(200 * time.Millisecond)
			if os.Getppid() != parent {
				stop()
			}
		}
	}()
	if err := run(ctx, []string{"serve"}, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "graphd replica: %v\n", err)
		return 1
	}
	return 0
}

// linReplica is a graphd process on a fixed address; kill and start again keep the address.
type linReplica struct {
	name string
	addr string
	env  []string
	logs syncBuffer // the stderr of every incarnation

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	killing atomic.Bool
	died    string // how an incarnation exited that nobody stopped
}

func newLinReplica(tb testing.TB, name, databaseURL string) *linReplica {
	tb.Helper()
	r := &linReplica{name: name, addr: linStableAddr(tb)}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GRAPHD_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			r.env = append(r.env, kv)
		}
	}
	r.env = append(r.env, linReplicaEnv+"=1", "DATABASE_URL="+databaseURL, "GRAPHD_ADDR="+r.addr,
		"GRAPHD_AUTH=none", "GRAPHD_LOG_LEVEL=error", "GRAPHD_DB_MAX_CONNS=4")
	return r
}

// linStableAddr is a free loopback address whose port is below the ephemeral range: while a killed replica is
// down, the kernel may hand a port of that range to any outgoing connection on the machine, and the replica
// could not listen on it again until that connection ends.
func linStableAddr(tb testing.TB) string {
	tb.Helper()
	lo := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				lo = n
			}
		}
	}
	if lo < 2048 {
		return freeAddr(tb)
	}
	base := max(1024, lo-10000)
	for range 100 {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(base+rand.IntN(lo-base)))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr
		}
	}
	return freeAddr(tb)
}

func (r *linReplica) base() string { return "http://" + r.addr }

// start starts an incarnation and waits until it is ready.
func (r *linReplica) start(ctx context.Context) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe)
	cmd.Env = r.env
	cmd.Stdout = &r.logs
	cmd.Stderr = &r.logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", r.name, err)
	}
	exited := make(chan struct{})
	r.mu.Lock()
	r.cmd, r.exited = cmd, exited
	r.killing.Store(false)
	r.mu.Unlock()
	go func() {
		err := cmd.Wait()
		if !r.killing.Load() {
			r.mu.Lock()
			r.died = fmt.Sprintf("%s (pid %d) exited by itself: %v", r.name, cmd.Process.Pid, err)
			r.mu.Unlock()
		}
		close(exited)
	}()
	return r.waitReady(ctx, exited, 90*time.Second)
}

func (r *linReplica) waitReady(ctx context.Context, exited chan struct{}, patience time.Duration) error {
	deadline := time.Now().Add(patience)
	for {
		if linReady(ctx, r.base()) {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited before it was ready:\n%s", r.name, r.logs.String())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s:\n%s", r.name, patience, r.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitServing waits until the replica is ready, or is down: requests refused at connect cost the checker
// nothing, so a client need not wait for a replica's restart.
func (r *linReplica) waitServing(ctx context.Context) {
	for ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base()+"/readyz", nil)
		if err != nil {
			return
		}
		res, err := linProbeClient.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		} else if errors.Is(err, syscall.ECONNREFUSED) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits until the process is gone.
func (r *linReplica) kill() {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	r.killing.Store(true)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// stop shuts the replica down with SIGTERM, as at the end of a test; SIGKILL if it takes too long.
func (r *linReplica) stop() {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	r.killing.Store(true)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	}
}

// check reports what the replica's processes did wrong: exiting unasked, or a data race found by -race.
func (r *linReplica) check(tb testing.TB) {
	tb.Helper()
	r.mu.Lock()
	died := r.died
	r.mu.Unlock()
	if died != "" {
		tb.Errorf("%s\n%s", died, r.logs.String())
	}
	if logs := r.logs.String(); strings.Contains(logs, "WARNING: DATA RACE") {
		tb.Errorf("%s: the race detector reported a data race:\n%s", r.name, logs)
	}
}

var linProbeClient = &http.Client{Timeout: 5 * time.Second}

// linReady reports whether the graphd at base answers /readyz with 200 (its database answers).
func linReady(ctx context.Context, base string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	if err != nil {
		return false
	}
	res, err := linProbeClient.Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// linDB is an embedded PostgreSQL cluster the test restarts in place.
type linDB struct {
	dataDir string
	mu      sync.Mutex
	cluster *embedded.Cluster
}

func (d *linDB) url() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cluster.URL()
}

// restart stops the server, with a fast shutdown (roll back, checkpoint, exit) or an immediate one (exit at once,
// crash recovery at the next start), and starts it again on the same data directory.
func (d *linDB) restart(ctx context.Context, immediate bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	stopCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	if immediate {
		cancel() // Stop escalates from SIGINT to SIGQUIT at once when its context is done
	}
	err := d.cluster.Stop(stopCtx)
	cancel()
	if err != nil && !immediate {
		return fmt.Errorf("stop PostgreSQL: %w", err)
	}
	time.Sleep(200 * time.Millisecond)
	c, err := embedded.Start(ctx, embedded.Config{DataDir: d.dataDir})
	if err != nil {
		return fmt.Errorf("start PostgreSQL again: %w", err)
	}
	d.cluster = c
	return nil
}

func (d *linDB) stop(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cluster == nil {
		return errors.New("no cluster")
	}
	return d.cluster.Stop(ctx)
}
