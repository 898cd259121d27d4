package main

import (
	"context"
	"fmt"
	"slices"
)

// batchLevel is issue 10's comparison at one connection count: windows of single PATCHes and windows of 20-step
// batches of PATCHes, alternating, -batch-pairs of each.
type batchLevel struct {
	conns   int
	singles []phase
	batches []phase
}

// pairRatios are the batch's steps/s ÷ the single PATCHes' requests/s, pair by pair.
func (l *batchLevel) pairRatios() []float64 {
	var rs []float64
	for i := range min(len(l.singles), len(l.batches)) {
		rs = append(rs, ratio(l.batches[i].res.stepsPerSecond(), l.singles[i].res.stepsPerSecond()))
	}
	return rs
}

// firstOfPair says whether pair i runs its first side first: pairs alternate the order (ABBA), so a load on the
// machine that grows or shrinks during the comparison weighs on both sides alike.
func firstOfPair(i int) bool { return i%2 == 0 }

// batchComparison runs -batch-pairs pairs of single-PATCH and batch windows at each of -batch-conns, against the
// main graphd with its token.
func (b *bench) batchComparison(ctx context.Context) error {
	for _, c := range b.opt.batchConns {
		l := batchLevel{conns: c}
		for i := range b.opt.batchPairs {
			order := []requestKind{kindPatch, kindBatch}
			if !firstOfPair(i) {
				order = []requestKind{kindBatch, kindPatch}
			}
			for _, kind := range order {
				p, err := b.window(ctx, b.main, kind, c, b.opt.rows)
				if err != nil {
					return err
				}
				if kind == kindBatch {
					l.batches = append(l.batches, p)
				} else {
					l.singles = append(l.singles, p)
				}
			}
		}
		b.batches = append(b.batches, l)
	}
	b.printBatches()
	return nil
}

// comparison is the level's pairs summarized: side A the single PATCHes, side B the batches, in PATCHes/s.
func (l *batchLevel) comparison() comparison {
	return compare(stepsPerSecondOf(l.singles), stepsPerSecondOf(l.batches), l.pairRatios())
}

// fewestCompleted is the fewest requests a window of the level completed.
func (l *batchLevel) fewestCompleted() int { return fewestCompleted(l.singles, l.batches) }

// printBatches shows each pair of the $batch comparison and the medians per connection count.
func (b *bench) printBatches() {
	fmt.Fprintf(b.out, "\n$batch of %d PATCHes against %d single PATCHes over %d rows, with the token: %d alternating pairs per connection count (PATCHes/s; CPU per PATCH)\n",
		batchSteps, batchSteps, b.opt.rows, b.opt.batchPairs)
	tw := b.table()
	fmt.Fprintln(tw, "conns\tpair\tsingle PATCH/s\tp99 ms\tgraphd µs\t$batch PATCH/s\tbatches/s\tp99 ms\tgraphd µs\t$batch ÷ single\t")
	for _, l := range b.batches {
		rs := l.pairRatios()
		for i := range rs {
			s, bt := l.singles[i], l.batches[i]
			fmt.Fprintf(tw, "%d\t%d\t%.0f\t%.2f\t%s\t%.0f\t%.0f\t%.2f\t%s\t%.2f\t\n", l.conns, i+1, s.res.stepsPerSecond(), ms(s.lat.p99), us(s.cost.graphd),
				bt.res.stepsPerSecond(), bt.res.rps(), ms(bt.lat.p99), us(bt.cost.graphd), rs[i])
		}
		c := l.comparison()
		fmt.Fprintf(tw, "%d\tmedian\t%.0f\t\t\t%.0f\t\t\t\t%.2f\t\n", l.conns, c.medianA, c.medianB, c.median)
	}
	tw.Flush()
	for _, l := range b.batches {
		for _, p := range append(slices.Clone(l.singles), l.batches...) {
			if p.res.errors > 0 {
				fmt.Fprintf(b.out, "%s at %d connections had %d errors, the first: %s\n", p.kind, p.conns, p.res.errors, p.res.firstErr)
			}
		}
	}
}
