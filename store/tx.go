package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// transact runs fn in a transaction and commits it, retrying a few times when PostgreSQL reports a
// serialization failure or deadlock, which a retry resolves. Errors come back translated.
func (s *Store) transact(ctx context.Context, fn func(pgx.Tx) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = pgx.BeginFunc(ctx, s.pool, fn)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != "40001" && pgErr.Code != "40P01") {
			break
		}
	}
	return translate(err)
}
