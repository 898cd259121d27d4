package httpapi

import (
	"encoding/json"
	"strings"
	"sync"
	"time"
)

// The request journal of the test-lab admin API: what a test's code asked graphd, for assertions such as "the
// tool sent exactly one PATCH with this body". It is a bounded in-memory ring per process, kept only while the
// admin API is on: at most JournalSize entries and JournalMaxBytes bytes (the oldest go first). It records
// requests to /beta only (not the admin API, health checks or metrics), never a header, and so never a token.

// Journal defaults.
const (
	DefaultJournalSize     = 1000
	DefaultJournalMaxBytes = 8 << 20
	// maxJournalBody is the largest request body the journal keeps; a larger one is recorded as null.
	maxJournalBody = 64 << 10
)

// JournalEntry is one request as GET /_graphd/requests lists it.
type JournalEntry struct {
	Time            time.Time       `json:"time"`
	RequestID       string          `json:"requestId"`
	ClientRequestID string          `json:"clientRequestId"`
	Tenant          *string         `json:"tenant"`
	Method          string          `json:"method"`
	Path            string          `json:"path"`
	Query           string          `json:"query"`
	Status          int             `json:"status"`
	DurationMs      float64         `json:"durationMs"`
	RequestBody     json.RawMessage `json:"requestBody"`
	Fault           *string         `json:"fault"`
	// BatchRequestID and StepID link a $batch request to the batch's own entry, which has the same request id.
	BatchRequestID *string `json:"batchRequestId"`
	StepID         *string `json:"stepId"`
}

func (e *JournalEntry) size() int {
	return 256 + len(e.RequestID) + len(e.ClientRequestID) + len(e.Path) + len(e.Query) + len(e.RequestBody)
}

type journal struct {
	mu       sync.Mutex
	entries  []JournalEntry // oldest first
	bytes    int
	maxCount int
	maxBytes int
}

func newJournal(maxCount, maxBytes int) *journal {
	if maxCount <= 0 {
		maxCount = DefaultJournalSize
	}
	if maxBytes <= 0 {
		maxBytes = DefaultJournalMaxBytes
	}
	return &journal{maxCount: maxCount, maxBytes: maxBytes}
}

func (j *journal) add(e JournalEntry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, e)
	j.bytes += e.size()
	drop := 0
	for len(j.entries)-drop > j.maxCount || j.bytes > j.maxBytes && len(j.entries)-drop > 1 {
		j.bytes -= j.entries[drop].size()
		drop++
	}
	if drop > 0 {
		j.entries = append(j.entries[:0:0], j.entries[drop:]...)
	}
}

// journalFilter selects entries; empty fields select all.
type journalFilter struct {
	method, tenant, pathPrefix string
	status                     int
}

func (f journalFilter) match(e *JournalEntry) bool {
	return (f.method == "" || strings.EqualFold(f.method, e.Method)) &&
		(f.status == 0 || f.status == e.Status) &&
		(f.tenant == "" || e.Tenant != nil && strings.EqualFold(f.tenant, *e.Tenant)) &&
		(f.pathPrefix == "" || strings.HasPrefix(e.Path, f.pathPrefix))
}

func (j *journal) list(f journalFilter) []JournalEntry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := []JournalEntry{}
	for i := range j.entries {
		if f.match(&j.entries[i]) {
			out = append(out, j.entries[i])
		}
	}
	return out
}

// clear removes every entry, or one tenant's.
func (j *journal) clear(tenant string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if tenant == "" {
		j.entries, j.bytes = nil, 0
		return
	}
	kept := j.entries[:0]
	j.bytes = 0
	for _, e := range j.entries {
		if e.Tenant == nil || !strings.EqualFold(*e.Tenant, tenant) {
			kept = append(kept, e)
			j.bytes += e.size()
		}
	}
	j.entries = kept
}

// journalBody is the body the journal keeps: the decoded JSON, when it is JSON and at most maxJournalBody bytes.
func journalBody(body []byte) json.RawMessage {
	if len(body) == 0 || len(body) > maxJournalBody || !json.Valid(body) {
		return nil
	}
	return json.RawMessage(append([]byte(nil), body...))
}
