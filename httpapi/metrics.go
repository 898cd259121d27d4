package httpapi

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus series graphd exports at /metrics.
type metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	throttled prometheus.Counter
	failed    *prometheus.CounterVec

	// series caches the request counter and latency histogram of each route, method and status, so that a
	// request costs one map lookup instead of the vectors' label hashing and locking. At most maxCachedSeries
	// are kept; further combinations (unusual methods, say) go through the vectors each time.
	series  sync.Map // seriesKey → *requestSeries
	nSeries atomic.Int32
}

type seriesKey struct {
	route, method string
	status        int
}

type requestSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

const maxCachedSeries = 1024

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "graphd_http_requests_total", Help: "HTTP requests by route template, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "graphd_http_request_duration_seconds", Help: "HTTP request latency by route template and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "graphd_http_throttled_total", Help: "Requests refused with 429 by the per-tenant rate limit.",
		}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "graphd_http_failed_total", Help: "Requests answered 5xx, by Graph error code.",
		}, []string{"code"}),
	}
	reg.MustRegister(m.requests, m.duration, m.throttled, m.failed)
	return m
}

func (m *metrics) observe(route, method string, status int, code string, elapsed time.Duration) {
	rs := m.seriesFor(seriesKey{route, method, status})
	rs.requests.Inc()
	rs.duration.Observe(elapsed.Seconds())
	if status >= 500 {
		m.failed.WithLabelValues(code).Inc()
	}
}

func (m *metrics) seriesFor(k seriesKey) *requestSeries {
	if v, ok := m.series.Load(k); ok {
		return v.(*requestSeries)
	}
	rs := &requestSeries{
		requests: m.requests.WithLabelValues(k.route, k.method, strconv.Itoa(k.status)),
		duration: m.duration.WithLabelValues(k.route, k.method),
	}
	if m.nSeries.Load() < maxCachedSeries {
		if _, loaded := m.series.LoadOrStore(k, rs); !loaded {
			m.nSeries.Add(1)
		}
	}
	return rs
}

func (s *server) handleMetrics() http.Handler {
	return promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
}
