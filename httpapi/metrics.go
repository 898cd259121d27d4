package httpapi

import (
	"net/http"
	"strconv"
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
}

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
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(elapsed.Seconds())
	if status >= 500 {
		m.failed.WithLabelValues(code).Inc()
	}
}

func (s *server) handleMetrics() http.Handler {
	return promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
}
