package httpapi

import (
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMetricsSeriesCache: the cached series count what the vectors would, and the cache stops growing at its
// bound while requests beyond it are still counted.
func TestMetricsSeriesCache(t *testing.T) {
	m := newMetrics(prometheus.NewRegistry())
	for range 3 {
		m.observe("/beta/x/{id}", "PATCH", 200, "", time.Millisecond)
	}
	m.observe("/beta/x/{id}", "PATCH", 404, "", time.Millisecond)
	m.observe("/beta/x/{id}", "GET", 500, "internalServerError", time.Millisecond)
	for _, tc := range []struct {
		method string
		status int
		want   float64
	}{{"PATCH", 200, 3}, {"PATCH", 404, 1}, {"GET", 500, 1}, {"GET", 200, 0}} {
		if got := testutil.ToFloat64(m.requests.WithLabelValues("/beta/x/{id}", tc.method, strconv.Itoa(tc.status))); got != tc.want {
			t.Errorf("%s %d: %v requests, want %v", tc.method, tc.status, got, tc.want)
		}
	}
	if got := testutil.ToFloat64(m.failed.WithLabelValues("internalServerError")); got != 1 {
		t.Errorf("failed: %v, want 1", got)
	}
	if got := testutil.CollectAndCount(m.duration); got != 2 {
		t.Errorf("%d latency series, want 2 (PATCH and GET)", got)
	}

	for i := range maxCachedSeries + 100 {
		m.observe("/beta/y", "M"+strconv.Itoa(i), 200, "", time.Millisecond)
		m.observe("/beta/y", "M"+strconv.Itoa(i), 200, "", time.Millisecond)
	}
	if n := m.nSeries.Load(); n != maxCachedSeries {
		t.Errorf("%d cached series, want the bound %d", n, maxCachedSeries)
	}
	last := "M" + strconv.Itoa(maxCachedSeries+99)
	if got := testutil.ToFloat64(m.requests.WithLabelValues("/beta/y", last, "200")); got != 2 {
		t.Errorf("a series beyond the cache: %v requests, want 2", got)
	}
}
