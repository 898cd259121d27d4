package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// targetResult is one pass mark of the run: issue 12's targets at ratioConns connections (from the rounds'
// medians) and at p99Conns, the peak RSS, and, when measured, the comparisons of issues 9 and 10 and the
// scale check's flatness.
type targetResult struct {
	key    string // the summary's name of the figure
	label  string // what the figure is, for the targets block
	figure string // the measured number, formatted ("-": not measured)
	unit   string // "µs", "ms", "MiB" or ""
	detail string // more about the figure, e.g. the pairs' spread
	op     string // the pass mark's comparison: ">=", "<=" or "<"
	limit  string // the pass mark's number, formatted
	spread bool   // the pass mark also holds within the pairs' spread
	met    bool
	why    string // how it was met, or why it is not: "", "within the pairs' spread", "no request completed in a window"
}

// value is the figure as the targets block shows it.
func (t targetResult) value() string {
	return strings.Join(strings.Fields(t.figure+" "+t.unit+" "+t.detail), " ")
}

// want is the pass mark as the targets block shows it.
func (t targetResult) want() string {
	w := map[string]string{">=": "≥", "<=": "≤"}[t.op]
	if w == "" {
		w = t.op
	}
	w = strings.TrimSpace(w + " " + t.limit + " " + t.unit)
	if t.spread {
		w += ", or within the pairs' spread"
	}
	return w
}

func (t targetResult) verdict() string {
	v := verdict(t.met)
	if t.why != "" {
		v += " (" + t.why + ")"
	}
	return v
}

// summaryLine renders a target as the summary's key=value line, e.g.
// "target patch_ratio_at_32=0.64 want>=0.60 met".
func (t targetResult) summaryLine() string {
	line := fmt.Sprintf("target %s=%s want%s%s %s", t.key, t.figure, t.op, t.limit, verdict(t.met))
	if t.why != "" {
		line += fmt.Sprintf(" (%s)", t.why)
	}
	return line
}

// roundMedians are the medians of the rounds' figures that issue 12 sets targets for or asks to report.
type roundMedians struct {
	n                   int
	patchRPS, updateTPS float64
	patchRatio          float64 // median of the rounds' PATCH ÷ pgbench UPDATE
	patchCPU            time.Duration
	patchP99            time.Duration
	authOffRPS          float64 // 0: not measured
	authOffCPU          time.Duration
	authOffRatio        float64
	adminRPS            float64 // 0: not measured
	adminRatio          float64 // median of the rounds' admin on ÷ PATCH (admin off), both with the token
	getRPS, selectTPS   float64
	getRatio            float64
	getCPU              time.Duration
	patchDone, getDone  int // fewest requests completed in one round's window (0: some window completed none)
}

func medianOfRounds(rs []round) roundMedians {
	m := roundMedians{n: len(rs)}
	if len(rs) == 0 {
		return m
	}
	var patch, update, ratios, authOff, authOffRatios, admin, adminRatios, get, sel, getRatios []float64
	var patchCPU, authOffCPU, getCPU, p99 []time.Duration
	m.patchDone, m.getDone = rs[0].patch.res.completed, rs[0].get.res.completed
	for _, r := range rs {
		patch = append(patch, r.patch.res.rps())
		update = append(update, r.update.run.tps)
		ratios = append(ratios, r.patchRatio())
		patchCPU = append(patchCPU, r.patch.cost.graphd)
		p99 = append(p99, r.patch.lat.p99)
		if r.authOff != nil {
			authOff = append(authOff, r.authOff.res.rps())
			authOffRatios = append(authOffRatios, ratio(r.authOff.res.rps(), r.update.run.tps))
			authOffCPU = append(authOffCPU, r.authOff.cost.graphd)
		}
		if r.admin != nil {
			admin = append(admin, r.admin.res.rps())
			adminRatios = append(adminRatios, ratio(r.admin.res.rps(), r.patch.res.rps()))
		}
		get = append(get, r.get.res.rps())
		sel = append(sel, r.sel.run.tps)
		getRatios = append(getRatios, r.getRatio())
		getCPU = append(getCPU, r.get.cost.graphd)
		m.patchDone = min(m.patchDone, r.patch.res.completed)
		m.getDone = min(m.getDone, r.get.res.completed)
	}
	m.patchRPS, m.updateTPS, m.patchRatio = median(patch), median(update), median(ratios)
	m.patchCPU, m.patchP99 = medianDuration(patchCPU), medianDuration(p99)
	m.authOffRPS, m.authOffRatio, m.authOffCPU = median(authOff), median(authOffRatios), medianDuration(authOffCPU)
	m.adminRPS, m.adminRatio = median(admin), median(adminRatios)
	m.getRPS, m.selectTPS, m.getRatio, m.getCPU = median(get), median(sel), median(getRatios), medianDuration(getCPU)
	return m
}

// targetInputs is what the targets are judged from; targets keeps the judging apart from the measuring so it
// can be tested.
type targetInputs struct {
	rounds   roundMedians
	p99      *phase // the PATCH level at p99Conns, nil if -conns lacks it
	peakHWM  int64  // KiB
	batches  []batchLevel
	baseline *baselineResult
	flat     *flat          // nil without the scale check or without pgbench at graphd's sessions
	floors   []floorMedians // nil without -floor
	dbP99    time.Duration  // pgbench's own p99 with p99Conns clients (0: not measured)
}

// floorDetail names each floor's figure beside a target's, e.g. "(floor: net/http 210 µs, raw 175 µs)"; ""
// without floors.
func floorDetail(fs []floorMedians, figure func(floorMedians) string) string {
	var parts []string
	for _, f := range fs {
		if f.fewest == 0 {
			parts = append(parts, f.kind+" "+noneCompleted)
		} else if v := figure(f); v != "" {
			parts = append(parts, f.kind+" "+v)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "(floor: " + strings.Join(parts, ", ") + ")"
}

const noneCompleted = "no request completed in a window"

// targets judges every target the inputs allow, in the order the issues list them.
func targets(in targetInputs) []targetResult {
	var ts []targetResult
	r := in.rounds
	if r.n > 0 {
		ts = append(ts, guard(targetResult{key: fmt.Sprintf("patch_ratio_at_%d", ratioConns),
			label:  fmt.Sprintf("PATCH req/s ÷ pgbench UPDATE tx/s at %d connections, with the token (median of %d rounds)", ratioConns, r.n),
			figure: fmt.Sprintf("%.2f", r.patchRatio), op: ">=", limit: fmt.Sprintf("%.2f", ratioTarget), met: r.patchRatio >= ratioTarget}, r.patchDone))
		ts = append(ts, guard(targetResult{key: fmt.Sprintf("graphd_cpu_us_per_patch_at_%d", ratioConns),
			label:  fmt.Sprintf("graphd CPU per PATCH at %d connections, with the token (median of %d rounds)", ratioConns, r.n),
			figure: us(r.patchCPU), unit: "µs", op: "<=", limit: us(cpuTarget), met: r.patchCPU <= cpuTarget,
			detail: floorDetail(in.floors, func(f floorMedians) string { return us(f.patchCPU) + " µs" })}, r.patchDone))
	}
	p99 := targetResult{key: fmt.Sprintf("p99_ms_at_%d", p99Conns), label: fmt.Sprintf("PATCH p99 at %d connections, with the token", p99Conns),
		figure: "-", unit: "ms", op: "<", limit: strconv.FormatInt(p99Target.Milliseconds(), 10), why: fmt.Sprintf("not measured: -conns lacks %d", p99Conns)}
	if p := in.p99; p != nil {
		p99.figure, p99.met, p99.why = fmt.Sprintf("%.2f", ms(p.lat.p99)), p.lat.p99 < p99Target, ""
		var details []string
		if in.dbP99 > 0 {
			details = append(details, fmt.Sprintf("(pgbench's UPDATE with %d clients: %.2f ms)", p99Conns, ms(in.dbP99)))
		}
		if d := floorDetail(in.floors, func(f floorMedians) string {
			if f.p99 == 0 {
				return ""
			}
			return fmt.Sprintf("%.2f ms", ms(f.p99))
		}); d != "" {
			details = append(details, d)
		}
		p99.detail = strings.Join(details, " ")
		p99 = guard(p99, p.res.completed)
	}
	ts = append(ts, p99)
	ts = append(ts, targetResult{key: "rss_peak_mib", label: "graphd's peak RSS (VmHWM) over the run",
		figure: fmt.Sprintf("%.1f", mib(in.peakHWM)), unit: "MiB", op: "<", limit: strconv.Itoa(rssTarget >> 10), met: in.peakHWM > 0 && in.peakHWM < rssTarget})
	if r.n > 0 {
		ts = append(ts, guard(targetResult{key: fmt.Sprintf("graphd_cpu_us_per_get_at_%d", ratioConns),
			label:  fmt.Sprintf("graphd CPU per GET by id at %d connections, cached token (median of %d rounds)", ratioConns, r.n),
			figure: us(r.getCPU), unit: "µs", op: "<=", limit: us(getCPUTarget), met: r.getCPU <= getCPUTarget,
			detail: floorDetail(in.floors, func(f floorMedians) string { return us(f.getCPU) + " µs" })}, r.getDone))
	}
	for _, l := range in.batches {
		c := l.comparison()
		t := targetResult{key: fmt.Sprintf("batch_vs_single_at_%d", l.conns),
			label:  fmt.Sprintf("$batch of %d PATCHes ÷ single PATCHes, PATCHes/s at %d connections (median of %d pairs)", batchSteps, l.conns, len(c.ratios)),
			figure: fmt.Sprintf("%.2f", c.median), detail: fmt.Sprintf("(pairs %.2f–%.2f)", c.lo, c.hi), op: ">=", limit: "1.00", spread: true}
		t.met, t.why = c.notSlower(0)
		ts = append(ts, guard(t, l.fewestCompleted()))
	}
	if b := in.baseline; b != nil {
		for _, l := range b.levels {
			c := l.comparison()
			t := targetResult{key: fmt.Sprintf("baseline_new_vs_old_at_%d", l.conns),
				label:  fmt.Sprintf("PATCH req/s, this graphd ÷ -baseline, at %d connections (median of %d pairs)", l.conns, len(c.ratios)),
				figure: fmt.Sprintf("%.3f", c.median), detail: fmt.Sprintf("(%+.1f%%; pairs %.3f–%.3f)", 100*(c.median-1), c.lo, c.hi),
				op: ">=", limit: fmt.Sprintf("%.2f", 1-baselineTolerance), spread: true}
			t.met, t.why = c.notSlower(baselineTolerance)
			ts = append(ts, guard(t, l.fewestCompleted()))
		}
	}
	if f := in.flat; f != nil && f.database > 0 {
		ts = append(ts, targetResult{key: "flat_graphd_share", label: "graphd's own share of PATCH throughput, at the scale check's rows ÷ at -rows",
			figure: fmt.Sprintf("%.2f", f.graphd), op: ">=", limit: fmt.Sprintf("%.2f", flatTarget), met: f.graphd >= flatTarget})
	}
	return ts
}

// guard fails a target whose figure rests on a window in which no request completed: its CPU per request and
// its ratios would read 0, which looks like a pass for a ceiling.
func guard(t targetResult, fewest int) targetResult {
	if fewest == 0 {
		t.met, t.why = false, noneCompleted
	}
	return t
}

// notSlower judges side B against side A of a comparison of alternating pairs: met when B's median ratio to A
// is at least 1 - tolerance, or when the shortfall is within half the spread of the pairs' ratios (the
// difference is smaller than repeating the same pair moved it).
func (c comparison) notSlower(tolerance float64) (bool, string) {
	if len(c.ratios) == 0 {
		return false, "no pairs"
	}
	slower := 1 - c.median
	switch {
	case slower <= 0:
		return true, ""
	case slower <= tolerance:
		return true, fmt.Sprintf("within %.0f%%", tolerance*100)
	case slower <= c.halfSpread():
		return true, "within the pairs' spread"
	}
	if tolerance > 0 {
		return false, fmt.Sprintf("slower by more than %.0f%% and than the pairs' spread", tolerance*100)
	}
	return false, "slower by more than the pairs' spread"
}
