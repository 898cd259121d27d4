package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// executor is what the store's operations send statements through: the pool, or one transaction when several
// operations must commit or fail together (InTx).
type executor interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// transact runs fn in a transaction and commits it, retrying a few times when PostgreSQL reports a
// serialization failure or deadlock, which a retry resolves. Errors come back translated. Inside InTx it runs
// fn on that transaction, whose owner commits and retries.
func (s *Store) transact(ctx context.Context, fn func(pgx.Tx) error) error {
	if tx, ok := s.db.(pgx.Tx); ok {
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

// InTx runs fn with a Store whose every operation runs on one transaction at READ COMMITTED, and commits when fn
// returns nil; any error rolls everything back. It does not retry: the caller decides (see Retryable), since
// what fn did besides the store may not be repeatable. Errors fn returns pass through untranslated.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	if _, ok := s.db.(pgx.Tx); ok {
		return fn(s)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return translate(err)
	}
	txs := *s
	txs.db = tx
	if err := fn(&txs); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	return translate(tx.Commit(ctx))
}
