// Command graphd-bench measures graphd against the limit its database sets: PATCH with random ids at several
// connection counts, next to pgbench running graphd's own UPDATE on the same database; PATCH again at
// 1,000,000 rows; and, when the build serves them, collection queries at 1,000,000 rows. `make bench` runs it;
// docs/performance.md explains the method and quotes its figures.
//
// It starts `graphd serve` (the binary given by -graphd) on a throwaway embedded PostgreSQL cluster with
// default settings, loads the rows, drives the load from this process, and stops graphd at the end.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == floorCommand {
		if err := floorMain(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "graphd-bench %s: %v\n", floorCommand, err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // the flag package has printed the usage
		}
		fmt.Fprintf(os.Stderr, "graphd-bench: %v\n", err)
		stop()
		os.Exit(1)
	}
}

// options are the bench's flags.
type options struct {
	graphd         string
	pgbench        string
	rows           int
	conns          []int
	pgbenchClients []int
	warmup         time.Duration
	window         time.Duration
	pairs          int  // rounds at ratioConns
	authOff        bool // a PATCH window with GRAPHD_AUTH=none in each round
	admin          bool // a PATCH window with the admin API on in each round
	floor          bool // in each round, the same PATCH and GET on the floors (floor.go)
	batch          bool
	batchConns     []int
	batchPairs     int
	baseline       string // another graphd binary to compare PATCH throughput with
	baselineConns  []int
	baselinePairs  int
	baselinePool   int
	scale          bool
	scaleRows      int
	profile        bool
	repeat         int
	keep           bool
	timeout        time.Duration
	env            envList // extra graphd settings
}

// envList is the repeatable -env flag: graphd settings beyond the ones the bench fixes.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

// runtimeEnv are the Go runtime's settings -env passes to graphd (the bench's own process keeps its own).
var runtimeEnv = []string{"GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG"}

func (e *envList) Set(kv string) error {
	name, _, ok := strings.Cut(kv, "=")
	if !ok || !strings.HasPrefix(name, "GRAPHD_") && !slices.Contains(runtimeEnv, name) {
		return fmt.Errorf("%q: want GRAPHD_NAME=value or one of %s", kv, strings.Join(runtimeEnv, ", "))
	}
	if slices.Contains(fixedEnv, name) {
		return fmt.Errorf("%s is set by the bench", name)
	}
	*e = append(*e, kv)
	return nil
}

// The targets of issue 5, item 8, and issue 12, item 4.
const (
	ratioTarget    = 0.6                    // PATCH requests/s ÷ pgbench TPS, at ratioConns connections
	ratioConns     = 32                     //
	cpuTarget      = 150 * time.Microsecond // graphd's CPU per PATCH at ratioConns connections
	getCPUTarget   = 80 * time.Microsecond  // graphd's CPU per GET by id at ratioConns connections
	p99Target      = 10 * time.Millisecond  // at p99Conns connections
	p99Conns       = 8                      //
	rssTarget      = 64 << 10               // KiB
	flatTarget     = 0.85                   // graphd's share of PATCH throughput at scaleRows ÷ at rows (see flatness), allowing for noise
	minPairs       = 3                      // issue 12: the median of at least three alternating pairs
	minBaseline    = 5                      // issue 9: at least five alternating old/new pairs
	tokenScopes    = "DeviceManagementConfiguration.ReadWrite.All"
	defaultTimeout = 30 * time.Minute
)

// defaultPoolSize mirrors graphd serve's default pool, max(16, 4 × CPUs) (cmd/graphd/config.go), for the
// baseline comparison, which must give both binaries the same pool.
func defaultPoolSize() int { return max(16, 4*runtime.GOMAXPROCS(0)) }

func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("graphd-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var conns, clients, batchConns, baselineConns string
	fs.StringVar(&o.graphd, "graphd", "bin/graphd", "the graphd binary to run (make bench builds it)")
	fs.StringVar(&o.pgbench, "pgbench", "", "the pgbench binary (default: the cluster's version under /usr/lib/postgresql)")
	fs.IntVar(&o.rows, "rows", 10_000, "rows for the PATCH levels")
	fs.StringVar(&conns, "conns", "1,8,32,64", "PATCH concurrency levels (connections, one request in flight each)")
	fs.StringVar(&clients, "pgbench-clients", "8", "pgbench client counts besides the rounds' 32 (graphd's own session count is added)")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each window")
	fs.DurationVar(&o.window, "duration", 10*time.Second, "measured window of each level, round window and pgbench run (whole seconds)")
	fs.IntVar(&o.pairs, "pairs", minPairs, "rounds of alternating windows at 32 connections (PATCH, pgbench UPDATE, PATCH auth off, PATCH admin on, GET, pgbench SELECT, the floors); the targets take the medians")
	fs.BoolVar(&o.authOff, "auth-off", true, "in each round, PATCH on a second graphd with GRAPHD_AUTH=none on the same database")
	fs.BoolVar(&o.admin, "admin", true, "in each round, PATCH on a second graphd with the admin API (and its journal) on")
	fs.BoolVar(&o.floor, "floor", true, "in each round, PATCH and GET on minimal Go servers (net/http, and raw HTTP/1.1) with pgx: the floor the CPU targets compare with")
	fs.BoolVar(&o.batch, "batch", true, "compare 20-step $batch requests of PATCHes with single PATCHes")
	fs.StringVar(&batchConns, "batch-conns", "8,32", "connection counts of the $batch comparison")
	fs.IntVar(&o.batchPairs, "batch-pairs", 2, "alternating single/batch pairs of windows per connection count")
	fs.StringVar(&o.baseline, "baseline", getenv("BENCH_BASELINE"), "another graphd binary (the hard-wired path before the entity model) to compare PATCH throughput with; both run on clusters of their own with GRAPHD_AUTH=none (default $BENCH_BASELINE)")
	fs.StringVar(&baselineConns, "baseline-conns", "8,32", "connection counts of the baseline comparison")
	fs.IntVar(&o.baselinePairs, "baseline-pairs", minBaseline, "alternating old/new pairs of windows per connection count")
	fs.IntVar(&o.baselinePool, "baseline-pool", 0, "GRAPHD_DB_MAX_CONNS of both sides of the baseline comparison (default: -env's, else graphd serve's default, max(16, 4 x CPUs))")
	fs.BoolVar(&o.scale, "scale", getenv("BENCH_SCALE") != "0", "grow the table to -scale-rows, rerun PATCH and run the collection queries (BENCH_SCALE=0 turns the default off)")
	fs.IntVar(&o.scaleRows, "scale-rows", 1_000_000, "rows for the scale check")
	fs.BoolVar(&o.profile, "profile", true, "profile one extra PATCH run with perf record -a -g, if perf is installed")
	fs.IntVar(&o.repeat, "repeat", 5, "timed repetitions of each collection query (the median is reported)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (clusters, graphd logs, profile)")
	fs.DurationVar(&o.timeout, "timeout", defaultTimeout, "give up (and stop graphd) after this long")
	fs.Var(&o.env, "env", "a graphd setting, e.g. -env GRAPHD_DB_MAX_CONNS=32 (repeatable; the caller's GRAPHD_* variables are not passed on)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	for _, l := range []struct {
		name string
		text string
		dst  *[]int
	}{{"-conns", conns, &o.conns}, {"-pgbench-clients", clients, &o.pgbenchClients}, {"-batch-conns", batchConns, &o.batchConns}, {"-baseline-conns", baselineConns, &o.baselineConns}} {
		if *l.dst, err = intList(l.text); err != nil {
			return o, fmt.Errorf("%s: %w", l.name, err)
		}
	}
	switch {
	case o.rows < batchSteps:
		return o, fmt.Errorf("-rows must be at least %d", batchSteps)
	case o.scaleRows <= o.rows:
		return o, errors.New("-scale-rows must exceed -rows")
	case o.window < time.Second || o.window%time.Second != 0:
		return o, errors.New("-duration must be whole seconds (pgbench -T takes seconds)")
	case o.repeat < 1:
		return o, errors.New("-repeat must be positive")
	case o.pairs < minPairs:
		return o, fmt.Errorf("-pairs must be at least %d (issue 12 asks for the median of at least %d alternating pairs)", minPairs, minPairs)
	case o.batchPairs < 1:
		return o, errors.New("-batch-pairs must be positive")
	case o.baselinePairs < minBaseline:
		return o, fmt.Errorf("-baseline-pairs must be at least %d (issue 9 asks for at least %d alternating old/new pairs)", minBaseline, minBaseline)
	case o.baselinePool < 0:
		return o, errors.New("-baseline-pool must be positive")
	}
	if o.baselinePool == 0 {
		o.baselinePool = defaultPoolSize()
		for _, kv := range o.env {
			if v, ok := strings.CutPrefix(kv, "GRAPHD_DB_MAX_CONNS="); ok {
				if o.baselinePool, err = strconv.Atoi(v); err != nil || o.baselinePool < 1 {
					return o, fmt.Errorf("-env %s: want a positive number", kv)
				}
			}
		}
	}
	if o.graphd, err = executable("-graphd", o.graphd, "make bench builds bin/graphd first"); err != nil {
		return o, err
	}
	if o.baseline != "" {
		if o.baseline, err = executable("-baseline", o.baseline, "build it from the old commit: go build -o PATH ./cmd/graphd"); err != nil {
			return o, err
		}
	}
	return o, nil
}

// executable makes path absolute and checks that it is there.
func executable(flagName, path, hint string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("%s: %w (%s)", flagName, err, hint)
	}
	return abs, nil
}

func intList(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a list of positive integers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	opt, err := parseOptions(args, getenv, stderr)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "graphd-bench-")
	if err != nil {
		return err
	}
	// As root the cluster runs as the postgres user, which must be able to traverse to its directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	// A machine busy enough to stretch the run this far gives figures not worth waiting for.
	ctx, cancel := context.WithTimeout(ctx, opt.timeout)
	defer cancel()
	b := &bench{opt: opt, dir: dir, out: stdout, log: stderr, began: time.Now()}
	err = b.run(ctx)
	if opt.keep || err != nil {
		fmt.Fprintf(stderr, "kept %s (graphd.log, data/, profile)\n", dir)
	} else if rmErr := os.RemoveAll(dir); rmErr != nil {
		fmt.Fprintf(stderr, "removing %s: %v\n", dir, rmErr)
	}
	return err
}

func (b *bench) run(ctx context.Context) (err error) {
	b.progress("starting %s serve (authentication on, graphd's own issuer)", b.opt.graphd)
	srv, err := startGraphd(ctx, serverSpec{name: "main", bin: b.opt.graphd, dir: b.dir, env: b.opt.env})
	if err != nil {
		return err
	}
	defer func() {
		b.progress("stopping graphd")
		err = errors.Join(err, b.stopServer(srv))
	}()
	db, err := openDatabase(ctx, srv)
	if err != nil {
		return err
	}
	defer db.close(ctx)
	b.main = &target{srv: srv, db: db}
	if err := db.conn.QueryRow(ctx, "SHOW server_version").Scan(&b.pgVer); err != nil {
		return err
	}
	if err := b.load(ctx, b.main); err != nil {
		return err
	}
	// One token for the whole run, as wrk or an SDK sends it: graphd verifies it once and then finds it in
	// its cache. It outlives the run, so it never expires in a window.
	if b.main.token, err = srv.token(ctx, tokenScopes, b.opt.timeout+time.Hour); err != nil {
		return err
	}
	if err := b.checkRequests(ctx, b.main, kindPatch, kindGet, kindBatch); err != nil {
		return err
	}
	b.pool = b.main.poolSize(ctx)
	b.printHeader(ctx)

	for _, n := range b.opt.conns {
		p, err := b.window(ctx, b.main, kindPatch, n, b.opt.rows)
		if err != nil {
			return err
		}
		b.patch = append(b.patch, p)
	}
	b.printPatch("PATCH, random ids, with the token", b.patch)
	if err := b.pgbenchLevels(ctx); err != nil {
		return err
	}
	if err := b.runRounds(ctx); err != nil {
		return err
	}
	b.printComparison()

	if b.opt.profile {
		if err := b.profileRun(ctx); err != nil {
			return err
		}
	}
	if b.opt.batch {
		if err := b.batchComparison(ctx); err != nil {
			return err
		}
	}
	if b.opt.scale {
		if err := b.scaleCheck(ctx); err != nil {
			return err
		}
	}
	if err := b.collectionQueries(ctx); err != nil {
		return err
	}
	b.finalRSS, b.finalHWM = memory(srv.pid())
	if b.opt.baseline != "" {
		if err := b.baselineComparison(ctx); err != nil {
			return err
		}
	}
	b.summarizeProfile(ctx)
	b.printSummary()
	return nil
}

// perfPath finds perf; `perf` on Debian is a wrapper that needs a version-specific binary, so try it.
func perfPath() (string, bool) {
	p, err := exec.LookPath("perf")
	if err != nil {
		return "", false
	}
	if exec.Command(p, "--version").Run() != nil {
		return "", false
	}
	return p, true
}

// profileRun profiles an extra, unmeasured PATCH run at ratioConns connections with perf, machine-wide, so
// graphd, PostgreSQL and the load generator appear side by side.
func (b *bench) profileRun(ctx context.Context) error {
	perf, ok := perfPath()
	if !ok {
		b.profileNote = "skipped: perf is not installed (Debian: apt-get install linux-perf)"
		return nil
	}
	if err := b.main.db.settle(ctx); err != nil {
		return err
	}
	b.progress("profiling a PATCH run at %d connections with perf record -a -g", ratioConns)
	file := filepath.Join(b.dir, "perf.data")
	const seconds = 5 * time.Second
	var perfErr error
	res, err := runLoad(ctx, loadSpec{addr: b.main.srv.addr, kind: kindPatch, token: b.main.token, conns: ratioConns, rows: b.opt.rows, warmup: time.Second, window: seconds + time.Second},
		func(start, _ time.Time) {
			sleepUntil(ctx, start)
			perfErr = recordProfile(ctx, perf, file, seconds)
		})
	if err != nil {
		return err
	}
	if perfErr != nil {
		b.profileNote = "failed: " + perfErr.Error()
		return nil
	}
	b.perf, b.perfData = perf, file
	b.profileNote = fmt.Sprintf("%d connections, %.0f requests/s while profiled", ratioConns, res.rps())
	return nil
}

// summarizeProfile reports the profile once every measurement is done, since perf report competes for the
// CPU; on a machine too busy to finish it in a few minutes it gives up and leaves perf.data to -keep.
func (b *bench) summarizeProfile(ctx context.Context) {
	if b.perfData == "" {
		return
	}
	b.progress("summarizing the profile")
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	p, err := summarizeProfile(ctx, b.perf, b.perfData)
	if err != nil {
		b.profileNote = "summary failed (the raw profile is perf.data, kept with -keep): " + err.Error()
		fmt.Fprintf(b.out, "\nCPU profile: %s\n", b.profileNote)
		return
	}
	b.prof = &p
	b.printProfile()
}

// scaleCheck grows the table to scaleRows and reruns PATCH, and pgbench for the same limit, at ratioConns.
func (b *bench) scaleCheck(ctx context.Context) error {
	b.progress("growing the table to %d rows (COPY)", b.opt.scaleRows)
	began := time.Now()
	const chunk = 200_000
	for from := b.opt.rows + 1; from <= b.opt.scaleRows; from += chunk {
		to := min(from+chunk-1, b.opt.scaleRows)
		if err := copyRows(ctx, b.main.db.conn, from, to); err != nil {
			return fmt.Errorf("copying rows %d-%d: %w", from, to, err)
		}
		b.progress("  %d rows", to)
	}
	b.growTime = time.Since(began)
	b.progress("VACUUM ANALYZE")
	if _, err := b.main.db.conn.Exec(ctx, "VACUUM ANALYZE "+table); err != nil {
		return err
	}
	if err := b.main.db.countRows(ctx, b.opt.scaleRows); err != nil {
		return err
	}
	p, err := b.window(ctx, b.main, kindPatch, ratioConns, b.opt.scaleRows)
	if err != nil {
		return err
	}
	b.scalePatch = &p
	if b.graphdSessions > 0 && b.graphdSessions != ratioConns {
		r, err := b.pgbenchLevel(ctx, "update", b.stmt, b.graphdSessions, b.opt.scaleRows)
		if err != nil {
			return err
		}
		b.scalePgbenchSessions = &r
	}
	r, err := b.pgbenchLevel(ctx, "update", b.stmt, ratioConns, b.opt.scaleRows)
	if err != nil {
		return err
	}
	b.scalePgbench = &r
	b.printScale()
	return nil
}

func sleepUntil(ctx context.Context, t time.Time) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(t)):
	}
}

func findPhase(ps []phase, conns int) *phase {
	i := slices.IndexFunc(ps, func(p phase) bool { return p.conns == conns })
	if i < 0 {
		return nil
	}
	return &ps[i]
}

func findPgbenchRun(ps []pgbenchPhase, clients int) *pgbenchPhase {
	i := slices.IndexFunc(ps, func(p pgbenchPhase) bool { return p.run.clients == clients })
	if i < 0 {
		return nil
	}
	return &ps[i]
}
