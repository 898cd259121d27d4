package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
)

type ctxKey int

const (
	requestInfoKey ctxKey = iota
	stepKey
)

// requestInfo is filled in as a request passes through the layers and read by the access log.
type requestInfo struct {
	requestID       string
	clientRequestID string
	route           string
	tenant          string
	errorCode       string
	stepID          string // the id of a $batch request, which shares its batch's request-id
	caller          Caller // who the request acts for, once authorized
	fault           string // the id of the fault that fired for the request
	body            []byte // the request's decoded body, for the journal (only while it is on)
	// stepEntries are a $batch's requests, journaled after the batch's own entry.
	stepEntries []JournalEntry
}

func requestInfoFrom(ctx context.Context) *requestInfo {
	if info, ok := ctx.Value(requestInfoKey).(*requestInfo); ok {
		return info
	}
	return &requestInfo{}
}

// maxClientRequestID bounds the echoed client-request-id, which clients choose freely.
const maxClientRequestID = 128

// withRequestInfo gives every response, errors included, its request-id and client-request-id, and the
// OData-Version header, and bounds the request's work by a deadline that reaches the database. Both ride in one
// new context, so the request is copied once.
func (s *server) withRequestInfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := &requestInfo{route: "unmatched"}
		if st := stepFrom(r.Context()); st != nil {
			info.requestID, info.stepID = st.requestID, st.stepID
			st.state.info = info
		} else {
			info.requestID = s.cfg.NewRequestID()
		}
		info.clientRequestID = r.Header.Get("client-request-id")
		if info.clientRequestID == "" || len(info.clientRequestID) > maxClientRequestID {
			info.clientRequestID = info.requestID
		}
		// Assigned directly to keep Graph's spelling on the wire; Set would canonicalize to Request-Id.
		h := w.Header()
		h["request-id"] = []string{info.requestID}
		h["client-request-id"] = []string{info.clientRequestID}
		h["OData-Version"] = []string{"4.0"}
		h["Cache-Control"] = []string{"no-cache"}
		ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), requestInfoKey, info), s.cfg.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withRecovery turns a panic into a 500 envelope (if nothing was written yet) and a log line with the stack.
func (s *server) withRecovery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw, ok := w.(*statusWriter)
		if !ok {
			rw = &statusWriter{ResponseWriter: w}
		}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			info := requestInfoFrom(r.Context())
			s.log.ErrorContext(r.Context(), "panic", "request_id", info.requestID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !rw.wroteHeader {
				s.error(rw, r, errInternal)
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

// withAccessLog logs one line per request. It never logs a body or the Authorization header.
func (s *server) withAccessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw, ok := w.(*statusWriter)
		if !ok {
			rw = &statusWriter{ResponseWriter: w}
		}
		next.ServeHTTP(rw, r)
		info := requestInfoFrom(r.Context())
		status := rw.status
		if status == 0 {
			status = http.StatusOK
		}
		elapsed := time.Since(start)
		s.metrics.observe(info.route, r.Method, status, info.errorCode, elapsed)
		// A $batch's requests are journaled by the batch, once each, whatever their atomicity group's attempts.
		if s.journal != nil && info.stepID == "" && strings.HasPrefix(r.URL.Path, serviceRootPath+"/") {
			s.record(r, info, status, start, elapsed)
		}
		if h := s.log.Handler(); h.Enabled(r.Context(), slog.LevelInfo) {
			// The record is built here rather than by Logger.LogAttrs, which walks the stack for a source
			// position per line that no handler of graphd's prints; typed attributes box no value.
			rec := slog.NewRecord(start.Add(elapsed), slog.LevelInfo, "request", 0)
			rec.AddAttrs(
				slog.String("request_id", info.requestID),
				slog.String("batch_step", info.stepID),
				slog.String("client_request_id", info.clientRequestID),
				slog.String("tenant", info.tenant),
				slog.String("method", r.Method),
				slog.String("route", info.route),
				slog.Int("status", status),
				slog.String("error_code", info.errorCode),
				slog.Int64("bytes", rw.bytes),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			)
			_ = h.Handle(r.Context(), rec) // the buffered access log does not fail; a handler error has nowhere to go
		}
	})
}

// named notes a route's template for the access log and metrics; the template is worked out once, when the
// route is registered.
func (s *server) named(tpl string, next http.Handler) http.Handler {
	tpl = plainTemplate(tpl)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requestInfoFrom(r.Context()).route = tpl
		next.ServeHTTP(w, r)
	})
}

// plainTemplate drops the patterns of a route template's variables, "('{qid:[^/]*}')" → "('{qid}')", so that
// logs and metrics name routes as the API documents them.
func plainTemplate(tpl string) string {
	if strings.IndexByte(tpl, ':') < 0 {
		return tpl
	}
	b := make([]byte, 0, len(tpl))
	depth, skip := 0, false
	for i := 0; i < len(tpl); i++ {
		c := tpl[i]
		switch {
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				skip = false
			}
		case c == ':' && depth == 1:
			skip = true
		}
		if !skip {
			b = append(b, c)
		}
	}
	return string(b)
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// record adds a request to the journal.
func (s *server) record(r *http.Request, info *requestInfo, status int, start time.Time, elapsed time.Duration) {
	// The path in its canonical spelling, as fault patterns and routes see it.
	path, _ := canonicalPath(s.model, r.URL.Path)
	e := JournalEntry{Time: start.UTC(), RequestID: info.requestID, ClientRequestID: info.clientRequestID,
		Method: r.Method, Path: path, Query: r.URL.RawQuery, Status: status,
		DurationMs: float64(elapsed.Microseconds()) / 1000, RequestBody: journalBody(info.body)}
	if info.tenant != "" {
		e.Tenant = &info.tenant
	}
	if info.fault != "" {
		e.Fault = &info.fault
	}
	s.journal.add(e)
	for _, step := range info.stepEntries {
		s.journal.add(step)
	}
}
