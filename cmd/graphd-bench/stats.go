package main

import (
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the nearest-rank method: the smallest
// sample that at least p percent of the samples do not exceed. It returns 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// n*p/100 is exact whenever the true rank is an integer (n and p are small integers, or p has few
	// decimals); the epsilon keeps 99.9 % of 1000 at rank 999 rather than 1000 when p itself is inexact.
	rank := int(math.Ceil(float64(len(sorted))*p/100 - 1e-9))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// summary is the latency distribution of one measured window.
type summary struct {
	n             int
	p50, p99, max time.Duration
}

func summarize(samples []time.Duration) summary {
	slices.Sort(samples)
	s := summary{n: len(samples), p50: percentile(samples, 50), p99: percentile(samples, 99)}
	if len(samples) > 0 {
		s.max = samples[len(samples)-1]
	}
	return s
}

// ms renders a duration in milliseconds with two decimals, the unit every table and summary line uses.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 }

// median is the middle value of xs (the mean of the two middle ones for an even count), 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func minOf(xs []float64) float64 { return slices.Min(xs) }
func maxOf(xs []float64) float64 { return slices.Max(xs) }

// medianDuration is median for durations.
func medianDuration(ds []time.Duration) time.Duration {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	return time.Duration(median(xs))
}
