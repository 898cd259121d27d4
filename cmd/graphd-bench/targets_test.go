package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		xs   []float64
		want float64
	}{
		{"Empty", nil, 0},
		{"One", []float64{7}, 7},
		{"Odd", []float64{3, 1, 2}, 2},
		{"Even", []float64{4, 1, 3, 2}, 2.5},
		{"Outlier", []float64{1000, 10, 11, 9, 12}, 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := append([]float64(nil), tt.xs...)
			if got := median(tt.xs); got != tt.want {
				t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
			}
			for i := range in {
				if in[i] != tt.xs[i] {
					t.Fatalf("median reordered its argument: %v", tt.xs)
				}
			}
		})
	}
}

// pairs makes a comparison from B ÷ A ratios, with side A at 1000 requests/s.
func pairs(ratios ...float64) comparison {
	a := make([]float64, len(ratios))
	b := make([]float64, len(ratios))
	for i, r := range ratios {
		a[i], b[i] = 1000, 1000*r
	}
	return compare(a, b, ratios)
}

func TestComparison(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		c              comparison
		tolerance      float64
		wantMedian     float64
		wantHalfSpread float64
		wantMet        bool
		wantWhy        string
	}{
		{"Faster", pairs(1.02, 1.10, 1.05), 0.05, 1.05, 0.04, true, ""},
		{"WithinTolerance", pairs(0.97, 0.96, 0.98, 0.95, 0.99), 0.05, 0.97, 0.02, true, "within 5%"},
		{"WithinSpread", pairs(0.80, 1.00, 0.90, 0.70, 1.02), 0.05, 0.90, 0.16, true, "within the pairs' spread"},
		{"SlowerThanBoth", pairs(0.90, 0.91, 0.89, 0.90, 0.92), 0.05, 0.90, 0.015, false, "slower by more than 5% and than the pairs' spread"},
		{"BatchSlower", pairs(0.90, 0.92), 0, 0.91, 0.01, false, "slower by more than the pairs' spread"},
		{"BatchWithinSpread", pairs(0.95, 1.03), 0, 0.99, 0.04, true, "within the pairs' spread"},
		{"NoPairs", pairs(), 0.05, 0, 0, false, "no pairs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if math.Abs(tt.c.median-tt.wantMedian) > 1e-9 || math.Abs(tt.c.halfSpread()-tt.wantHalfSpread) > 1e-9 {
				t.Errorf("median %v, half spread %v; want %v, %v", tt.c.median, tt.c.halfSpread(), tt.wantMedian, tt.wantHalfSpread)
			}
			met, why := tt.c.notSlower(tt.tolerance)
			if met != tt.wantMet || why != tt.wantWhy {
				t.Errorf("notSlower(%v) = %v, %q; want %v, %q", tt.tolerance, met, why, tt.wantMet, tt.wantWhy)
			}
		})
	}
}

// window makes a phase that completed n requests in one second, with graphd's CPU per request and a p99.
func window(kind requestKind, n int, cpu, p99 time.Duration) phase {
	return phase{kind: kind, conns: ratioConns, res: loadResult{completed: n, steps: n * kind.steps(), window: time.Second},
		lat: summary{p99: p99}, cost: cost{graphd: cpu}}
}

func pgbenchWindow(tps float64) pgbenchPhase { return pgbenchPhase{run: pgbenchRun{tps: tps}} }

func TestMedianOfRounds(t *testing.T) {
	t.Parallel()
	off := window(kindPatch, 1100, 200*time.Microsecond, 0)
	rs := []round{
		{patch: window(kindPatch, 600, 140*time.Microsecond, 0), update: pgbenchWindow(1000), authOff: &off,
			get: window(kindGet, 3000, 70*time.Microsecond, 0), sel: pgbenchWindow(6000)},
		{patch: window(kindPatch, 900, 160*time.Microsecond, 0), update: pgbenchWindow(1000),
			get: window(kindGet, 4000, 90*time.Microsecond, 0), sel: pgbenchWindow(8000)},
		{patch: window(kindPatch, 700, 100*time.Microsecond, 0), update: pgbenchWindow(2000),
			get: window(kindGet, 5000, 80*time.Microsecond, 0), sel: pgbenchWindow(5000)},
	}
	m := medianOfRounds(rs)
	// The ratio is the median of the rounds' ratios (0.6, 0.9, 0.35), not the ratio of the medians (700 ÷ 1000).
	if m.n != 3 || m.patchRPS != 700 || m.updateTPS != 1000 || m.patchRatio != 0.6 || m.patchCPU != 140*time.Microsecond {
		t.Errorf("PATCH medians = %+v", m)
	}
	if m.getRPS != 4000 || m.selectTPS != 6000 || m.getRatio != 0.5 || m.getCPU != 80*time.Microsecond {
		t.Errorf("GET medians = %+v", m)
	}
	if m.authOffRPS != 1100 || m.authOffRatio != 1.1 || m.adminRPS != 0 || m.patchDone != 600 || m.getDone != 3000 {
		t.Errorf("variants = %+v", m)
	}
}

func TestTargets(t *testing.T) {
	t.Parallel()
	good := roundMedians{n: 3, patchRatio: 0.64, patchCPU: 150 * time.Microsecond, getCPU: 79 * time.Microsecond, patchDone: 100, getDone: 100}
	p8 := window(kindPatch, 100, 0, 9*time.Millisecond)
	slowP8 := window(kindPatch, 100, 0, 10*time.Millisecond)
	batch := func(ratios ...float64) []batchLevel {
		l := batchLevel{conns: 8}
		for _, r := range ratios {
			l.singles = append(l.singles, window(kindPatch, 1000, 0, 0))
			l.batches = append(l.batches, window(kindBatch, int(50*r), 0, 0))
		}
		return []batchLevel{l}
	}
	baseline := func(ratios ...float64) *baselineResult {
		l := baselineLevel{conns: 32}
		for _, r := range ratios {
			l.old = append(l.old, window(kindPatch, 1000, 0, 0))
			l.new = append(l.new, window(kindPatch, int(1000*r), 0, 0))
		}
		return &baselineResult{levels: []baselineLevel{l}}
	}
	tests := []struct {
		name string
		in   targetInputs
		want []string // the summary lines
	}{
		{"AllMet", targetInputs{rounds: good, p99: &p8, peakHWM: 40 << 10, batches: batch(1.1, 1.0), baseline: baseline(0.97, 1.0, 0.99, 1.01, 0.96)}, []string{
			"target patch_ratio_at_32=0.64 want>=0.60 met",
			"target graphd_cpu_us_per_patch_at_32=150 want<=150 met",
			"target p99_ms_at_8=9.00 want<10 met",
			"target rss_peak_mib=40.0 want<64 met",
			"target graphd_cpu_us_per_get_at_32=79 want<=80 met",
			"target batch_vs_single_at_8=1.05 want>=1.00 met",
			"target baseline_new_vs_old_at_32=0.990 want>=0.95 met (within 5%)",
		}},
		{"NoneMet", targetInputs{rounds: roundMedians{n: 3, patchRatio: 0.59, patchCPU: 151 * time.Microsecond, getCPU: 81 * time.Microsecond, patchDone: 1, getDone: 1},
			p99: &slowP8, peakHWM: 64 << 10, batches: batch(0.9, 0.92), baseline: baseline(0.9, 0.91, 0.9, 0.89, 0.92)}, []string{
			"target patch_ratio_at_32=0.59 want>=0.60 not met",
			"target graphd_cpu_us_per_patch_at_32=151 want<=150 not met",
			"target p99_ms_at_8=10.00 want<10 not met",
			"target rss_peak_mib=64.0 want<64 not met",
			"target graphd_cpu_us_per_get_at_32=81 want<=80 not met",
			"target batch_vs_single_at_8=0.91 want>=1.00 not met (slower by more than the pairs' spread)",
			"target baseline_new_vs_old_at_32=0.900 want>=0.95 not met (slower by more than 5% and than the pairs' spread)",
		}},
		{"NoRequestsIsNotAPass", targetInputs{rounds: roundMedians{n: 3}, peakHWM: 30 << 10}, []string{
			"target patch_ratio_at_32=0.00 want>=0.60 not met (no request completed in a window)",
			"target graphd_cpu_us_per_patch_at_32=0 want<=150 not met (no request completed in a window)",
			"target p99_ms_at_8=- want<10 not met (not measured: -conns lacks 8)",
			"target rss_peak_mib=30.0 want<64 met",
			"target graphd_cpu_us_per_get_at_32=0 want<=80 not met (no request completed in a window)",
		}},
		{"BaselineWithinSpread", targetInputs{peakHWM: 1, baseline: baseline(0.8, 1.0, 0.9, 0.7, 1.02)}, []string{
			"target p99_ms_at_8=- want<10 not met (not measured: -conns lacks 8)",
			"target rss_peak_mib=0.0 want<64 met",
			"target baseline_new_vs_old_at_32=0.900 want>=0.95 met (within the pairs' spread)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, r := range targets(tt.in) {
				got = append(got, r.summaryLine())
				if !strings.HasPrefix(r.verdict(), verdict(r.met)) || r.want() == "" || r.label == "" {
					t.Errorf("%s: verdict %q, want %q, label %q", r.key, r.verdict(), r.want(), r.label)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("targets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestTargetResultText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		r         targetResult
		wantValue string
		wantWant  string
		wantVerd  string
	}{
		{"Micros", targetResult{figure: "140", unit: "µs", op: "<=", limit: "150", met: true}, "140 µs", "≤ 150 µs", "met"},
		{"Ratio", targetResult{figure: "0.55", op: ">=", limit: "0.60"}, "0.55", "≥ 0.60", "not met"},
		{"Spread", targetResult{figure: "0.930", detail: "(-7.0%)", op: ">=", limit: "0.95", spread: true, met: true, why: "within the pairs' spread"},
			"0.930 (-7.0%)", "≥ 0.95, or within the pairs' spread", "met (within the pairs' spread)"},
		{"Less", targetResult{figure: "12.00", unit: "ms", op: "<", limit: "10"}, "12.00 ms", "< 10 ms", "not met"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if v, w, d := tt.r.value(), tt.r.want(), tt.r.verdict(); v != tt.wantValue || w != tt.wantWant || d != tt.wantVerd {
				t.Errorf("value %q, want %q, verdict %q; want %q, %q, %q", v, w, d, tt.wantValue, tt.wantWant, tt.wantVerd)
			}
		})
	}
}
