package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// baselineResult is issue 9's comparison: PATCH throughput of the graphd under test (new) against another
// binary (old, the hard-wired path before the entity model), each on an embedded cluster of its own with the
// same rows and the same settings, in alternating windows.
type baselineResult struct {
	oldBin, newBin string
	env            []string // the settings both ran with
	levels         []baselineLevel
}

type baselineLevel struct {
	conns    int
	old, new []phase
}

// pairRatios are new ÷ old requests/s, pair by pair.
func (l *baselineLevel) pairRatios() []float64 {
	var rs []float64
	for i := range min(len(l.old), len(l.new)) {
		rs = append(rs, ratio(l.new[i].res.rps(), l.old[i].res.rps()))
	}
	return rs
}

// baselineTolerance is how much slower than the old path the new one may be (issue 9, item 3).
const baselineTolerance = 0.05

// comparison summarizes pairs of windows of two sides: the medians of each side, the median of the pairs'
// ratios, and the spread of those ratios.
type comparison struct {
	medianA, medianB float64 // requests/s (or steps/s)
	ratios           []float64
	median           float64 // of ratios: B ÷ A
	lo, hi           float64 // the smallest and largest ratio
}

func compare(a, b []float64, ratios []float64) comparison {
	c := comparison{medianA: median(a), medianB: median(b), ratios: ratios, median: median(ratios)}
	if len(ratios) > 0 {
		c.lo, c.hi = minOf(ratios), maxOf(ratios)
	}
	return c
}

// halfSpread is half the range of the pairs' ratios: how far apart two measurements of the same comparison
// fell in this run.
func (c comparison) halfSpread() float64 { return (c.hi - c.lo) / 2 }

// comparison is the level's old/new pairs summarized: side A is old, side B new.
func (l *baselineLevel) comparison() comparison {
	return compare(rpsOf(l.old), rpsOf(l.new), l.pairRatios())
}

// fewestCompleted is the fewest requests a window of the level completed.
func (l *baselineLevel) fewestCompleted() int { return fewestCompleted(l.old, l.new) }

func rpsOf(ps []phase) []float64 {
	var xs []float64
	for _, p := range ps {
		xs = append(xs, p.res.rps())
	}
	return xs
}

func stepsPerSecondOf(ps []phase) []float64 {
	var xs []float64
	for _, p := range ps {
		xs = append(xs, p.res.stepsPerSecond())
	}
	return xs
}

// fewestCompleted is the fewest requests one of the phases completed (0 for none).
func fewestCompleted(sides ...[]phase) int {
	fewest, any := 0, false
	for _, ps := range sides {
		for _, p := range ps {
			if !any || p.res.completed < fewest {
				fewest, any = p.res.completed, true
			}
		}
	}
	return fewest
}

// baselineComparison starts the -baseline binary and the graphd under test, each on a fresh embedded cluster of
// its own, loads the same rows into both, and alternates PATCH windows between them at each of -baseline-conns.
// Both run without authentication and with the same pool: the comparison is of the entity model's generality,
// not of authentication or of pool defaults that differ between the two.
func (b *bench) baselineComparison(ctx context.Context) (err error) {
	pool := b.opt.baselinePool
	env := append([]string{"GRAPHD_LOG_LEVEL=warn"}, b.opt.env...)
	env = append(env, "GRAPHD_AUTH=none", "GRAPHD_DB_MAX_CONNS="+strconv.Itoa(pool))
	res := &baselineResult{oldBin: b.opt.baseline, newBin: b.opt.graphd, env: env}
	sides := make([]*target, 2)
	defer func() {
		for _, t := range sides {
			if t == nil {
				continue
			}
			t.db.close(ctx)
			err = errors.Join(err, b.stopServer(t.srv))
		}
	}()
	for i, side := range []struct{ name, bin string }{{"old", b.opt.baseline}, {"new", b.opt.graphd}} {
		b.progress("baseline: starting %s (%s) on a cluster of its own", side.name, side.bin)
		srv, err := startGraphd(ctx, serverSpec{name: side.name, bin: side.bin, dir: b.dir, env: env})
		if err != nil {
			return fmt.Errorf("baseline %s: %w", side.name, err)
		}
		db, err := openDatabase(ctx, srv)
		if err != nil {
			_ = srv.stop()
			return err
		}
		sides[i] = &target{srv: srv, db: db}
		if err := b.load(ctx, sides[i]); err != nil {
			return err
		}
		if err := b.checkRequests(ctx, sides[i], kindPatch); err != nil {
			return err
		}
	}
	old, cur := sides[0], sides[1]
	for _, c := range b.opt.baselineConns {
		res.levels = append(res.levels, baselineLevel{conns: c})
	}
	// Pairs outermost, so each level's pairs spread over the whole comparison.
	for i := range b.opt.baselinePairs {
		for j := range res.levels {
			l := &res.levels[j]
			order := []*target{old, cur}
			if !firstOfPair(i) {
				order = []*target{cur, old}
			}
			for _, t := range order {
				p, err := b.window(ctx, t, kindPatch, l.conns, b.opt.rows)
				if err != nil {
					return err
				}
				if t == old {
					l.old = append(l.old, p)
				} else {
					l.new = append(l.new, p)
				}
			}
		}
	}
	b.baseline = res
	b.printBaseline()
	return nil
}

// printBaseline shows each old/new pair and the verdict per connection count.
func (b *bench) printBaseline() {
	r := b.baseline
	fmt.Fprintf(b.out, "\nbaseline: PATCH over %d rows, old = %s, new = %s\n", b.opt.rows, r.oldBin, r.newBin)
	fmt.Fprintf(b.out, "each on an embedded cluster of its own, settings %s; %d alternating pairs per connection count (even pairs run old first)\n",
		strings.Join(r.env, " "), b.opt.baselinePairs)
	tw := b.table()
	fmt.Fprintln(tw, "conns\tpair\told req/s\tgraphd µs\tnew req/s\tgraphd µs\tnew ÷ old\t")
	for _, l := range r.levels {
		rs := l.pairRatios()
		for i := range rs {
			o, n := l.old[i], l.new[i]
			fmt.Fprintf(tw, "%d\t%d\t%.0f\t%s\t%.0f\t%s\t%.3f\t\n", l.conns, i+1, o.res.rps(), us(o.cost.graphd), n.res.rps(), us(n.cost.graphd), rs[i])
		}
	}
	tw.Flush()
	for _, l := range r.levels {
		c := l.comparison()
		met, why := c.notSlower(baselineTolerance)
		v := verdict(met)
		if why != "" {
			v += " (" + why + ")"
		}
		fmt.Fprintf(b.out, "at %d connections: median old %.0f, new %.0f req/s; new ÷ old %.3f (%+.1f%%), pairs %.3f–%.3f (half spread %.1f%%): %s\n",
			l.conns, c.medianA, c.medianB, c.median, 100*(c.median-1), c.lo, c.hi, 100*c.halfSpread(), v)
		for _, p := range append(slices.Clone(l.old), l.new...) {
			if p.res.errors > 0 {
				fmt.Fprintf(b.out, "  a window had %d errors, the first: %s\n", p.res.errors, p.res.firstErr)
				break
			}
		}
	}
}
