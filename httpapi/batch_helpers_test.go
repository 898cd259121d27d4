package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

// What the $batch tests share: batches written as the JSON they send, a strict reader of batch responses that
// checks what Graph's clients need of every response object, and a fake store with instruments.

// The seed's row and a missing one, as step urls write them: relative to the service root.
const (
	relCollection = "/deviceManagement/certificateConnectorDetails"
	relSeed       = relCollection + "/" + seedID
	relMissing    = relCollection + "/" + missingID
	batchPath     = "/beta/$batch"
)

// batchOf is a batch of request objects.
func batchOf(requests ...string) string { return `{"requests":[` + strings.Join(requests, ",") + `]}` }

// step is a request object: id, method and url, then the other members as written (dependsOn(…),
// stepHeaders(…), stepBody(…), inGroup(…)).
func step(id, method, url string, members ...string) string {
	b := `{"id":` + jsonText(id) + `,"method":` + jsonText(method) + `,"url":` + jsonText(url)
	for _, m := range members {
		b += "," + m
	}
	return b + "}"
}

func dependsOn(ids ...string) string {
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = jsonText(id)
	}
	return `"dependsOn":[` + strings.Join(quoted, ",") + `]`
}

func inGroup(g string) string { return `"atomicityGroup":` + jsonText(g) }

// stepHeaders is a headers member; names are written as given.
func stepHeaders(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, jsonText(kv[i])+":"+jsonText(kv[i+1]))
	}
	return `"headers":{` + strings.Join(parts, ",") + `}`
}

// stepBody is a body member with a raw JSON value.
func stepBody(raw string) string { return `"body":` + raw }

// patchStep is a PATCH of the seed's row with a JSON body.
func patchStep(id, body string, members ...string) string {
	return step(id, "PATCH", relSeed, append([]string{stepHeaders("Content-Type", "application/json"), stepBody(body)}, members...)...)
}

func jsonText(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// postBatch sends a batch to h as application/json.
func postBatch(tb testing.TB, h http.Handler, body string, kv ...string) (*http.Response, []byte) {
	tb.Helper()
	return doHandler(tb, h, http.MethodPost, batchPath, jsonHdr(kv...), []byte(body))
}

// sendBatch sends a batch to h and reads its 200 response strictly.
func sendBatch(tb testing.TB, h http.Handler, body string, kv ...string) batchResult {
	tb.Helper()
	res, b := postBatch(tb, h, body, kv...)
	return readBatch(tb, res, b)
}

// stepResult is a response object of a batch, read strictly.
type stepResult struct {
	ID             string            `json:"id"`
	AtomicityGroup *string           `json:"atomicityGroup"`
	Status         int               `json:"status"`
	Headers        map[string]string `json:"headers"`
	Body           json.RawMessage   `json:"body"`
}

// header reads a step's header whatever the case of its name.
func (s stepResult) header(name string) string {
	for k, v := range s.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// content is the step's body as the bytes the request alone would have returned: a JSON body as it is, a text
// body unquoted, anything else base64url-decoded.
func (s stepResult) content(tb testing.TB) []byte {
	tb.Helper()
	if s.Body == nil {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(s.header("Content-Type"))
	if mt == "application/json" {
		return s.Body
	}
	var text string
	if err := json.Unmarshal(s.Body, &text); err != nil {
		tb.Fatalf("step %s: a %s body is not a JSON string: %s", s.ID, mt, s.Body)
	}
	if strings.HasPrefix(mt, "text/") {
		return []byte(text)
	}
	b, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil {
		tb.Fatalf("step %s: a %s body is not base64url: %v", s.ID, mt, err)
	}
	return b
}

// batchResult is a batch response: its objects in the order they came, and by id.
type batchResult struct {
	steps []stepResult
	byID  map[string]stepResult
}

func (b batchResult) get(tb testing.TB, id string) stepResult {
	tb.Helper()
	s, ok := b.byID[id]
	if !ok {
		tb.Fatalf("no response for the request %q", id)
	}
	return s
}

// statuses are the steps' statuses by id.
func (b batchResult) statuses() map[string]int {
	out := make(map[string]int, len(b.steps))
	for _, s := range b.steps {
		out[s.ID] = s.Status
	}
	return out
}

// graphSpelling is how Graph, msgraph-sdk-go-core and the JavaScript client spell the headers they read.
var graphSpelling = []string{"Content-Type", "ETag", "Location", "Retry-After", "Preference-Applied", "OData-Version", "OData-EntityId", "Allow"}

// readBatch reads a 200 batch response strictly and checks what every response object must be for Graph's
// clients: an id, a numeric status, headers whose values are all strings (msgraph-sdk-go-core panics
// otherwise) spelled as Graph spells them, no body and no Content-Type on 204 (the JavaScript client throws on
// that), a Content-Type on every body, a JSON object for JSON, and the Graph error envelope for errors, with
// the batch's request-id.
func readBatch(tb testing.TB, res *http.Response, body []byte) batchResult {
	tb.Helper()
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("batch status %d, want 200: %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		tb.Errorf("batch Content-Type %q, want application/json", ct)
	}
	var out struct {
		Responses []stepResult `json:"responses"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		tb.Fatalf("not a batch response: %v: %s", err, body)
	}
	if _, err := dec.Token(); err != io.EOF {
		tb.Fatalf("data after the batch response: %s", body)
	}
	if out.Responses == nil {
		tb.Fatalf("no responses array: %s", body)
	}
	batchID := headerValue(res.Header, "request-id")
	r := batchResult{steps: out.Responses, byID: map[string]stepResult{}}
	for _, s := range out.Responses {
		if s.ID == "" {
			tb.Errorf("a response without an id: %s", body)
		}
		if _, dup := r.byID[s.ID]; dup {
			tb.Errorf("two responses for %q", s.ID)
		}
		r.byID[s.ID] = s
		if s.Status < 100 || s.Status > 599 {
			tb.Errorf("step %s: status %d", s.ID, s.Status)
		}
		if s.Headers == nil {
			tb.Errorf("step %s: no headers object", s.ID)
		}
		var names []string
		for k := range s.Headers {
			for _, seen := range names {
				if strings.EqualFold(seen, k) {
					tb.Errorf("step %s: the header %q twice (%q)", s.ID, k, seen)
				}
			}
			names = append(names, k)
			for _, want := range graphSpelling {
				if strings.EqualFold(k, want) && k != want {
					tb.Errorf("step %s: header %q, Graph spells it %q", s.ID, k, want)
				}
			}
		}
		if got := s.header("request-id"); got != batchID {
			tb.Errorf("step %s: request-id %q, the batch's is %q", s.ID, got, batchID)
		}
		ct := s.Headers["Content-Type"]
		switch {
		case s.Status == http.StatusNoContent || s.Status == http.StatusNotModified:
			if s.Body != nil || ct != "" {
				tb.Errorf("step %s: %d with body %s and Content-Type %q, want neither", s.ID, s.Status, s.Body, ct)
			}
		case s.Body != nil && ct == "":
			tb.Errorf("step %s: a body without Content-Type", s.ID)
		case strings.HasPrefix(ct, "application/json") && (len(s.Body) == 0 || s.Body[0] != '{'):
			tb.Errorf("step %s: a JSON step whose body is not an object: %s", s.ID, s.Body)
		}
		if s.Status >= 400 {
			checkStepEnvelope(tb, s)
		}
	}
	return r
}

// checkStepEnvelope checks that an error step carries the Graph envelope with the step's ids.
func checkStepEnvelope(tb testing.TB, s stepResult) envelope {
	tb.Helper()
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(s.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		tb.Errorf("step %s: status %d: the body is not a Graph error envelope: %v: %s", s.ID, s.Status, err, s.Body)
		return env
	}
	if ct := s.Headers["Content-Type"]; ct != "application/json" {
		tb.Errorf("step %s: error Content-Type %q", s.ID, ct)
	}
	e := env.Error
	if _, err := time.Parse("2006-01-02T15:04:05", e.InnerError.Date); e.Code == "" || e.Message == "" || err != nil {
		tb.Errorf("step %s: incomplete envelope %s", s.ID, s.Body)
	}
	if e.InnerError.RequestID != s.header("request-id") || e.InnerError.ClientRequestID != s.header("client-request-id") {
		tb.Errorf("step %s: envelope ids %q/%q, headers %q/%q", s.ID, e.InnerError.RequestID, e.InnerError.ClientRequestID,
			s.header("request-id"), s.header("client-request-id"))
	}
	return env
}

// stepCode is an error step's code.
func stepCode(tb testing.TB, s stepResult) string {
	tb.Helper()
	return checkStepEnvelope(tb, s).Error.Code
}

// probeStore is the fake store with instruments for batches: it records its calls in arrival order, counts
// how many run at once (each lasting delay), can hold calls until gate of them run at once, and can fail calls.
type probeStore struct {
	*fakeStore
	delay time.Duration
	// opDelay adds a delay to the calls of one operation (GET, POST, PATCH, DELETE or LIST).
	opDelay map[string]time.Duration
	// gate, when above zero, makes each call wait until gate calls are in flight together (at most 5 s): a
	// server that runs fewer at once leaves them waiting, one that runs more shows in maxInFlight.
	gate int
	// fail, when set, may fail a call before it reaches the fake: op is GET, POST, PATCH, DELETE or LIST.
	fail func(op, key string) error

	mu          sync.Mutex
	calls       []string // "PATCH <key>", in arrival order
	inFlight    int
	maxInFlight int
	gateOpen    chan struct{}
	gateTimeout bool
}

func newProbeStore(f *fakeStore) *probeStore {
	return &probeStore{fakeStore: f, gateOpen: make(chan struct{})}
}

var _ httpapi.Store = (*probeStore)(nil)

func (p *probeStore) enter(op, key string) (func(), error) {
	p.mu.Lock()
	p.calls = append(p.calls, op+" "+key)
	p.inFlight++
	p.maxInFlight = max(p.maxInFlight, p.inFlight)
	if p.gate > 0 && p.inFlight >= p.gate {
		select {
		case <-p.gateOpen:
		default:
			close(p.gateOpen)
		}
	}
	fail := p.fail
	p.mu.Unlock()
	if p.gate > 0 {
		select {
		case <-p.gateOpen:
		case <-time.After(5 * time.Second):
			p.mu.Lock()
			p.gateTimeout = true
			p.mu.Unlock()
		}
	}
	if d := p.delay + p.opDelay[op]; d > 0 {
		time.Sleep(d)
	}
	leave := func() {
		p.mu.Lock()
		p.inFlight--
		p.mu.Unlock()
	}
	if fail != nil {
		if err := fail(op, key); err != nil {
			leave()
			return nil, err
		}
	}
	return leave, nil
}

// log is the calls so far.
func (p *probeStore) log() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// maxConcurrent is the most calls that ran at once.
func (p *probeStore) maxConcurrent() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxInFlight
}

func (p *probeStore) Get(ctx context.Context, set *odata.EntitySet, tenant, key string) (odata.Entity, error) {
	leave, err := p.enter("GET", key)
	if err != nil {
		return odata.Entity{}, err
	}
	defer leave()
	return p.fakeStore.Get(ctx, set, tenant, key)
}

func (p *probeStore) Create(ctx context.Context, set *odata.EntitySet, tenant string, patch *odata.Patch, now odata.DateTimeOffset) (odata.Entity, error) {
	leave, err := p.enter("POST", set.Name)
	if err != nil {
		return odata.Entity{}, err
	}
	defer leave()
	return p.fakeStore.Create(ctx, set, tenant, patch, now)
}

func (p *probeStore) Update(ctx context.Context, set *odata.EntitySet, tenant, key string, patch *odata.Patch, cond store.Precondition, now odata.DateTimeOffset) (odata.Entity, error) {
	leave, err := p.enter("PATCH", key)
	if err != nil {
		return odata.Entity{}, err
	}
	defer leave()
	return p.fakeStore.Update(ctx, set, tenant, key, patch, cond, now)
}

func (p *probeStore) Delete(ctx context.Context, set *odata.EntitySet, tenant, key string, cond store.Precondition) error {
	leave, err := p.enter("DELETE", key)
	if err != nil {
		return err
	}
	defer leave()
	return p.fakeStore.Delete(ctx, set, tenant, key, cond)
}

func (p *probeStore) List(ctx context.Context, set *odata.EntitySet, tenant string, req store.ListRequest) (store.ListResult, error) {
	leave, err := p.enter("LIST", set.Name)
	if err != nil {
		return store.ListResult{}, err
	}
	defer leave()
	return p.fakeStore.List(ctx, set, tenant, req)
}

// seededProbe is a probe over a fake store that holds the seed's row in the development tenant.
func seededProbe(tb testing.TB) *probeStore {
	tb.Helper()
	f := newFakeStore()
	f.put(odata.DevTenantID, seedRow(tb))
	return newProbeStore(f)
}

// batchServer is graphd on st with the tests' pinned configuration, logging to logs when it is not nil, and
// changed by mod.
func batchServer(tb testing.TB, st httpapi.Store, logs *logBuffer, mod func(*httpapi.Config)) http.Handler {
	tb.Helper()
	cfg := testConfig(nil)
	if logs != nil {
		cfg.Logger = logs.logger()
	}
	if mod != nil {
		mod(&cfg)
	}
	return httpapi.NewServer(cfg, st)
}
