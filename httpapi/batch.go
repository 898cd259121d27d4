package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

// JSON batching (contract §5.12; Graph's "Combine multiple requests in one HTTP call using JSON batching"), and
// OData 4.01 atomicity groups beyond Graph.
//
// POST /beta/$batch takes {"requests": [{"id", "method", "url", "headers"?, "body"?, "dependsOn"?,
// "atomicityGroup"?}, …]} and answers 200 {"responses": [{"id", "status", "headers", "body"?,
// "atomicityGroup"?}, …]}, in request order. A batch that is not valid JSON or breaks the rules (more than
// MaxBatchRequests requests, a missing id, method or url, ids not unique ignoring case, a dependsOn naming no
// preceding request or group, a group whose requests are not adjacent, an id equal to a group's) is a single 400,
// and no request runs.
//
// Each request is a real request: it is built as an *http.Request under /beta and served by the same handler
// chain as the request sent alone (routing, negotiation, permissions, tenancy, throttling, ETags, Prefer, error
// mapping, access log, metrics), acting for the batch's caller, whose token is checked once. Its own
// Authorization header is ignored.
//
// Requests run as soon as what they depend on has finished: at most batchParallelism at a time, so one batch
// cannot take more than that many database connections. A request whose dependency failed (status >= 400) does
// not run and gets 424. An atomicity group runs its requests one at a time, in order, on one transaction at READ
// COMMITTED: if one fails it keeps its status, the others get 424, and nothing of the group persists. A group
// that meets a deadlock or serialization failure runs again, up to three times, then answers 503.

// MaxBatchRequests is the most requests a batch may hold, as on Graph.
const MaxBatchRequests = 20

// batchParallelism bounds the requests of one batch that run at once.
const batchParallelism = 4

// groupAttempts is how often an atomicity group runs before its requests answer 503.
const groupAttempts = 3

type batchBody struct {
	Requests *[]batchItem `json:"requests"`
}

type batchItem struct {
	ID             json.RawMessage            `json:"id"`
	Method         string                     `json:"method"`
	URL            *string                    `json:"url"`
	Headers        map[string]json.RawMessage `json:"headers"`
	Body           json.RawMessage            `json:"body"`
	DependsOn      []json.RawMessage          `json:"dependsOn"`
	AtomicityGroup string                     `json:"atomicityGroup"`
	If             json.RawMessage            `json:"if"`
}

// batchStep is a validated request of a batch.
type batchStep struct {
	index  int
	id     string // as sent
	method string
	url    string
	header http.Header
	body   []byte
	group  *batchUnit // the unit it runs in
	resp   stepResponse
	state  stepState
	// start and elapsed time the request's last run, for the journal.
	start   time.Time
	elapsed time.Duration
}

// batchUnit is what runs as one: a request alone, or an atomicity group's requests.
type batchUnit struct {
	group     string // "" for a request alone
	steps     []*batchStep
	deps      []*batchUnit
	failed    bool
	failedDep string // the id or group of the dependency that failed
}

// stepResponse is a request's response as the batch reports it.
type stepResponse struct {
	status int
	header http.Header
	body   []byte
	// code and clientRequestID are those of a response made without the handler chain, for its log line.
	code, clientRequestID string
}

// errBatch is the 400 of a batch that cannot run; string arguments are client text, quoted capped.
func errBatch(format string, args ...any) error {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = quoteText(s)
		}
	}
	return &httpError{http.StatusBadRequest, odata.CodeBadRequest, "Invalid batch payload format: " + fmt.Sprintf(format, args...)}
}

// handleBatch serves POST /beta/$batch. It runs after authentication: the caller in the context applies to every
// request of the batch.
func (s *server) handleBatch() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := negotiate(r); err != nil {
			s.error(w, r, err)
			return
		}
		raw, err := s.readJSONBody(w, r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		steps, units, err := parseBatch(raw, s.serviceRoot(r))
		if err != nil {
			s.error(w, r, err)
			return
		}
		s.runBatch(r, units)
		for _, st := range steps {
			if st.state.info == nil {
				s.logUnserved(r, st)
			}
		}
		s.journalSteps(r, steps)
		out := append([]byte(nil), `{"responses":[`...)
		for i, st := range steps {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendStepResponse(out, st)
		}
		out = append(out, "]}"...)
		writeRaw(w, r, "application/json", out)
	})
}

// parseBatch reads and validates a batch, and groups its requests into units.
func parseBatch(raw []byte, serviceRoot string) ([]*batchStep, []*batchUnit, error) {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	dec := json.NewDecoder(bytes.NewReader(raw))
	var body batchBody
	if err := dec.Decode(&body); err != nil {
		return nil, nil, batchDecodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errBatch("the body has data after its JSON object.")
	}
	if body.Requests == nil {
		return nil, nil, errBatch("the body has no 'requests' array.")
	}
	items := *body.Requests
	if len(items) > MaxBatchRequests {
		return nil, nil, errBatch("the batch has %d requests; at most %d are allowed.", len(items), MaxBatchRequests)
	}
	steps := make([]*batchStep, len(items))
	ids := map[string]*batchStep{}    // lower-cased id
	groups := map[string]*batchUnit{} // group name (exact, as OData compares them)
	groupNames := map[string]bool{}   // lower-cased, to refuse an id equal to a group
	var units []*batchUnit
	var open *batchUnit // the group being read, while its requests are adjacent
	for i, it := range items {
		id, err := itemID(it.ID)
		if err != nil {
			return nil, nil, errBatch("the request at index %d %v.", i, err)
		}
		key := strings.ToLower(id)
		if _, dup := ids[key]; dup {
			return nil, nil, errBatch("the request id '%s' is given more than once (ids are compared ignoring case).", id)
		}
		if groupNames[key] {
			return nil, nil, errBatch("the request id '%s' is also the name of an atomicity group.", id)
		}
		st := &batchStep{index: i, id: id}
		ids[key] = st
		steps[i] = st
		method := strings.ToUpper(strings.TrimSpace(it.Method))
		if method == "" {
			return nil, nil, errBatch("request '%s' has no method.", id)
		}
		if !validHeaderName(method) {
			return nil, nil, errBatch("request '%s' has the method '%s', which is not an HTTP method.", id, it.Method)
		}
		st.method = method
		if it.URL == nil || strings.TrimSpace(*it.URL) == "" {
			return nil, nil, errBatch("request '%s' has no url.", id)
		}
		st.url = *it.URL
		if len(it.If) > 0 && string(it.If) != "null" {
			return nil, nil, errBatch("request '%s' has an 'if' condition, which is not supported.", id)
		}
		if st.header, err = itemHeaders(it.Headers); err != nil {
			return nil, nil, errBatch("request '%s': %v.", id, err)
		}
		st.header.Del("Authorization")
		if st.body, err = itemBody(it.Body, st.header); err != nil {
			return nil, nil, errBatch("request '%s': %v.", id, err)
		}
		// The unit the request joins is settled before its dependencies, which are resolved against it: a
		// dependency on an earlier request of the same group is the group's order, any other names a unit.
		var u *batchUnit
		switch g := it.AtomicityGroup; {
		case g == "":
			open = nil
			u = &batchUnit{steps: []*batchStep{st}}
			units = append(units, u)
		case open != nil && open.group == g:
			u = open
			u.steps = append(u.steps, st)
		default:
			if _, seen := groups[g]; seen {
				return nil, nil, errBatch("the requests of the atomicity group '%s' are not adjacent.", g)
			}
			if _, clash := ids[strings.ToLower(g)]; clash {
				return nil, nil, errBatch("the atomicity group '%s' has the name of a request id.", g)
			}
			u = &batchUnit{group: g, steps: []*batchStep{st}}
			groups[g], groupNames[strings.ToLower(g)] = u, true
			open = u
			units = append(units, u)
		}
		st.group = u
		for _, d := range it.DependsOn {
			name, err := itemID(d)
			if err != nil {
				return nil, nil, errBatch("request '%s': a dependsOn value %v.", id, err)
			}
			if g, ok := groups[name]; ok && g != u {
				u.deps = append(u.deps, g)
				continue
			}
			dep, ok := ids[strings.ToLower(name)]
			if !ok || dep == st {
				return nil, nil, errBatch("request '%s' depends on '%s', which is no preceding request or atomicity group.", id, name)
			}
			if dep.group != u {
				u.deps = append(u.deps, dep.group)
			}
		}
	}
	return steps, units, nil
}

// batchDecodeError says what is wrong with a body that does not decode as a batch, in the client's terms.
func batchDecodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) {
		return errBatch("the body is not valid JSON.")
	}
	switch field := typeErr.Field; {
	case field == "":
		return errBatch("the body must be a JSON object with a 'requests' array.")
	case field == "requests":
		return errBatch("'requests' must be an array of request objects.")
	default:
		return errBatch("the member '%s' of a request cannot be a JSON %s.", strings.TrimPrefix(field, "requests."), typeErr.Value)
	}
}

// itemID reads an id: a JSON string, or a number (PowerShell scripts send Get-Random's integers).
func itemID(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", errors.New("has no id")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return "", errors.New("has an empty id")
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return "", errors.New("has an id that is neither a string nor a number")
}

// itemHeaders reads a request's headers: names are case-insensitive (the Go and JS clients send them in lower
// case, PowerShell in title case), values are strings (numbers are taken as their text).
func itemHeaders(h map[string]json.RawMessage) (http.Header, error) {
	out := make(http.Header, len(h))
	for name, raw := range h {
		canonical := http.CanonicalHeaderKey(name)
		if _, dup := out[canonical]; dup {
			return nil, errors.New("the header '" + quoteText(canonical) + "' is given more than once (names are compared ignoring case)")
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			var n json.Number
			if err := json.Unmarshal(raw, &n); err != nil {
				return nil, errors.New("the value of the header '" + quoteText(name) + "' is not a string")
			}
			v = n.String()
		}
		if !validHeaderValue(v) || !validHeaderName(name) {
			return nil, errors.New("the header '" + quoteText(name) + "' has a name or value no HTTP header can have")
		}
		out[canonical] = []string{v}
	}
	return out, nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// itemBody turns a request's body into bytes by its Content-Type, as OData's JSON batch format says: a JSON
// media type's body is the JSON value itself, a text/* body is a JSON string, any other body is base64 (url or
// standard alphabet). null is no body.
func itemBody(raw json.RawMessage, h http.Header) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	switch {
	case mt == "" || mt == "application/json" || strings.HasSuffix(mt, "+json"):
		// Without a Content-Type the body goes on as JSON, and the request answers 415 as it would alone.
		return []byte(raw), nil
	case strings.HasPrefix(mt, "text/"):
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errors.New("a text body must be a JSON string")
		}
		return []byte(s), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, errors.New("a body of type " + quoteText(mt) + " must be a base64 string")
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("a body of type " + quoteText(mt) + " must be base64")
}

// runBatch runs every unit once its dependencies are done, on at most batchParallelism workers: a batch never
// holds more database connections than that, and a worker's stack, grown deep by the handler chain, serves
// request after request instead of each request growing a fresh goroutine's.
func (s *server) runBatch(r *http.Request, units []*batchUnit) {
	if len(units) == 0 {
		return
	}
	// waiting counts the dependencies a unit still waits for; dependents are the units waiting for it.
	waiting := make(map[*batchUnit]int, len(units))
	dependents := make(map[*batchUnit][]*batchUnit, len(units))
	ready := make(chan *batchUnit, len(units)) // never blocks: each unit is sent once
	for _, u := range units {
		for i, d := range u.deps {
			if !slices.Contains(u.deps[:i], d) {
				waiting[u]++
				dependents[d] = append(dependents[d], u)
			}
		}
		if waiting[u] == 0 {
			ready <- u
		}
	}
	var mu sync.Mutex
	left := len(units)
	var wg sync.WaitGroup
	for range min(batchParallelism, len(units)) {
		wg.Go(func() {
			for u := range ready {
				s.runUnit(r, u)
				mu.Lock()
				for _, d := range dependents[u] {
					if waiting[d]--; waiting[d] == 0 {
						ready <- d
					}
				}
				if left--; left == 0 {
					close(ready)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// runUnit runs a unit whose dependencies are done: a 424 for each of its requests when one of them failed.
func (s *server) runUnit(r *http.Request, u *batchUnit) {
	for _, d := range u.deps {
		if d.failed {
			u.failedDep = d.name()
			break
		}
	}
	if u.failedDep != "" {
		u.failed = true
		for _, st := range u.steps {
			st.resp = s.failedDependency(r, st, u.failedDep)
		}
		return
	}
	if u.group == "" {
		st := u.steps[0]
		st.resp = s.serveStep(r.Context(), r, st)
		u.failed = st.resp.status >= 400
		return
	}
	s.runGroup(r, u)
}

func (u *batchUnit) name() string {
	if u.group != "" {
		return u.group
	}
	return u.steps[0].id
}

// runGroup runs an atomicity group on one transaction: its requests in order, until one fails. A failure rolls
// the transaction back; the failing request keeps its response and the others get 424. A deadlock or
// serialization failure runs the group again from its start, at most groupAttempts times, and then every request
// of the group answers 503. Throttling is charged once per request, whatever the attempts.
func (s *server) runGroup(r *http.Request, u *batchUnit) {
	for attempt := 1; ; attempt++ {
		failed := -1
		retry := false
		err := s.tx.InTx(r.Context(), func(ctx context.Context) error {
			for i, st := range u.steps {
				st.state.retryable = false
				st.resp = s.serveStep(ctx, r, st)
				if st.resp.status >= 400 {
					failed, retry = i, st.state.retryable
					return errGroupFailed
				}
			}
			return nil
		})
		switch {
		case err == nil:
			return
		case retry || (failed < 0 && store.Retryable(err)):
			if attempt < groupAttempts {
				continue
			}
			u.failed = true
			for _, st := range u.steps {
				st.resp = s.stepError(r, st, &httpError{http.StatusServiceUnavailable, odata.CodeServiceNotAvailable,
					"The atomicity group '" + quoteText(u.group) + "' met concurrent changes and was not applied; retry the batch."})
				st.resp.header.Set("Retry-After", retryAfterSeconds)
			}
			return
		}
		u.failed = true
		for i, st := range u.steps {
			if i != failed {
				st.resp = s.stepError(r, st, &httpError{http.StatusFailedDependency, "FailedDependency",
					"The request was not applied: its atomicity group '" + quoteText(u.group) + "' failed."})
			}
		}
		if failed < 0 {
			// The commit itself failed: the group is not applied, and every request says so.
			for _, st := range u.steps {
				st.resp = s.stepError(r, st, err)
			}
		}
		return
	}
}

var errGroupFailed = errors.New("httpapi: a request of the atomicity group failed")

// stepState is what a batch request keeps across the attempts of its atomicity group, so that throttling,
// faults and the journal see it once.
type stepState struct {
	charged    bool // the throttle has counted it
	retryable  bool // its failure was a deadlock or serialization failure
	faultTaken [2]bool
	fault      [2]*Fault    // the fault that fired before and after authentication
	info       *requestInfo // the last attempt's, for the journal
}

// stepContext marks a request as a step of a batch: it acts for the batch's caller and carries the batch's
// request-id.
type stepContext struct {
	caller          Caller
	requestID       string
	clientRequestID string
	stepID          string
	state           *stepState
}

func stepFrom(ctx context.Context) *stepContext {
	st, _ := ctx.Value(stepKey).(*stepContext)
	return st
}

// serveStep builds a request's *http.Request and serves it through the whole handler chain.
func (s *server) serveStep(ctx context.Context, outer *http.Request, st *batchStep) stepResponse {
	st.start = time.Now()
	defer func() { st.elapsed = time.Since(st.start) }()
	state := &st.state
	target, err := s.stepTarget(outer, st.url)
	if err != nil {
		return s.stepError(outer, st, err)
	}
	info := requestInfoFrom(outer.Context())
	sc := &stepContext{caller: callerFrom(outer.Context()), requestID: info.requestID,
		clientRequestID: info.clientRequestID, stepID: st.id, state: state}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, stepKey, sc), st.method, target.String(), bytes.NewReader(st.body))
	if err != nil {
		return s.stepError(outer, st, errStepURL(st.url))
	}
	req.URL = target
	req.RequestURI = target.RequestURI()
	req.Host, req.TLS, req.RemoteAddr, req.Proto, req.ProtoMajor, req.ProtoMinor = outer.Host, outer.TLS, outer.RemoteAddr, outer.Proto, outer.ProtoMajor, outer.ProtoMinor
	req.Header = st.header.Clone()
	if req.Header.Get("Client-Request-Id") == "" {
		req.Header["Client-Request-Id"] = []string{info.clientRequestID}
	}
	req.ContentLength = int64(len(st.body))
	if st.body == nil {
		req.Body = http.NoBody
	}
	rec := &stepRecorder{header: http.Header{}}
	s.root.ServeHTTP(rec, req)
	return rec.response()
}

// journalSteps records each request of a batch once, with its final response, linked to the batch's entry, which
// the journal receives first (record).
func (s *server) journalSteps(outer *http.Request, steps []*batchStep) {
	if s.journal == nil {
		return
	}
	batch := requestInfoFrom(outer.Context())
	for _, st := range steps {
		info := &requestInfo{requestID: batch.requestID, clientRequestID: batch.clientRequestID, tenant: batch.tenant, stepID: st.id}
		if st.state.info != nil {
			info = st.state.info
		}
		path, query := st.url, ""
		if u, err := s.stepTarget(outer, st.url); err == nil {
			path, query = u.Path, u.RawQuery
		}
		if st.start.IsZero() {
			st.start = time.Now() // not run: a failed dependency
		}
		e := JournalEntry{Time: st.start.UTC(), RequestID: info.requestID, ClientRequestID: info.clientRequestID,
			Method: st.method, Path: path, Query: query, Status: st.resp.status,
			DurationMs: float64(st.elapsed.Microseconds()) / 1000, RequestBody: journalBody(st.body),
			BatchRequestID: &batch.requestID, StepID: &st.id}
		if info.tenant != "" {
			e.Tenant = &info.tenant
		}
		if info.fault != "" {
			e.Fault = &info.fault
		}
		batch.stepEntries = append(batch.stepEntries, e)
	}
}

// stepTarget resolves a request's url against the service root: relative to /beta, with or without a leading
// slash; /beta/… and the absolute service root are the same. Any other absolute URL and a nested $batch are
// refused.
func (s *server) stepTarget(outer *http.Request, raw string) (*url.URL, error) {
	rest := strings.TrimSpace(raw)
	root := s.serviceRoot(outer)
	switch {
	case strings.HasPrefix(rest, root+"/") || rest == root:
		rest = strings.TrimPrefix(rest, root)
	case strings.Contains(rest, "://") && strings.Index(rest, "://") < strings.IndexAny(rest+"/?", "/?"):
		return nil, &httpError{http.StatusBadRequest, odata.CodeBadRequest,
			"The url '" + quoteText(raw) + "' is outside this service: write it relative to the service root, such as /deviceManagement/certificateConnectorDetails."}
	}
	rest = strings.TrimPrefix(rest, "/")
	if rest == "beta" || strings.HasPrefix(rest, "beta/") || strings.HasPrefix(rest, "beta?") {
		rest = strings.TrimPrefix(rest, "beta")
		rest = strings.TrimPrefix(rest, "/")
	}
	pathPart, query, _ := strings.Cut(rest, "?")
	u, err := url.Parse("/beta/" + pathPart)
	if err != nil || u.Host != "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errStepURL(raw)
	}
	if p, _ := canonicalPath(s.model, u.Path); strings.HasPrefix(p, serviceRootPath+"/$batch") {
		return nil, &httpError{http.StatusBadRequest, odata.CodeBadRequest, "A batch cannot contain another $batch request."}
	}
	// The query as the client wrote it, spaces and all; it is decoded as the request alone would be.
	u.RawQuery = strings.ReplaceAll(query, " ", "%20")
	return u, nil
}

func errStepURL(raw string) error {
	return &httpError{http.StatusBadRequest, odata.CodeBadRequest, "The url '" + quoteText(raw) + "' is not a valid URL."}
}

// stepError answers a request of the batch with an error without serving it, as the chain would: the Graph
// envelope with the batch's request-id.
func (s *server) stepError(outer *http.Request, st *batchStep, err error) stepResponse {
	rec := &stepRecorder{header: http.Header{}}
	info := requestInfoFrom(outer.Context())
	stepInfo := &requestInfo{requestID: info.requestID, clientRequestID: info.clientRequestID, route: "$batch step", tenant: info.tenant}
	if v := st.header.Get("Client-Request-Id"); v != "" && len(v) <= maxClientRequestID {
		stepInfo.clientRequestID = v
	}
	r := outer.WithContext(context.WithValue(outer.Context(), requestInfoKey, stepInfo))
	r.Method = st.method
	rec.header["request-id"] = []string{stepInfo.requestID}
	rec.header["client-request-id"] = []string{stepInfo.clientRequestID}
	rec.header["OData-Version"] = []string{"4.0"}
	rec.header.Set("Cache-Control", "no-cache")
	s.error(rec, r, err)
	resp := rec.response()
	resp.code, resp.clientRequestID = stepInfo.errorCode, stepInfo.clientRequestID
	return resp
}

func (s *server) failedDependency(outer *http.Request, st *batchStep, dep string) stepResponse {
	return s.stepError(outer, st, &httpError{http.StatusFailedDependency, "FailedDependency",
		"The request was not run: the request or atomicity group '" + quoteText(dep) + "' it depends on failed."})
}

// logUnserved gives a request that never reached the handler chain (a refused url, a failed dependency, the
// rest of a failed atomicity group) the access-log line and metrics the chain gives the others, so that every
// request of a batch has one.
func (s *server) logUnserved(outer *http.Request, st *batchStep) {
	batch := requestInfoFrom(outer.Context())
	info := &requestInfo{requestID: batch.requestID, clientRequestID: st.resp.clientRequestID, route: "$batch step",
		tenant: batch.tenant, stepID: st.id, errorCode: st.resp.code}
	r := outer.WithContext(context.WithValue(outer.Context(), requestInfoKey, info))
	r.Method = st.method
	s.withAccessLog(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(st.resp.status)
		_, _ = w.Write(st.resp.body)
	})).ServeHTTP(&stepRecorder{header: http.Header{}}, r)
}

// stepRecorder collects a request's response.
type stepRecorder struct {
	header      http.Header
	status      int
	body        bytes.Buffer
	wroteHeader bool
}

func (w *stepRecorder) Header() http.Header { return w.header }

func (w *stepRecorder) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
}

func (w *stepRecorder) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.body.Write(b)
}

func (w *stepRecorder) response() stepResponse {
	if !w.wroteHeader {
		w.status = http.StatusOK
	}
	return stepResponse{status: w.status, header: w.header, body: w.body.Bytes()}
}

// graphHeaderNames spell response headers as Graph does: msgraph-sdk-go-core and the JS client look
// Content-Type up with exactly that casing.
var graphHeaderNames = map[string]string{
	"Etag": "ETag", "Odata-Version": "OData-Version", "Odata-Entityid": "OData-EntityId", "Www-Authenticate": "WWW-Authenticate",
}

// omittedHeaders say nothing inside a batch response.
var omittedHeaders = map[string]bool{"Content-Length": true, "Connection": true, "Transfer-Encoding": true, "Date": true}

// appendStepResponse writes a request's response object: its body is the JSON value for JSON, a string for
// text/*, else base64url; a 204 or 304 has no body and no Content-Type.
func appendStepResponse(b []byte, st *batchStep) []byte {
	resp := st.resp
	b = append(b, `{"id":`...)
	b = odata.AppendJSONString(b, st.id)
	if st.group != nil && st.group.group != "" {
		b = append(b, `,"atomicityGroup":`...)
		b = odata.AppendJSONString(b, st.group.group)
	}
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(resp.status), 10)
	noBody := resp.status == http.StatusNoContent || resp.status == http.StatusNotModified || len(resp.body) == 0
	names := make([]string, 0, len(resp.header))
	for name := range resp.header {
		if omittedHeaders[http.CanonicalHeaderKey(name)] || noBody && strings.EqualFold(name, "Content-Type") {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	b = append(b, `,"headers":{`...)
	for i, name := range names {
		if i > 0 {
			b = append(b, ',')
		}
		spelled := name
		if g, ok := graphHeaderNames[name]; ok {
			spelled = g
		}
		b = odata.AppendJSONString(b, spelled)
		b = append(b, ':')
		b = odata.AppendJSONString(b, strings.Join(resp.header[name], ", "))
	}
	b = append(b, '}')
	if !noBody {
		b = append(b, `,"body":`...)
		mt, _, _ := mime.ParseMediaType(resp.header.Get("Content-Type"))
		switch {
		case (mt == "application/json" || strings.HasSuffix(mt, "+json")) && json.Valid(resp.body):
			b = append(b, resp.body...)
		case strings.HasPrefix(mt, "text/"):
			b = odata.AppendJSONString(b, string(resp.body))
		default:
			b = odata.AppendJSONString(b, base64.RawURLEncoding.EncodeToString(resp.body))
		}
	}
	return append(b, '}')
}
