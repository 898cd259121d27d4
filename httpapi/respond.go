package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

// httpError is an error of the HTTP layer itself (routing, headers, sizes); domain errors are *odata.Error.
type httpError struct {
	status  int
	code    string
	message string
}

func (e *httpError) Error() string { return e.code + ": " + e.message }

func errUnknownSegment(seg string) error {
	return &httpError{http.StatusBadRequest, odata.CodeBadRequest, "Resource not found for the segment '" + quoteText(seg) + "'."}
}

// quoteText shortens client text quoted in a message, so that a huge name cannot make a huge error.
func quoteText(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func errMethodNotAllowed(method string) error {
	return &httpError{http.StatusMethodNotAllowed, "MethodNotAllowed", "The HTTP method '" + quoteText(method) + "' is not allowed on the resource."}
}

var (
	errNotAcceptable = &httpError{http.StatusNotAcceptable, "NotAcceptable",
		"The requested media type is not supported: this resource is served as application/json."}
	errTooLarge = &httpError{http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
		"The request body is larger than the server accepts."}
	errBadEncoding = &httpError{http.StatusBadRequest, odata.CodeBadRequest,
		"The request body could not be decompressed according to its Content-Encoding."}
	errUnreadableBody = &httpError{http.StatusBadRequest, odata.CodeBadRequest,
		"The request body could not be read."}
	errInternal = &httpError{http.StatusInternalServerError, odata.CodeInternalServerError,
		"An internal server error occurred. Quote the request-id when you report it."}
)

func errUnsupportedMediaType(msg string) error {
	return &httpError{http.StatusUnsupportedMediaType, "UnsupportedMediaType", msg}
}

// statusOf is the one table from domain error kinds to HTTP statuses.
var statusOf = map[odata.Kind]int{
	odata.KindInvalid:            http.StatusBadRequest,
	odata.KindNotFound:           http.StatusNotFound,
	odata.KindConflict:           http.StatusConflict,
	odata.KindPreconditionFailed: http.StatusPreconditionFailed,
	odata.KindUnavailable:        http.StatusServiceUnavailable,
}

// retryAfterSeconds is what a 503 asks clients to wait.
const retryAfterSeconds = "5"

// error writes err as a Graph error envelope. It is the only place errors become responses: internal errors are
// logged with the request id and shown to the client only as a generic 500.
func (s *server) error(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := http.StatusInternalServerError, odata.CodeInternalServerError, errInternal.message
	var he *httpError
	var oe *odata.Error
	switch {
	case errors.As(err, &he):
		status, code, msg = he.status, he.code, he.message
	case errors.As(err, &oe) && statusOf[oe.Kind] != 0:
		status, code, msg = statusOf[oe.Kind], oe.Code, oe.Message
	case store.Retryable(err):
		// A deadlock or serialization failure: nothing was applied, and the same request again will likely pass.
		status, code, msg = http.StatusServiceUnavailable, odata.CodeServiceNotAvailable, odata.ErrUnavailable.Message
		if st := stepFrom(r.Context()); st != nil {
			st.state.retryable = true
		}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads this response.
		status, code, msg = 499, "ClientClosedRequest", "The client closed the request."
	}
	info := requestInfoFrom(r.Context())
	switch {
	case info.fault != "":
		// An injected fault: the test asked for it; nothing to log.
	case status >= 500 && status != http.StatusServiceUnavailable:
		s.log.ErrorContext(r.Context(), "internal error", "request_id", info.requestID, "error", err.Error())
	case status == http.StatusServiceUnavailable:
		s.log.WarnContext(r.Context(), "database unavailable", "request_id", info.requestID, "error", err.Error())
	}
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	info.errorCode = code
	b := getBuffer()
	defer putBuffer(b)
	*b = appendErrorEnvelope((*b)[:0], code, msg, s.cfg.Now().UTC().Format("2006-01-02T15:04:05"), info.requestID, info.clientRequestID)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(*b)))
	h.Del("ETag")
	w.WriteHeader(status)
	writeBody(w, r, *b)
}

// writeBody writes a response body except to HEAD, whose response has the headers of GET and no body. net/http
// drops the body itself, but not every ResponseWriter does.
func writeBody(w http.ResponseWriter, r *http.Request, b []byte) {
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

func appendErrorEnvelope(b []byte, code, msg, date, requestID, clientRequestID string) []byte {
	b = append(b, `{"error":{"code":`...)
	b = odata.AppendJSONString(b, code)
	b = append(b, `,"message":`...)
	b = odata.AppendJSONString(b, msg)
	b = append(b, `,"innerError":{"date":`...)
	b = odata.AppendJSONString(b, date)
	b = append(b, `,"request-id":`...)
	b = odata.AppendJSONString(b, requestID)
	b = append(b, `,"client-request-id":`...)
	b = odata.AppendJSONString(b, clientRequestID)
	return append(b, `}}}`...)
}

// writeEntity writes one entity of set with its ETag, limited to a $select set (0: every property). redact shows
// secret properties as reads do.
func (s *server) writeEntity(w http.ResponseWriter, r *http.Request, status int, set *odata.EntitySet, e *odata.Entity, f format, sel uint64, redact bool) {
	b := getBuffer()
	defer putBuffer(b)
	*b = odata.AppendEntity((*b)[:0], set, e, odata.EntityOptions{ServiceRoot: s.serviceRoot(r), Metadata: f.meta,
		Context: true, Select: sel, Redact: redact, IEEE754Compatible: f.ieee754})
	h := w.Header()
	h.Set("Content-Type", f.contentType())
	h.Set("Content-Length", strconv.Itoa(len(*b)))
	h.Set("ETag", odata.ETag(e.Version))
	w.WriteHeader(status)
	writeBody(w, r, *b)
}

var bufferPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func getBuffer() *[]byte { return bufferPool.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= 64<<10 {
		bufferPool.Put(b)
	}
}
