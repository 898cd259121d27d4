package store

import (
	"context"
	"errors"
	"net"

	"github.com/graphd/graphd/odata"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// translate maps a driver error to the domain's: a missing row is odata.ErrNotFound, a database that cannot be
// reached or is shutting down is odata.ErrUnavailable (wrapping the cause for the log). Anything else stays an
// internal error. Cancellation by the caller passes through unchanged.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return odata.ErrNotFound
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return odata.Errorf(odata.KindInvalid, odata.CodeModelValidationFailure,
			"A health-metric sample refers to a connector that does not exist in this tenant.")
	}
	if unavailable(err) {
		return &unavailableError{cause: err}
	}
	return err
}

func unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case len(pgErr.Code) == 5 && pgErr.Code[:2] == "08": // connection exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03": // shutdown, crash, starting up
			return true
		case pgErr.Code == "53300": // too many connections
			return true
		case pgErr.Code == "57014": // statement timeout: the database is too slow to answer now
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) ||
		pgconn.SafeToRetry(err) || errors.Is(err, net.ErrClosed)
}

// unavailableError is odata.ErrUnavailable that keeps its cause for the server log.
type unavailableError struct{ cause error }

func (e *unavailableError) Error() string { return "database unavailable: " + e.cause.Error() }

func (e *unavailableError) Unwrap() []error { return []error{odata.ErrUnavailable, e.cause} }
