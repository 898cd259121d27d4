package store

import (
	"context"
	"errors"
	"io"
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
	if errors.As(err, &pgErr) {
		if e := limitError(pgErr); e != nil {
			return &clientError{err: e, cause: err}
		}
	}
	if unavailable(err) {
		return &unavailableError{cause: err}
	}
	return err
}

// limitError maps the errors a value can cause in PostgreSQL, rather than a bug or an outage, to a 4xx: every
// value the payload parsers accept should be stored, but should a limit remain, the client learns which, and
// nothing is half-written (each statement is atomic).
func limitError(e *pgconn.PgError) *odata.Error {
	switch e.Code {
	case "23503": // foreign_key_violation: only samples refer to other rows
		return odata.Errorf(odata.KindInvalid, odata.CodeModelValidationFailure,
			"A health-metric sample refers to a connector that does not exist in this tenant.")
	case "23505": // unique_violation
		return odata.Errorf(odata.KindConflict, odata.CodeConflict, "An entity with the same key already exists.")
	case "54000": // program_limit_exceeded, such as an index row too large
		return odata.Errorf(odata.KindInvalid, odata.CodeModelValidationFailure,
			"A value is too large for the database to index or store; shorten it.")
	case "54001": // statement_too_complex: a query nesting thousands of levels exhausts the server's stack
		return odata.Errorf(odata.KindInvalid, odata.CodeBadRequest,
			"The query nests too deeply for the database to evaluate; simplify $filter or $orderby.")
	case "22001", "22003", "22008", "22P05", "22021", "23502", "23514", "22P02":
		// string too long, numeric or datetime out of range, untranslatable character, invalid byte sequence,
		// not-null or check violation, invalid text representation
		return odata.Errorf(odata.KindInvalid, odata.CodeModelValidationFailure,
			"A value cannot be stored: it is outside what the property allows.")
	}
	return nil
}

// clientError is a database refusal of a value, kept with its cause for the server log.
type clientError struct {
	err   *odata.Error
	cause error
}

func (e *clientError) Error() string   { return e.err.Error() + " (" + e.cause.Error() + ")" }
func (e *clientError) Unwrap() []error { return []error{e.err, e.cause} }

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
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
	// An unexpected EOF is a connection the server closed mid-answer (an immediate shutdown or a crash).
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) ||
		pgconn.SafeToRetry(err) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF)
}

// unavailableError is odata.ErrUnavailable that keeps its cause for the server log.
type unavailableError struct{ cause error }

func (e *unavailableError) Error() string { return "database unavailable: " + e.cause.Error() }

func (e *unavailableError) Unwrap() []error { return []error{odata.ErrUnavailable, e.cause} }
