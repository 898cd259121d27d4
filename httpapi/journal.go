package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
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
		// Sliced off rather than copied: a full journal would otherwise copy every entry on every request. The
		// dropped slots are cleared so that their bodies can be collected; append moves the rest to a new array
		// once the old one is used up, so the slack stays within one journal's worth of slots.
		clear(j.entries[:drop])
		j.entries = j.entries[drop:]
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
	clear(j.entries[len(kept):]) // the removed entries' bodies can be collected
	j.entries = kept
}

// journalBody is the body the journal keeps: the decoded JSON, when it is JSON and at most maxJournalBody bytes,
// without any member named Authorization (a $batch body may give its requests such headers).
func journalBody(body []byte) json.RawMessage {
	if len(body) == 0 || len(body) > maxJournalBody || !json.Valid(body) {
		return nil
	}
	// A name may also spell its letters as \u escapes.
	if indexFold(body, "authorization") >= 0 || bytes.Contains(body, []byte(`\u`)) {
		return scrubAuthorization(body)
	}
	return json.RawMessage(append([]byte(nil), body...))
}

// scrubAuthorization copies a valid JSON value without the object members named Authorization, in any case, and
// their values; everything else keeps its bytes and order.
func scrubAuthorization(body []byte) json.RawMessage {
	type frame struct {
		object  bool
		n       int  // members or elements written
		inValue bool // an object member's name is written, its value is next
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	out := make([]byte, 0, len(body))
	var stack []frame
	prev := int64(0)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			return nil
		}
		cur := dec.InputOffset()
		// The token's own bytes: Token consumes the separators before it, which are written afresh.
		raw := bytes.TrimLeft(body[prev:cur], " \t\r\n,:")
		prev = cur
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			out = append(out, raw...)
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].inValue = false
			}
			continue
		}
		if top != nil && top.object && !top.inValue {
			if name, _ := tok.(string); strings.EqualFold(name, "authorization") {
				var skipped json.RawMessage
				if err := dec.Decode(&skipped); err != nil {
					return nil
				}
				prev = dec.InputOffset()
				continue
			}
			if top.n > 0 {
				out = append(out, ',')
			}
			out = append(out, raw...)
			out = append(out, ':')
			top.n++
			top.inValue = true
			continue
		}
		if top != nil && !top.object {
			if top.n > 0 {
				out = append(out, ',')
			}
			top.n++
		}
		out = append(out, raw...)
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, frame{object: d == '{'})
			continue
		}
		if top != nil && top.object {
			top.inValue = false
		}
	}
}

// indexFold is strings.Index for bytes, ignoring ASCII case; lower is lower-case ASCII letters.
func indexFold(b []byte, lower string) int {
next:
	for i := 0; i+len(lower) <= len(b); i++ {
		for k := 0; k < len(lower); k++ {
			if b[i+k]|0x20 != lower[k] {
				continue next
			}
		}
		return i
	}
	return -1
}
