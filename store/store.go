// Package store keeps the entity sets of the odata model in PostgreSQL through pgx. It derives its SQL from the
// model (model.go: identifiers only from there, values only as parameters) and translates driver errors into
// odata errors once, in errors.go.
package store

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/graphd/graphd/odata"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options tune the connection pool; zero values take the defaults.
type Options struct {
	// MaxConns bounds the pool (default DefaultMaxConns, what a test or an embedded library should take; graphd
	// serve sizes its own pool for throughput, see docs/performance.md). MinConns connections are opened at
	// start and kept open, so the first requests and those after a database restart find one ready (default
	// min(2, MaxConns); never more than MaxConns).
	MaxConns, MinConns int32
	ConnectTimeout     time.Duration // default 5 s: a dead database must fail requests quickly
	// StatementTimeout bounds each statement on the server (default 15 s), so a stuck query frees its
	// connection even if the client's context never ends.
	StatementTimeout time.Duration
	// Model is the entity model whose sets the database holds; default odata.Graph().
	Model *odata.Model
}

// DefaultMaxConns is the pool size of a Store opened without one.
const DefaultMaxConns = 4

// Store is the Postgres-backed repository of the model's entity sets.
type Store struct {
	pool  *pgxpool.Pool
	model *odata.Model
	sets  []*entitySQL // by EntitySet.Index

	stopWarm chan struct{} // closed by Close: ends keepWarm
	warmDone chan struct{} // closed when keepWarm has returned
	closing  sync.Once
}

// Open connects a pool to dsn (a URL or key=value connection string) and checks that the database answers.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse DATABASE_URL: %w", err)
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	cfg.MaxConns = opts.MaxConns
	if opts.MinConns <= 0 {
		opts.MinConns = min(2, opts.MaxConns)
	}
	cfg.MinConns = min(opts.MinConns, opts.MaxConns)
	// The pool tops itself up to MinConns at every health check, and keepWarm drops the idle connections a
	// database restart broke: soon after a restart, the warm connections are back before requests need them.
	cfg.HealthCheckPeriod = healthCheckPeriod
	if opts.ConnectTimeout == 0 {
		opts.ConnectTimeout = 5 * time.Second
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > opts.ConnectTimeout {
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	}
	if opts.StatementTimeout == 0 {
		opts.StatementTimeout = 15 * time.Second
	}
	if _, set := cfg.ConnConfig.RuntimeParams["statement_timeout"]; !set {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	}
	if opts.Model == nil {
		opts.Model = odata.Graph()
	}
	sets := make([]*entitySQL, len(opts.Model.Sets))
	for i, set := range opts.Model.Sets {
		if sets[i], err = compileSet(set); err != nil {
			return nil, err
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open pool: %w", err)
	}
	s := &Store{pool: pool, model: opts.Model, sets: sets, stopWarm: make(chan struct{}), warmDone: make(chan struct{})}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	go s.keepWarm()
	return s, nil
}

// healthCheckPeriod is how often the pool tops itself up to MinConns and keepWarm checks the idle connections.
const healthCheckPeriod = 5 * time.Second

// keepWarm pings the idle connections every healthCheckPeriod and closes those that do not answer. pgxpool
// counts an idle connection as alive until it is used, so after a database restart its MinConns would be
// broken ones and the pool would not refill; closed, they are replaced at the pool's next health check. An idle
// pool costs MinConns round trips per period; a busy one has few idle connections to ping.
func (s *Store) keepWarm() {
	defer close(s.warmDone)
	t := time.NewTicker(healthCheckPeriod)
	defer t.Stop()
	for {
		select {
		case <-s.stopWarm:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		for _, c := range s.pool.AcquireAllIdle(ctx) {
			if err := c.Ping(ctx); err != nil {
				_ = c.Conn().Close(ctx)
			}
			c.Release()
		}
		cancel()
	}
}

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() {
	s.closing.Do(func() {
		close(s.stopWarm)
		<-s.warmDone
		s.pool.Close()
	})
}

// Pool exposes the pool to the migrator and to tests.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping reports whether the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db(ctx).QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return translate(err)
	}
	return nil
}

// Model is the entity model the store serves.
func (s *Store) Model() *odata.Model { return s.model }

func (s *Store) sql(set *odata.EntitySet) *entitySQL { return s.sets[set.Index] }
