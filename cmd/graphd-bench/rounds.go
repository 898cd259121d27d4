package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// round is one pass of the alternating windows at ratioConns connections: PATCH with the token and pgbench's
// UPDATE (the pair issue 12 takes the ratio of), PATCH on a graphd with authentication off and on one with the
// admin API on, then GET by id with the token and pgbench's SELECT of the same row. Every window is warmed up
// and starts from a settled database; repeating the rounds alternates every kind of window with the others.
type round struct {
	patch          phase
	update         pgbenchPhase
	authOff, admin *phase
	get            phase
	sel            pgbenchPhase
	floors         []floorRound // in floorKinds order; nil without -floor
}

func (r *round) patchRatio() float64 { return ratio(r.patch.res.rps(), r.update.run.tps) }
func (r *round) getRatio() float64   { return ratio(r.get.res.rps(), r.sel.run.tps) }

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// pgbenchLevels runs pgbench with graphd's own UPDATE at each of -pgbench-clients and at graphd's session count
// at ratioConns, while graphd idles.
func (b *bench) pgbenchLevels(ctx context.Context) error {
	bin := b.opt.pgbench
	if bin == "" {
		var err error
		if bin, err = findPgbench(b.main.db.cl.pgdata); err != nil {
			return err
		}
	}
	b.pgbenchBin = bin
	captured, err := capturedStatement(ctx, b.main.db.conn, updatePattern)
	b.stmt, b.stmtNote = statementFor(captured, err, knownUpdate)
	if _, err := pgbenchScript(b.stmt, b.opt.rows); err != nil {
		return fmt.Errorf("pgbench script from %q: %w", b.stmt, err)
	}
	clients := slices.Clone(b.opt.pgbenchClients)
	// pgbench with as many sessions as graphd kept busy at ratioConns separates graphd's own cost from the
	// group commit that more sessions buy.
	if p := findPhase(b.patch, ratioConns); p != nil {
		b.graphdSessions = int(p.act.avgSessions() + 0.5)
		if b.graphdSessions > 0 && !slices.Contains(clients, b.graphdSessions) {
			clients = append(clients, b.graphdSessions)
			slices.Sort(clients)
		}
	}
	for _, c := range clients {
		r, err := b.pgbenchLevel(ctx, "update", b.stmt, c, b.opt.rows)
		if err != nil {
			return err
		}
		b.pgbench = append(b.pgbench, r)
	}
	b.printPgbench("pgbench, graphd's UPDATE … RETURNING (-M prepared)", b.pgbench)
	return nil
}

// pgbenchLevel runs stmt as a pgbench script with clients sessions over rows rows: a warm-up run, then the
// measured one, on a settled database.
func (b *bench) pgbenchLevel(ctx context.Context, name, stmt string, clients, rows int) (pgbenchPhase, error) {
	script, err := pgbenchScript(stmt, rows)
	if err != nil {
		return pgbenchPhase{}, err
	}
	path := filepath.Join(b.dir, fmt.Sprintf("%s-%d.pgbench", name, rows))
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return pgbenchPhase{}, err
	}
	defines, err := pgbenchDefines()
	if err != nil {
		return pgbenchPhase{}, err
	}
	db := b.main.db
	if err := db.settle(ctx); err != nil {
		return pgbenchPhase{}, err
	}
	b.progress("pgbench %s: %d clients over %d rows (%v warm-up, %v measured)", name, clients, rows, b.opt.warmup, b.opt.window)
	if err := b.pgbenchWarmup(ctx, path, defines, clients); err != nil {
		return pgbenchPhase{}, err
	}
	p := pgbenchPhase{rows: rows}
	pr := b.main.probe()
	s0 := pr.snapshot(ctx)
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan *activity)
	go func() { done <- sampleActivity(sctx, db.sampler, pgbenchSessions) }()
	d := b.pgbenchTime(clients, b.opt.window)
	// Only the UPDATE level at p99Conns over the base rows logs its transactions, for the p99 target's
	// comparison: the ratios and the scale check rest on runs that do not pay for logging.
	logDir := ""
	if name == "update" && clients == p99Conns && rows == b.opt.rows {
		logDir = b.dir
	}
	p.run, err = runPgbench(ctx, b.pgbenchBin, path, defines, db.cl, clients, d, logDir)
	cancel()
	p.act = <-done
	b.noteConnTime(clients, p.run)
	if err != nil {
		return p, err
	}
	if ran := p.run.ran(d); ran < b.opt.window*3/4 {
		b.progress("  pgbench spent %v of its %v connecting: its tx/s rest on %v", p.run.connTime.Round(time.Millisecond), d, ran.Round(time.Millisecond))
	}
	p.cost = costOf(s0, pr.snapshot(ctx), p.run.txs, p.run.cpu)
	return p, nil
}

// maxWarmupRuns bounds pgbenchWarmup on a machine too busy to connect in time.
const maxWarmupRuns = 3

// pgbenchTime is the -T that gives pgbench d of transactions after it has connected, going by how long its
// last run with as many clients took to connect: graphd's windows start on open connections, and on a busy
// machine pgbench takes a good part of a second to open 32.
func (b *bench) pgbenchTime(clients int, d time.Duration) time.Duration {
	return time.Duration(math.Ceil((d + b.connTime[clients]).Seconds())) * time.Second
}

// noteConnTime remembers how long a run with clients clients took to connect.
func (b *bench) noteConnTime(clients int, r pgbenchRun) {
	if r.connTime > 0 {
		if b.connTime == nil {
			b.connTime = map[int]time.Duration{}
		}
		b.connTime[clients] = r.connTime
	}
}

// pgbenchWarmup warms pgbench up as long as graphd's windows are: until its runs have spent -warmup on
// transactions, not on connecting. graphd's warm-up takes the full-page writes that follow the settle's
// CHECKPOINT; a pgbench warm-up spent connecting would leave them to the measured run.
func (b *bench) pgbenchWarmup(ctx context.Context, script string, defines []string, clients int) error {
	if b.opt.warmup < time.Second {
		return nil
	}
	var warm time.Duration
	for range maxWarmupRuns {
		d := b.pgbenchTime(clients, b.opt.warmup-warm)
		r, err := runPgbench(ctx, b.pgbenchBin, script, defines, b.main.db.cl, clients, d, "")
		b.noteConnTime(clients, r)
		switch {
		case errors.Is(err, errNoTransactions):
			// A warm-up that only connected; the next run allows for that.
			continue
		case err != nil:
			return err
		}
		if warm += r.ran(d); warm >= b.opt.warmup {
			return nil
		}
	}
	b.progress("  pgbench's warm-up spent most of %d runs connecting", maxWarmupRuns)
	return nil
}

// runRounds runs -pairs rounds at ratioConns connections.
func (b *bench) runRounds(ctx context.Context) error {
	if b.opt.admin {
		tok := make([]byte, 24)
		if _, err := rand.Read(tok); err != nil {
			return err
		}
		b.admin = hex.EncodeToString(tok)
	}
	for i := range b.opt.pairs {
		b.progress("round %d of %d at %d connections", i+1, b.opt.pairs, ratioConns)
		var r round
		var err error
		// Pairs alternate their order (ABBA), so a drift in the machine's load weighs on both sides alike.
		patch := func() (err error) {
			r.patch, err = b.window(ctx, b.main, kindPatch, ratioConns, b.opt.rows)
			return err
		}
		update := func() (err error) {
			r.update, err = b.pgbenchLevel(ctx, "update", b.stmt, ratioConns, b.opt.rows)
			return err
		}
		if err := inOrder(firstOfPair(i), patch, update); err != nil {
			return err
		}
		if b.opt.authOff {
			if r.authOff, err = b.variantWindow(ctx, "auth-off", "", i == 0, "GRAPHD_AUTH=none"); err != nil {
				return err
			}
		}
		if b.opt.admin {
			if r.admin, err = b.variantWindow(ctx, "admin-on", b.main.token, i == 0, "GRAPHD_ADMIN_TOKEN="+b.admin); err != nil {
				return err
			}
		}
		get := func() (err error) {
			if r.get, err = b.window(ctx, b.main, kindGet, ratioConns, b.opt.rows); err != nil || b.getStmt != "" {
				return err
			}
			// graphd's sessions all show the GET's statement now.
			captured, err := capturedStatement(ctx, b.main.db.conn, getPattern)
			b.getStmt, b.getNote = statementFor(captured, err, knownGet)
			if _, err := pgbenchScript(b.getStmt, b.opt.rows); err != nil {
				return fmt.Errorf("pgbench script from %q: %w", b.getStmt, err)
			}
			return nil
		}
		sel := func() (err error) {
			r.sel, err = b.pgbenchLevel(ctx, "select", b.getStmt, ratioConns, b.opt.rows)
			return err
		}
		// The first round's GET comes first: pgbench's SELECT is the statement it shows graphd sending.
		if err := inOrder(firstOfPair(i), get, sel); err != nil {
			return err
		}
		if b.opt.floor {
			if r.floors, err = b.floorRounds(ctx, i); err != nil {
				return err
			}
		}
		b.rounds = append(b.rounds, r)
	}
	b.printRounds()
	b.printFloors()
	return nil
}

// inOrder runs a then b, or b then a.
func inOrder(aFirst bool, a, b func() error) error {
	if !aFirst {
		a, b = b, a
	}
	if err := a(); err != nil {
		return err
	}
	return b()
}

// variantWindow starts a graphd with extra settings on the main cluster, measures PATCH at ratioConns against
// it, and stops it. The variant runs only during its window, so its pool never holds sessions while the others
// run. check verifies first that it applies PATCHes (and, for the admin API, that the journal records them).
func (b *bench) variantWindow(ctx context.Context, name, token string, check bool, extra ...string) (_ *phase, err error) {
	srv, err := b.startVariant(ctx, name, extra...)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, b.stopServer(srv)) }()
	t := &target{srv: srv, db: b.main.db, token: token}
	if check {
		if err := b.checkRequests(ctx, t, kindPatch); err != nil {
			return nil, err
		}
	}
	p, err := b.window(ctx, t, kindPatch, ratioConns, b.opt.rows)
	if err != nil {
		return nil, err
	}
	if check && b.admin != "" && token != "" {
		n, err := journalEntries(ctx, srv, b.admin)
		switch {
		case err != nil:
			b.journalNote = "could not read the journal: " + err.Error()
		case n == 0:
			return nil, fmt.Errorf("%s: the admin API's journal holds no PATCH after %d of them", srv.name, p.res.completed)
		default:
			b.journalNote = fmt.Sprintf("the journal held %d PATCH entries after the window (its default bounds: 1,000 entries, 8 MiB)", n)
		}
	}
	return &p, nil
}

// printRounds shows each round and the medians the targets take.
func (b *bench) printRounds() {
	m := medianOfRounds(b.rounds)
	fmt.Fprintf(b.out, "\nPATCH and its limit at %d connections: %d rounds of alternating windows over %d rows (%v warm-up, %v measured each; odd rounds run pgbench first)\n",
		ratioConns, len(b.rounds), b.opt.rows, b.opt.warmup, b.opt.window)
	fmt.Fprintf(b.out, "statement: %s\n", b.stmtNote)
	tw := b.table()
	fmt.Fprintln(tw, "round\tPATCH req/s\tp99 ms\tgraphd µs/PATCH\tpgbench UPDATE tx/s\tratio\tauth off req/s\tauth off µs/PATCH\tauth off ratio\tadmin on req/s\tadmin on ÷ off\t")
	opt := func(p *phase, f func(*phase) string) string {
		if p == nil {
			return "-"
		}
		return f(p)
	}
	rps := func(p *phase) string { return fmt.Sprintf("%.0f", p.res.rps()) }
	cpu := func(p *phase) string { return us(p.cost.graphd) }
	for i, r := range b.rounds {
		fmt.Fprintf(tw, "%d\t%.0f\t%.2f\t%s\t%.0f\t%.2f\t%s\t%s\t%s\t%s\t%s\t\n", i+1, r.patch.res.rps(), ms(r.patch.lat.p99), us(r.patch.cost.graphd),
			r.update.run.tps, r.patchRatio(),
			opt(r.authOff, rps), opt(r.authOff, cpu), opt(r.authOff, func(p *phase) string { return fmt.Sprintf("%.2f", ratio(p.res.rps(), r.update.run.tps)) }),
			opt(r.admin, rps), opt(r.admin, func(p *phase) string { return fmt.Sprintf("%.2f", ratio(p.res.rps(), r.patch.res.rps())) }))
	}
	orDash := func(ok bool, format string, v any) string {
		if !ok {
			return "-"
		}
		return fmt.Sprintf(format, v)
	}
	fmt.Fprintf(tw, "median\t%.0f\t%.2f\t%s\t%.0f\t%.2f\t%s\t%s\t%s\t%s\t%s\t\n", m.patchRPS, ms(m.patchP99), us(m.patchCPU), m.updateTPS, m.patchRatio,
		orDash(b.opt.authOff, "%.0f", m.authOffRPS), orDash(b.opt.authOff, "%s", us(m.authOffCPU)), orDash(b.opt.authOff, "%.2f", m.authOffRatio),
		orDash(b.opt.admin, "%.0f", m.adminRPS), orDash(b.opt.admin, "%.2f", m.adminRatio))
	tw.Flush()
	fmt.Fprintln(b.out, "ratio = PATCH req/s ÷ pgbench tx/s of the same round; the median ratio is the median of the rounds' ratios.")
	if b.opt.authOff {
		fmt.Fprintln(b.out, "auth off: a second graphd with GRAPHD_AUTH=none on the same cluster, running only during its window.")
	}
	if b.opt.admin {
		fmt.Fprintf(b.out, "admin on: a second graphd with GRAPHD_ADMIN_TOKEN set (admin API, journal and fault matching on), with the token; ÷ off is ÷ the round's PATCH. %s\n", b.journalNote)
	}

	fmt.Fprintf(b.out, "\nGET by id at %d connections with the cached token, beside pgbench's SELECT of the same row (no pass mark for the ratio)\n", ratioConns)
	fmt.Fprintf(b.out, "statement: %s\n", b.getNote)
	tw = b.table()
	fmt.Fprintln(tw, "round\tGET req/s\tp99 ms\tgraphd µs/GET\tpgbench SELECT tx/s\tratio\t")
	for i, r := range b.rounds {
		fmt.Fprintf(tw, "%d\t%.0f\t%.2f\t%s\t%.0f\t%.2f\t\n", i+1, r.get.res.rps(), ms(r.get.lat.p99), us(r.get.cost.graphd), r.sel.run.tps, r.getRatio())
	}
	fmt.Fprintf(tw, "median\t%.0f\t\t%s\t%.0f\t%.2f\t\n", m.getRPS, us(m.getCPU), m.selectTPS, m.getRatio)
	tw.Flush()
	for i, r := range b.rounds {
		for _, p := range []*phase{&r.patch, r.authOff, r.admin, &r.get} {
			if p != nil && p.res.errors > 0 {
				fmt.Fprintf(b.out, "round %d: %s on %d connections had %d errors, the first: %s\n", i+1, p.kind, p.conns, p.res.errors, p.res.firstErr)
			}
		}
	}
}
