package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	seq := func(n int) []time.Duration {
		s := make([]time.Duration, n)
		for i := range s {
			s[i] = time.Duration(i + 1)
		}
		return s
	}
	tests := []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"Empty", nil, 50, 0},
		{"One", seq(1), 99, 1},
		{"MedianOdd", seq(5), 50, 3},
		{"MedianEven", seq(4), 50, 2}, // nearest rank: the lower middle
		{"P99Of100", seq(100), 99, 99},
		{"P99Of101", seq(101), 99, 100},
		{"P99Of1000", seq(1000), 99, 990},
		{"P999Of1000", seq(1000), 99.9, 999}, // 99.9 is inexact in binary
		{"P100", seq(7), 100, 7},
		{"TinyP", seq(10), 0.01, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := percentile(tt.samples, tt.p); got != tt.want {
				t.Errorf("percentile(%d samples, %v) = %v, want %v", len(tt.samples), tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarizeSorts(t *testing.T) {
	t.Parallel()
	s := summarize([]time.Duration{5, 1, 4, 2, 3})
	if s.n != 5 || s.p50 != 3 || s.p99 != 5 || s.max != 5 {
		t.Errorf("summarize = %+v, want n=5 p50=3 p99=5 max=5", s)
	}
}
