// Package odata is graphd's vocabulary: the certificateConnectorDetails entity model, Edm values, the parsing
// of request payloads into typed partial updates, the OData JSON encoding, and the errors the domain speaks in.
// It knows nothing of HTTP or SQL and imports no other project package.
package odata

import (
	"errors"
	"fmt"
)

// Kind classifies an error; httpapi maps each kind to one HTTP status in one place.
type Kind uint8

const (
	KindInternal           Kind = iota // a bug or an unexpected failure: never caused by client input
	KindInvalid                        // the request is malformed or fails validation (400)
	KindNotFound                       // the addressed entity does not exist in the caller's tenant (404)
	KindConflict                       // the request conflicts with the current state (409)
	KindPreconditionFailed             // an If-Match tag no longer matches (412)
	KindUnavailable                    // the database cannot be reached right now (503)
)

// Graph error codes used in the envelope's "code" member.
const (
	CodeBadRequest             = "BadRequest"
	CodeModelValidationFailure = "ModelValidationFailure"
	CodeResourceNotFound       = "ResourceNotFound"
	CodeConflict               = "Conflict"
	CodePreconditionFailed     = "PreconditionFailed"
	CodeInternalServerError    = "InternalServerError"
	CodeServiceNotAvailable    = "serviceNotAvailable"
)

// Error is an error a client may see: its Code and Message go into the Graph error envelope verbatim, so
// Message is plain human text and never an internal err.Error().
type Error struct {
	Kind    Kind
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an *Error with a formatted message.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Sentinels for the store and the handlers; compare with errors.Is.
var (
	ErrNotFound           = &Error{Kind: KindNotFound, Code: CodeResourceNotFound, Message: "The requested resource does not exist."}
	ErrPreconditionFailed = &Error{Kind: KindPreconditionFailed, Code: CodePreconditionFailed, Message: "The entity tag in the If-Match header does not match the current version of the resource."}
	ErrUnavailable        = &Error{Kind: KindUnavailable, Code: CodeServiceNotAvailable, Message: "The service is temporarily unavailable. Retry the request later."}
)

// ErrorKind returns the kind of err: that of the first *Error in its chain, else KindInternal.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// invalid is the validation error of a request payload.
func invalid(format string, args ...any) *Error {
	return Errorf(KindInvalid, CodeModelValidationFailure, format, args...)
}

// badRequest is the error for a request that cannot be read at all (malformed JSON, a bad query).
func badRequest(format string, args ...any) *Error {
	return Errorf(KindInvalid, CodeBadRequest, format, args...)
}
