package main

import (
	"github.com/graphd/graphd/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// newRegistry is the Prometheus registry /metrics serves: Go runtime and process metrics, the database pool's
// statistics, and (registered by httpapi) the request series.
func newRegistry(st *store.Store) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	pool := st.Pool()
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	reg.MustRegister(
		gauge("graphd_db_pool_max_conns", "Most connections the pool opens.", func() float64 { return float64(pool.Stat().MaxConns()) }),
		gauge("graphd_db_pool_total_conns", "Connections open.", func() float64 { return float64(pool.Stat().TotalConns()) }),
		gauge("graphd_db_pool_acquired_conns", "Connections in use.", func() float64 { return float64(pool.Stat().AcquiredConns()) }),
		gauge("graphd_db_pool_idle_conns", "Connections idle.", func() float64 { return float64(pool.Stat().IdleConns()) }),
		counter("graphd_db_pool_acquires_total", "Connections taken from the pool.", func() float64 { return float64(pool.Stat().AcquireCount()) }),
		counter("graphd_db_pool_empty_acquires_total", "Acquires that had to wait for a connection.", func() float64 { return float64(pool.Stat().EmptyAcquireCount()) }),
		counter("graphd_db_pool_canceled_acquires_total", "Acquires given up by their request.", func() float64 { return float64(pool.Stat().CanceledAcquireCount()) }),
		counter("graphd_db_pool_acquire_seconds_total", "Time spent waiting for connections.", func() float64 { return pool.Stat().AcquireDuration().Seconds() }),
	)
	return reg
}
