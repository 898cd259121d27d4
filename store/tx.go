package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// executor is what the store's operations send statements through: the pool, or the transaction of InTx.
type executor interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

type txKey struct{}

// db is the executor of an operation: the transaction ctx carries (InTx), else the pool. Every operation sends
// all its statements through it, failure-path reads included, so inside InTx nothing takes a second connection.
func (s *Store) db(ctx context.Context) executor {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		return tx
	}
	return s.pool
}

// transact runs fn in a transaction and commits it, retrying a few times when PostgreSQL reports a
// serialization failure or deadlock, which a retry resolves. Errors come back translated. Inside InTx it runs
// fn on that transaction, whose owner commits and retries.
func (s *Store) transact(ctx context.Context, fn func(pgx.Tx) error) error {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		return translate(fn(tx))
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = pgx.BeginFunc(ctx, s.pool, fn)
		if !Retryable(err) {
			break
		}
	}
	return translate(err)
}

// Retryable reports whether err is a serialization failure or deadlock, which running the transaction again
// resolves.
func Retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// InTx runs fn with a context under which every operation of the store runs on one transaction, at READ
// COMMITTED, and commits when fn returns nil; an error from fn or the commit rolls everything back. It does not
// retry: the caller decides (see Retryable), since what fn did besides the store may not be repeatable. fn's
// error comes back as it is; a commit failure comes back translated, and still answers Retryable. Nested, it
// joins the outer transaction.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		return fn(ctx)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return translate(err)
	}
	if err := fn(context.WithValue(ctx, txKey{}, tx)); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return &commitError{err: translate(err), cause: err}
	}
	return nil
}

// commitError is a failed commit: translated for clients, with the driver's error kept for Retryable.
type commitError struct{ err, cause error }

func (e *commitError) Error() string   { return e.err.Error() }
func (e *commitError) Unwrap() []error { return []error{e.err, e.cause} }
