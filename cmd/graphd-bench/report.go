package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

func (b *bench) table() *tabwriter.Writer {
	return tabwriter.NewWriter(b.out, 0, 0, 2, ' ', tabwriter.AlignRight)
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

func us(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d)/float64(time.Microsecond)) }

func (b *bench) printHeader(ctx context.Context) {
	settings := map[string]string{}
	for _, name := range []string{"fsync", "synchronous_commit", "full_page_writes", "shared_buffers", "max_wal_size", "max_connections"} {
		var v string
		if b.main.db.conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v) == nil {
			settings[name] = v
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(b.out, "graphd-bench %s\n", b.began.Format(time.RFC3339))
	fmt.Fprintf(b.out, "machine: %d CPUs (shared by graphd, PostgreSQL and the load generator), load average %s at start\n",
		runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "))
	extra := "none"
	if len(b.opt.env) > 0 {
		extra = b.opt.env.String()
	}
	fmt.Fprintf(b.out, "graphd: %s serve, authentication on (graphd's own issuer; one token from `graphd token --scopes %s`, sent with every request),\n",
		b.opt.graphd, tokenScopes)
	fmt.Fprintf(b.out, "  log level %s (the log reaches this tool through a pipe), pool of %s sessions (%s), settings from -env: %s\n",
		b.envOr("GRAPHD_LOG_LEVEL", "info, the default"), b.pool, b.envOr("GRAPHD_DB_MAX_CONNS", "graphd's default"), extra)
	fmt.Fprintf(b.out, "embedded PostgreSQL %s: fsync=%s synchronous_commit=%s full_page_writes=%s shared_buffers=%s max_wal_size=%s max_connections=%s\n",
		b.pgVer, settings["fsync"], settings["synchronous_commit"], settings["full_page_writes"], settings["shared_buffers"], settings["max_wal_size"], settings["max_connections"])
}

// envOr is the -env value of name, or def.
func (b *bench) envOr(name, def string) string {
	for _, kv := range b.opt.env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v + " (-env)"
		}
	}
	return def
}

func (b *bench) printPatch(title string, ps []phase) {
	fmt.Fprintf(b.out, "\n%s over %d rows: %v warm-up, %v measured per level (load: %s)\n", title, b.opt.rows, b.opt.warmup, b.opt.window, "raw HTTP/1.1, one request in flight per connection")
	tw := b.table()
	fmt.Fprintln(tw, "conns\treq/s\tp50 ms\tp99 ms\tmax ms\terrors\tRSS MiB\tHWM MiB\t")
	for _, p := range ps {
		fmt.Fprintf(tw, "%d\t%.0f\t%.2f\t%.2f\t%.2f\t%d\t%.1f\t%.1f\t\n", p.conns, p.res.rps(), ms(p.lat.p50), ms(p.lat.p99), ms(p.lat.max), p.res.errors, mib(p.rss), mib(p.hwm))
	}
	tw.Flush()
}

func (b *bench) printPgbench(title string, ps []pgbenchPhase) {
	fmt.Fprintf(b.out, "\n%s over %d rows, while graphd idles\n", title, b.opt.rows)
	fmt.Fprintf(b.out, "statement: %s\n", b.stmtNote)
	tw := b.table()
	fmt.Fprintln(tw, "clients\ttx/s\tmean ms\tp99 ms\ttransactions\tfailed\t\t")
	for _, p := range ps {
		note := ""
		if p.run.clients == b.graphdSessions {
			note = fmt.Sprintf("graphd's sessions at %d connections", ratioConns)
		}
		p99 := "-"
		if p.run.p99 > 0 {
			p99 = fmt.Sprintf("%.2f", ms(p.run.p99))
		}
		fmt.Fprintf(tw, "%d\t%.0f\t%.2f\t%s\t%d\t%d\t%s\t\n", p.run.clients, p.run.tps, ms(p.run.meanLat), p99, p.run.txs, p.run.failed, note)
	}
	tw.Flush()
}

// phaseRow is one measured phase in the cost tables.
type phaseRow struct {
	label string
	cost  cost
	act   *activity
}

// phaseRows lists the measured phases at the base row count, or those of the scale check.
func (b *bench) phaseRows(scale bool) []phaseRow {
	var rows []phaseRow
	if scale {
		if p := b.scalePatch; p != nil {
			rows = append(rows, phaseRow{fmt.Sprintf("PATCH %d conns, %d rows", p.conns, p.rows), p.cost, p.act})
		}
		for _, p := range []*pgbenchPhase{b.scalePgbenchSessions, b.scalePgbench} {
			if p != nil {
				rows = append(rows, phaseRow{fmt.Sprintf("pgbench %d clients, %d rows", p.run.clients, p.rows), p.cost, p.act})
			}
		}
		return rows
	}
	for _, p := range b.patch {
		rows = append(rows, phaseRow{fmt.Sprintf("PATCH %d conns", p.conns), p.cost, p.act})
	}
	for _, p := range b.pgbench {
		rows = append(rows, phaseRow{fmt.Sprintf("pgbench %d clients", p.run.clients), p.cost, p.act})
	}
	return rows
}

// allRows are every measured phase of the run, for the machine's load.
func (b *bench) allRows() []phaseRow {
	rows := append(b.phaseRows(false), b.phaseRows(true)...)
	rows = append(rows, b.roundRows()...)
	for _, l := range b.batches {
		for _, p := range append(slices.Clone(l.singles), l.batches...) {
			rows = append(rows, phaseRow{fmt.Sprintf("%s %d conns", p.kind, p.conns), p.cost, p.act})
		}
	}
	if r := b.baseline; r != nil {
		for _, l := range r.levels {
			for _, p := range l.old {
				rows = append(rows, phaseRow{fmt.Sprintf("baseline old %d conns", l.conns), p.cost, p.act})
			}
			for _, p := range l.new {
				rows = append(rows, phaseRow{fmt.Sprintf("baseline new %d conns", l.conns), p.cost, p.act})
			}
		}
	}
	return rows
}

// roundRows lists the rounds' phases.
func (b *bench) roundRows() []phaseRow {
	var rows []phaseRow
	for i, r := range b.rounds {
		n := i + 1
		rows = append(rows, phaseRow{fmt.Sprintf("round %d PATCH", n), r.patch.cost, r.patch.act},
			phaseRow{fmt.Sprintf("round %d pgbench UPDATE", n), r.update.cost, r.update.act})
		for _, v := range []struct {
			label string
			p     *phase
		}{{"PATCH auth off", r.authOff}, {"PATCH admin on", r.admin}} {
			if v.p != nil {
				rows = append(rows, phaseRow{fmt.Sprintf("round %d %s", n, v.label), v.p.cost, v.p.act})
			}
		}
		rows = append(rows, phaseRow{fmt.Sprintf("round %d GET", n), r.get.cost, r.get.act},
			phaseRow{fmt.Sprintf("round %d pgbench SELECT", n), r.sel.cost, r.sel.act})
	}
	return rows
}

// printCosts shows where each phase's CPU went and what its database sessions were doing.
func (b *bench) printCosts(rows []phaseRow) {
	fmt.Fprintf(b.out, "\nCPU per request (µs; client = the load generator: this process, or pgbench) and machine load (cores)\n")
	tw := b.table()
	fmt.Fprintln(tw, "phase\tgraphd\tpostgres\tclient\tother processes\tall\tmachine busy\tof it, others\t")
	for _, r := range rows {
		c := r.cost
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t\n", r.label, us(c.graphd), us(c.postgres), us(c.client), us(c.other),
			us(c.graphd+c.postgres+c.client+c.other), c.machineCores, c.otherCores)
	}
	tw.Flush()
	fmt.Fprintf(b.out, "\ndatabase sessions (pg_stat_activity every 100 ms) and WAL per transaction (pg_stat_wal)\n")
	tw = tabwriter.NewWriter(b.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "phase\tsessions\tactive\tWAL syncs/tx\tFPI/tx\tWAL KB/tx\twaits of active sessions")
	for _, r := range rows {
		c := r.cost
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.3f\t%.2f\t%.2f\t%s\n", r.label, r.act.avgSessions(), r.act.avgActive(), c.walSyncsPerReq, c.fpiPerReq, c.walKBPerReq, r.act.topWaits(4))
	}
	tw.Flush()
}

// verdict renders whether a target holds.
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

// noisyCores is how much CPU other processes may take during a phase before the bench warns that its
// figures reflect the machine's other work as much as graphd's.
const noisyCores = 0.5

// busiestOther returns the phase during which other processes used the most CPU, and how many cores.
func (b *bench) busiestOther() (string, float64) {
	label, most := "", 0.0
	for _, r := range b.allRows() {
		if r.cost.otherCores > most {
			label, most = r.label, r.cost.otherCores
		}
	}
	return label, most
}

// peakHWM is the highest VmHWM of the main graphd seen so far (VmHWM is the peak since graphd started, so the
// latest reading is the answer; the maximum guards against a reading that failed).
func (b *bench) peakHWM() int64 {
	hwm := b.finalHWM
	for _, p := range b.patch {
		hwm = max(hwm, p.hwm)
	}
	for _, r := range b.rounds {
		hwm = max(hwm, r.patch.hwm, r.get.hwm)
	}
	for _, l := range b.batches {
		for _, p := range append(slices.Clone(l.singles), l.batches...) {
			hwm = max(hwm, p.hwm)
		}
	}
	if b.scalePatch != nil {
		hwm = max(hwm, b.scalePatch.hwm)
	}
	return hwm
}

func (b *bench) printProfile() {
	p := b.prof
	fmt.Fprintf(b.out, "\nCPU profile: perf record -a -g -F %d for 5 s of an extra PATCH run over %d rows (%s)\n", profileHz, b.opt.rows, b.profileNote)
	section := func(title string, lines []string) {
		fmt.Fprintf(b.out, "%s\n", title)
		for _, l := range lines {
			fmt.Fprintf(b.out, "    %s\n", l)
		}
	}
	section("  all samples by command:", p.byCommand)
	section("  graphd, where a PATCH's CPU goes (share of graphd's samples, callees included):", p.graphdParts)
	section("  graphd, self time by function (share of graphd's samples):", p.graphdSelf)
	section("  postgres, self time by function (share of postgres's samples):", p.postgresSelf)
}

func (b *bench) printScale() {
	s := b.scalePatch
	fmt.Fprintf(b.out, "\nscale: %d rows (COPY of %d more rows took %.0f s), PATCH at %d connections\n", s.rows, s.rows-b.opt.rows, b.growTime.Seconds(), s.conns)
	tw := b.table()
	fmt.Fprintf(tw, "rows\treq/s\tp50 ms\tp99 ms\terrors\tpgbench %d tx/s\tpgbench %d tx/s\tRSS MiB\t\n", b.graphdSessions, ratioConns)
	tps := func(g *pgbenchPhase) string {
		if g == nil {
			return "-"
		}
		return fmt.Sprintf("%.0f", g.run.tps)
	}
	if base := findPhase(b.patch, s.conns); base != nil {
		fmt.Fprintf(tw, "%d\t%.0f\t%.2f\t%.2f\t%d\t%s\t%s\t%.1f\t\n", base.rows, base.res.rps(), ms(base.lat.p50), ms(base.lat.p99), base.res.errors,
			tps(b.sessionsPgbench(false)), tps(findPgbenchRun(b.pgbench, ratioConns)), mib(base.rss))
	}
	fmt.Fprintf(tw, "%d\t%.0f\t%.2f\t%.2f\t%d\t%s\t%s\t%.1f\t\n", s.rows, s.res.rps(), ms(s.lat.p50), ms(s.lat.p99), s.res.errors,
		tps(b.sessionsPgbench(true)), tps(b.scalePgbench), mib(s.rss))
	tw.Flush()
	b.printCosts(b.phaseRows(true))
	if base := findPhase(b.patch, s.conns); base != nil {
		fmt.Fprintf(b.out, "CPU per PATCH at %d → %d rows: graphd %s → %s µs, postgres %s → %s µs\n", b.opt.rows, s.rows,
			us(base.cost.graphd), us(s.cost.graphd), us(base.cost.postgres), us(s.cost.postgres))
	}
	f, ok := b.flatness()
	if !ok {
		return
	}
	fmt.Fprintf(b.out, "PATCH req/s at %d rows ÷ at %d rows: %.2f\n", s.rows, b.opt.rows, f.patch)
	if f.database > 0 {
		fmt.Fprintf(b.out, "the database alone (pgbench at graphd's %d sessions), same rows: %.2f\n", b.graphdSessions, f.database)
		fmt.Fprintf(b.out, "graphd's own cost, PATCH ÷ that pgbench, at %d rows ÷ at %d rows: %.2f (flat, want ≥ %.2f): %s\n",
			s.rows, b.opt.rows, f.graphd, flatTarget, verdict(f.graphd >= flatTarget))
	}
}

// sessionsPgbench is the pgbench run at graphd's session count, at the base row count or at scale.
func (b *bench) sessionsPgbench(scale bool) *pgbenchPhase {
	switch {
	case !scale:
		return findPgbenchRun(b.pgbench, b.graphdSessions)
	case b.graphdSessions == ratioConns:
		return b.scalePgbench
	}
	return b.scalePgbenchSessions
}

// flat is how throughput changed from the base row count to the scale check's: PATCH's, the database's alone
// (pgbench with graphd's session count; 0 if unknown), and graphd's share, the first divided by the second.
type flat struct{ patch, database, graphd float64 }

func (b *bench) flatness() (flat, bool) {
	var f flat
	if b.scalePatch == nil {
		return f, false
	}
	base := findPhase(b.patch, b.scalePatch.conns)
	if base == nil || base.res.rps() == 0 {
		return f, false
	}
	f.patch = b.scalePatch.res.rps() / base.res.rps()
	if g0, g1 := b.sessionsPgbench(false), b.sessionsPgbench(true); g0 != nil && g1 != nil && g0.run.tps > 0 && g1.run.tps > 0 {
		f.database = g1.run.tps / g0.run.tps
		f.graphd = f.patch / f.database
	}
	return f, true
}

func (b *bench) printCollection() {
	fmt.Fprintf(b.out, "\ncollection queries over %d rows: median of %d after one warm-up request\n", b.collectionRows, b.opt.repeat)
	tw := tabwriter.NewWriter(b.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "case\tmedian ms\trows\tquery")
	for _, q := range b.queries {
		if q.note != "" {
			fmt.Fprintf(tw, "%s\t-\t-\t%s: %s\n", q.name, q.query, q.note)
			continue
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%d\t%s\n", q.name, ms(q.median), q.rows, q.query)
	}
	tw.Flush()
	if r := b.paging; r != nil {
		fmt.Fprintf(b.out, "c: Prefer: odata.maxpagesize=100, following @odata.nextLink: page 1 %.2f ms, page %d %.2f ms (walking there took %.1f s)\n",
			ms(r.first), r.pages, ms(r.target), r.walk.Seconds())
	} else if b.collectionNote != "" {
		fmt.Fprintf(b.out, "c: %s\n", b.collectionNote)
	}
}

// targetInputs gathers what the targets are judged from, as far as the run has come.
func (b *bench) targetInputs() targetInputs {
	in := targetInputs{rounds: medianOfRounds(b.rounds), p99: findPhase(b.patch, p99Conns), peakHWM: b.peakHWM(), batches: b.batches, baseline: b.baseline}
	if b.opt.floor {
		in.floors = medianOfFloors(b.rounds)
	}
	if r := findPgbenchRun(b.pgbench, p99Conns); r != nil {
		in.dbP99 = r.run.p99
	}
	if f, ok := b.flatness(); ok {
		in.flat = &f
	}
	return in
}

// printTargets prints every target the run has measured so far with met or NOT met.
func (b *bench) printTargets(title string) {
	fmt.Fprintf(b.out, "\n%s\n", title)
	if label, cores := b.busiestOther(); cores > noisyCores {
		fmt.Fprintf(b.out, "  warning: other processes used up to %.2f of the %d cores (during %s); these figures are theirs as much as graphd's\n",
			cores, runtime.NumCPU(), label)
	}
	tw := tabwriter.NewWriter(b.out, 0, 0, 2, ' ', 0)
	for _, t := range targets(b.targetInputs()) {
		fmt.Fprintf(tw, "  %s\t%s\twant %s\t%s\n", t.label, t.value(), t.want(), t.verdict())
	}
	tw.Flush()
}

// printComparison follows the rounds: where each phase's CPU went, then the targets measured so far.
func (b *bench) printComparison() {
	b.printCosts(append(b.phaseRows(false), b.roundRows()...))
	fmt.Fprintln(b.out, "\nbeside the rounds (no pass mark):")
	if p, g := findPhase(b.patch, ratioConns), findPgbenchRun(b.pgbench, b.graphdSessions); p != nil && g != nil && b.graphdSessions != ratioConns {
		fmt.Fprintf(b.out, "  PATCH req/s at %d connections (levels) ÷ pgbench tx/s at graphd's %d sessions: %.2f\n", ratioConns, b.graphdSessions, ratio(p.res.rps(), g.run.tps))
	}
	m := medianOfRounds(b.rounds)
	if b.opt.authOff {
		fmt.Fprintf(b.out, "  auth off: PATCH %.0f req/s, ratio %.2f, graphd %s µs/PATCH (with the token: %.0f req/s, %.2f, %s µs)\n",
			m.authOffRPS, m.authOffRatio, us(m.authOffCPU), m.patchRPS, m.patchRatio, us(m.patchCPU))
	}
	if b.opt.admin {
		fmt.Fprintf(b.out, "  admin API on: PATCH %.0f req/s, %.2f of the admin-off PATCH's %.0f\n", m.adminRPS, m.adminRatio, m.patchRPS)
	}
	fmt.Fprintf(b.out, "  GET by id ÷ pgbench SELECT of the same row: %.2f (%.0f req/s ÷ %.0f tx/s)\n", m.getRatio, m.getRPS, m.selectTPS)
	b.printTargets("targets so far (issue 12, item 4; the summary repeats them with every comparison)")
}

// printSummary prints the figures once more as key=value lines, the form docs/performance.md quotes, ending
// with one line per target.
func (b *bench) printSummary() {
	w := b.out
	fmt.Fprintf(w, "\nsummary (%s, %s)\n", b.began.Format("2006-01-02 15:04 MST"), time.Since(b.began).Round(time.Second))
	for _, p := range b.patch {
		fmt.Fprintf(w, "patch rows=%d conns=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d graphd_cpu_us=%s rss_mib=%.1f hwm_mib=%.1f\n",
			p.rows, p.conns, p.res.rps(), ms(p.lat.p50), ms(p.lat.p99), p.res.errors, us(p.cost.graphd), mib(p.rss), mib(p.hwm))
	}
	for _, p := range b.pgbench {
		fmt.Fprintf(w, "pgbench rows=%d clients=%d tps=%.0f mean_ms=%.2f failed=%d", p.rows, p.run.clients, p.run.tps, ms(p.run.meanLat), p.run.failed)
		if p.run.p99 > 0 {
			fmt.Fprintf(w, " p99_ms=%.2f", ms(p.run.p99))
		}
		fmt.Fprintln(w)
	}
	if m := medianOfRounds(b.rounds); m.n > 0 {
		fmt.Fprintf(w, "rounds n=%d conns=%d patch_rps=%.0f pgbench_update_tps=%.0f patch_ratio=%.2f patch_graphd_cpu_us=%s patch_p99_ms=%.2f\n",
			m.n, ratioConns, m.patchRPS, m.updateTPS, m.patchRatio, us(m.patchCPU), ms(m.patchP99))
		if b.opt.authOff {
			fmt.Fprintf(w, "rounds auth=none patch_rps=%.0f patch_ratio=%.2f patch_graphd_cpu_us=%s\n", m.authOffRPS, m.authOffRatio, us(m.authOffCPU))
		}
		if b.opt.admin {
			fmt.Fprintf(w, "rounds admin=on patch_rps=%.0f vs_admin_off=%.2f\n", m.adminRPS, m.adminRatio)
		}
		fmt.Fprintf(w, "rounds get_rps=%.0f pgbench_select_tps=%.0f get_ratio=%.2f get_graphd_cpu_us=%s\n", m.getRPS, m.selectTPS, m.getRatio, us(m.getCPU))
	}
	for _, f := range medianOfFloors(b.rounds) {
		fmt.Fprintf(w, "floor kind=%s conns=%d patch_rps=%.0f patch_cpu_us=%s get_rps=%.0f get_cpu_us=%s", f.kind, ratioConns, f.patchRPS, us(f.patchCPU), f.getRPS, us(f.getCPU))
		if f.p99 > 0 {
			fmt.Fprintf(w, " patch_p99_ms_at_%d=%.2f", p99Conns, ms(f.p99))
		}
		fmt.Fprintln(w)
	}
	for _, l := range b.batches {
		c := l.comparison()
		fmt.Fprintf(w, "batch conns=%d pairs=%d single_patches_per_s=%.0f batch_patches_per_s=%.0f batch_vs_single=%.2f pairs_lo=%.2f pairs_hi=%.2f\n",
			l.conns, len(c.ratios), c.medianA, c.medianB, c.median, c.lo, c.hi)
	}
	if r := b.baseline; r != nil {
		for _, l := range r.levels {
			c := l.comparison()
			fmt.Fprintf(w, "baseline conns=%d pairs=%d old_rps=%.0f new_rps=%.0f new_vs_old=%.3f diff_pct=%+.1f pairs_lo=%.3f pairs_hi=%.3f\n",
				l.conns, len(c.ratios), c.medianA, c.medianB, c.median, 100*(c.median-1), c.lo, c.hi)
		}
	}
	if s := b.scalePatch; s != nil {
		fmt.Fprintf(w, "scale rows=%d conns=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d", s.rows, s.conns, s.res.rps(), ms(s.lat.p50), ms(s.lat.p99), s.res.errors)
		if g := b.scalePgbench; g != nil && g.run.tps > 0 {
			fmt.Fprintf(w, " pgbench_tps=%.0f ratio=%.2f", g.run.tps, s.res.rps()/g.run.tps)
		}
		fmt.Fprintln(w)
		if f, ok := b.flatness(); ok {
			fmt.Fprintf(w, "info patch_rps_%d_vs_%d=%.2f pgbench_at_graphd_sessions_%d_vs_%d=%.2f\n", s.rows, b.opt.rows, f.patch, s.rows, b.opt.rows, f.database)
		}
	}
	switch {
	case b.queries != nil:
		for _, q := range b.queries {
			fmt.Fprintf(w, "query rows=%d case=%s median_ms=%.2f returned=%d\n", b.collectionRows, q.name, ms(q.median), q.rows)
		}
		if r := b.paging; r != nil {
			fmt.Fprintf(w, "query rows=%d case=c page1_ms=%.2f page%d_ms=%.2f walk_s=%.1f\n", b.collectionRows, ms(r.first), r.pages, ms(r.target), r.walk.Seconds())
		}
	default:
		fmt.Fprintf(w, "query collection queries: %s\n", b.collectionNote)
	}
	fmt.Fprintf(w, "graphd rss_mib=%.1f hwm_mib=%.1f access_log_lines=%d at the end\n", mib(b.finalRSS), mib(b.finalHWM), b.main.srv.accessLogLines())
	label, cores := b.busiestOther()
	fmt.Fprintf(w, "machine other_processes_max_cores=%.2f during=%q\n", cores, label)
	if b.profileNote != "" && b.prof == nil {
		fmt.Fprintf(w, "profile %s\n", b.profileNote)
	}
	for _, t := range targets(b.targetInputs()) {
		fmt.Fprintln(w, t.summaryLine())
	}
}
