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
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
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

func (e *envList) Set(kv string) error {
	name, _, ok := strings.Cut(kv, "=")
	if !ok || !strings.HasPrefix(name, "GRAPHD_") {
		return fmt.Errorf("%q: want GRAPHD_NAME=value", kv)
	}
	if slices.Contains(fixedEnv, name) {
		return fmt.Errorf("%s is set by the bench", name)
	}
	*e = append(*e, kv)
	return nil
}

// The targets of issue 5, item 8.
const (
	ratioTarget = 0.6                   // PATCH requests/s ÷ pgbench TPS, at ratioConns connections
	ratioConns  = 32                    //
	p99Target   = 10 * time.Millisecond // at p99Conns connections
	p99Conns    = 8                     //
	rssTarget   = 64 << 10              // KiB
	flatTarget  = 0.85                  // graphd's share of PATCH throughput at scaleRows ÷ at rows (see flatness), allowing for noise
)

func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("graphd-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var conns, clients string
	fs.StringVar(&o.graphd, "graphd", "bin/graphd", "the graphd binary to run (make bench builds it)")
	fs.StringVar(&o.pgbench, "pgbench", "", "the pgbench binary (default: the cluster's version under /usr/lib/postgresql)")
	fs.IntVar(&o.rows, "rows", 10_000, "rows for the PATCH levels")
	fs.StringVar(&conns, "conns", "1,8,32,64", "PATCH concurrency levels (connections, one request in flight each)")
	fs.StringVar(&clients, "pgbench-clients", "8,32", "pgbench client counts")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each PATCH window")
	fs.DurationVar(&o.window, "duration", 10*time.Second, "measured window of each PATCH level and pgbench run (whole seconds)")
	fs.BoolVar(&o.scale, "scale", getenv("BENCH_SCALE") != "0", "grow the table to -scale-rows, rerun PATCH and run the collection queries (BENCH_SCALE=0 turns the default off)")
	fs.IntVar(&o.scaleRows, "scale-rows", 1_000_000, "rows for the scale check")
	fs.BoolVar(&o.profile, "profile", true, "profile one extra PATCH run with perf record -a -g, if perf is installed")
	fs.IntVar(&o.repeat, "repeat", 5, "timed repetitions of each collection query (the median is reported)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (cluster, graphd log, profile)")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "give up (and stop graphd) after this long")
	fs.Var(&o.env, "env", "a graphd setting, e.g. -env GRAPHD_DB_MAX_CONNS=32 (repeatable; the caller's GRAPHD_* variables are not passed on)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	if o.conns, err = intList(conns); err != nil {
		return o, fmt.Errorf("-conns: %w", err)
	}
	if o.pgbenchClients, err = intList(clients); err != nil {
		return o, fmt.Errorf("-pgbench-clients: %w", err)
	}
	switch {
	case o.rows < 1:
		return o, errors.New("-rows must be positive")
	case o.scaleRows <= o.rows:
		return o, errors.New("-scale-rows must exceed -rows")
	case o.window < time.Second || o.window%time.Second != 0:
		return o, errors.New("-duration must be whole seconds (pgbench -T takes seconds)")
	case o.repeat < 1:
		return o, errors.New("-repeat must be positive")
	}
	if o.graphd, err = filepath.Abs(o.graphd); err != nil {
		return o, err
	}
	if _, err := os.Stat(o.graphd); err != nil {
		return o, fmt.Errorf("-graphd: %w (make bench builds bin/graphd first)", err)
	}
	return o, nil
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

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(b.log, "[%4.0fs] %s\n", time.Since(b.began).Seconds(), fmt.Sprintf(format, args...))
}

func (b *bench) run(ctx context.Context) (err error) {
	b.progress("starting %s serve", b.opt.graphd)
	if b.srv, err = startGraphd(ctx, b.opt.graphd, b.dir, b.opt.env); err != nil {
		return err
	}
	defer func() {
		b.progress("stopping graphd")
		err = errors.Join(err, b.srv.stop())
		if n, first := b.srv.errorLines(); n > 0 {
			fmt.Fprintf(b.log, "graphd logged %d errors; the first: %s\n", n, first)
		}
	}()
	if err := b.connect(ctx); err != nil {
		return err
	}
	defer b.db.Close(context.WithoutCancel(ctx))
	defer b.sampler.Close(context.WithoutCancel(ctx))
	b.printHeader(ctx)

	if err := b.load(ctx); err != nil {
		return err
	}
	if err := b.checkPatch(ctx); err != nil {
		return err
	}
	for _, n := range b.opt.conns {
		p, err := b.patchLevel(ctx, n, b.opt.rows)
		if err != nil {
			return err
		}
		b.patch = append(b.patch, p)
	}
	b.printPatch("PATCH, random ids", b.patch)

	if err := b.pgbenchLevels(ctx); err != nil {
		return err
	}
	b.printComparison()

	if b.opt.profile {
		if err := b.profileRun(ctx); err != nil {
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
	b.finalRSS, b.finalHWM = memory(b.srv.pid())
	b.summarizeProfile(ctx)
	b.printSummary()
	return nil
}

// pgbenchLevels runs pgbench with graphd's own UPDATE at each client count while graphd idles.
func (b *bench) pgbenchLevels(ctx context.Context) error {
	bin := b.opt.pgbench
	if bin == "" {
		var err error
		if bin, err = findPgbench(b.cl.pgdata); err != nil {
			return err
		}
	}
	stmt, err := capturedUpdate(ctx, b.db)
	switch {
	case err != nil:
		b.stmtNote = fmt.Sprintf("could not read graphd's statement from pg_stat_activity (%v); used the one store.Update is known to send", err)
		stmt = knownUpdate
	case stmt == knownUpdate:
		b.stmtNote = "graphd's statement as pg_stat_activity showed it (the same text as store.Update's)"
	default:
		b.stmtNote = "graphd's statement as pg_stat_activity showed it; it differs from the text this bench knows:\n  " + stmt
	}
	if _, err := pgbenchScript(stmt, b.opt.rows); err != nil {
		return fmt.Errorf("pgbench script from %q: %w", stmt, err)
	}
	b.stmt, b.pgbenchBin = stmt, bin
	clients := slices.Clone(b.opt.pgbenchClients)
	// pgbench with as many sessions as graphd kept busy at ratioConns separates graphd's own cost from the
	// group commit that more sessions buy.
	if p := findPatch(b.patch, ratioConns); p != nil {
		b.graphdSessions = int(p.act.avgSessions() + 0.5)
		if b.graphdSessions > 0 && !slices.Contains(clients, b.graphdSessions) {
			clients = append(clients, b.graphdSessions)
			slices.Sort(clients)
		}
	}
	for _, c := range clients {
		r, err := b.pgbenchLevel(ctx, c, b.opt.rows)
		if err != nil {
			return err
		}
		b.pgbench = append(b.pgbench, r)
	}
	b.printPgbench("pgbench, graphd's UPDATE … RETURNING (-M prepared)", b.pgbench)
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
	if err := b.settle(ctx); err != nil {
		return err
	}
	b.progress("profiling a PATCH run at %d connections with perf record -a -g", ratioConns)
	file := filepath.Join(b.dir, "perf.data")
	const seconds = 5 * time.Second
	var perfErr error
	res, err := runPatchLoad(ctx, loadSpec{addr: b.srv.addr, conns: ratioConns, rows: b.opt.rows, warmup: time.Second, window: seconds + time.Second},
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
		if err := copyRows(ctx, b.db, from, to); err != nil {
			return fmt.Errorf("copying rows %d-%d: %w", from, to, err)
		}
		b.progress("  %d rows", to)
	}
	b.growTime = time.Since(began)
	b.progress("VACUUM ANALYZE")
	if _, err := b.db.Exec(ctx, "VACUUM ANALYZE "+table); err != nil {
		return err
	}
	if err := b.countRows(ctx, b.opt.scaleRows); err != nil {
		return err
	}
	p, err := b.patchLevel(ctx, ratioConns, b.opt.scaleRows)
	if err != nil {
		return err
	}
	b.scalePatch = &p
	if b.graphdSessions > 0 && b.graphdSessions != ratioConns {
		r, err := b.pgbenchLevel(ctx, b.graphdSessions, b.opt.scaleRows)
		if err != nil {
			return err
		}
		b.scalePgbenchSessions = &r
	}
	r, err := b.pgbenchLevel(ctx, ratioConns, b.opt.scaleRows)
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

func findPatch(ps []patchPhase, conns int) *patchPhase {
	i := slices.IndexFunc(ps, func(p patchPhase) bool { return p.conns == conns })
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
