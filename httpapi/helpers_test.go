package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current responses")

const (
	seedID = "104d7361-7361-104d-6173-4d1061734d10"
	// missingID is a GUID no test stores.
	missingID = "0d8c3f3e-1111-4222-8333-444455556666"
	// createdID is the id the fake store gives the entity a POST creates.
	createdID       = "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
	pinnedRequestID = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"
	publicURL       = "https://graph.example.test/beta"
	collection      = "/beta/deviceManagement/certificateConnectorDetails"
	seedItem        = collection + "/" + seedID
	errorDate       = "2026-01-02T03:04:05"
)

var pinnedNow = time.Date(2026, 1, 2, 3, 4, 5, 987654321, time.UTC)

// testConfig pins everything that would make a response vary between runs.
func testConfig(log *slog.Logger) httpapi.Config {
	return httpapi.Config{
		PublicURL:    publicURL,
		Logger:       log,
		Now:          func() time.Time { return pinnedNow },
		NewRequestID: func() string { return pinnedRequestID },
		// A fixed key, so that the $skiptokens of nextLinks in goldens do not change between runs.
		SkipTokenKey: []byte("graphd-httpapi-test-skiptoken-key"),
	}
}

// logBuffer collects a server's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// The sets of graphd's model.
var (
	connSet = odata.Graph().MustSet(odata.ConnectorsSet)
	pfxSet  = odata.Graph().MustSet(odata.UserPfxSet)
)

// seedRow is what the seed's id holds before a test changes it; every field differs from the seed's PATCH.
func seedRow(tb testing.TB) odata.Entity {
	tb.Helper()
	p := odata.NewPatch(connSet.Type)
	p.SetName("connectorName", odata.Str("Old connector"))
	p.SetName("machineName", odata.Null)
	p.SetName("enrollmentDateTime", odata.Time(mustTime(tb, "2020-05-06T07:08:09.1234567+02:00")))
	p.SetName("lastCheckinDateTime", odata.Time(mustTime(tb, "2020-05-06T07:08:09Z")))
	p.SetName("connectorVersion", odata.Str("1.0.0"))
	return odata.NewEntity(connSet.Type, seedID, &p, odata.DateTimeOffset{})
}

func mustTime(tb testing.TB, s string) odata.DateTimeOffset {
	tb.Helper()
	d, ok := odata.ParseDateTimeOffset(s)
	if !ok {
		tb.Fatalf("bad DateTimeOffset %q", s)
	}
	return d
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// seedRequest is the body of the seed's example PATCH, byte for byte (CRLF line endings: Content-length 328).
func seedRequest(tb testing.TB) []byte {
	tb.Helper()
	b := readTestdata(tb, "seed-request.json")
	if len(b) != 328 {
		tb.Fatalf("testdata/seed-request.json has %d bytes, the seed's Content-length is 328 (were its CRLFs converted?)", len(b))
	}
	return b
}

// member is one member of a JSON object, its value as raw bytes.
type member struct {
	name  string
	value json.RawMessage
}

// members reads a JSON object's members in order, keeping each value's bytes as they are.
func members(tb testing.TB, b []byte) []member {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		tb.Fatalf("not a JSON object (%v): %s", err, b)
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			tb.Fatalf("bad JSON object: %v: %s", err, b)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			tb.Fatalf("bad JSON object: %v: %s", err, b)
		}
		out = append(out, member{tok.(string), v})
	}
	if _, err := dec.Token(); err != nil {
		tb.Fatalf("bad JSON object: %v: %s", err, b)
	}
	if _, err := dec.Token(); err != io.EOF {
		tb.Fatalf("data after the JSON object: %s", b)
	}
	return out
}

// checkSeedMembers checks contract §0.1: every member of the seed's example response is in body with a
// byte-identical value, once; control information may be added.
func checkSeedMembers(tb testing.TB, body []byte) {
	tb.Helper()
	got := map[string]json.RawMessage{}
	for _, m := range members(tb, body) {
		if _, dup := got[m.name]; dup {
			tb.Errorf("member %q appears twice in %s", m.name, body)
		}
		got[m.name] = m.value
	}
	seed := members(tb, readTestdata(tb, "seed-response.json"))
	for _, want := range seed {
		v, ok := got[want.name]
		switch {
		case !ok:
			tb.Errorf("member %q of the seed's response is missing from %s", want.name, body)
		case !bytes.Equal(v, want.value):
			tb.Errorf("member %q = %s, the seed's response has %s", want.name, v, want.value)
		}
	}
	for name := range got {
		if !strings.HasPrefix(name, "@odata.") && !slices.ContainsFunc(seed, func(m member) bool { return m.name == name }) {
			tb.Errorf("member %q is neither the seed's nor control information", name)
		}
	}
}

// envelope is the Graph error envelope, read strictly.
type envelope struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			Date            string `json:"date"`
			RequestID       string `json:"request-id"`
			ClientRequestID string `json:"client-request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// checkEnvelope checks that an error response is the Graph envelope with the given code and the response's ids.
func checkEnvelope(tb testing.TB, res *http.Response, body []byte, code string) envelope {
	tb.Helper()
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		tb.Fatalf("status %d: the body is not a Graph error envelope: %v: %q", res.StatusCode, err, body)
	}
	if dec.More() {
		tb.Errorf("data after the envelope: %q", body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		tb.Errorf("error Content-Type = %q, want application/json", ct)
	}
	e := env.Error
	if code != "" && e.Code != code {
		tb.Errorf("error code = %q, want %q (message %q)", e.Code, code, e.Message)
	}
	if e.Code == "" || e.Message == "" {
		tb.Errorf("empty code or message: %s", body)
	}
	if e.InnerError.Date != errorDate {
		tb.Errorf("innerError.date = %q, want %q", e.InnerError.Date, errorDate)
	}
	if got, want := e.InnerError.RequestID, headerValue(res.Header, "request-id"); got != want || got == "" {
		tb.Errorf("innerError.request-id = %q, header request-id = %q", got, want)
	}
	if got, want := e.InnerError.ClientRequestID, headerValue(res.Header, "client-request-id"); got != want || got == "" {
		tb.Errorf("innerError.client-request-id = %q, header client-request-id = %q", got, want)
	}
	return env
}

// goldenHeaders are the response headers the goldens record, spelt as Graph spells them.
var goldenHeaders = []string{
	"Allow", "Content-Type", "ETag", "Location", "OData-EntityId", "OData-Version", "Preference-Applied",
	"Retry-After", "client-request-id", "request-id",
}

// headerValue reads a header whatever the spelling of its name: the server writes request-id in lower case,
// which a client's parser canonicalizes.
func headerValue(h http.Header, name string) string {
	var vals []string
	for k, v := range h {
		if strings.EqualFold(k, name) {
			vals = append(vals, v...)
		}
	}
	return strings.Join(vals, ", ")
}

// render is a response as its golden file holds it: the status, the headers that matter sorted, a blank line,
// then the body byte for byte.
func render(res *http.Response, body []byte) []byte {
	var lines []string
	for _, name := range goldenHeaders {
		if v := headerValue(res.Header, name); v != "" {
			lines = append(lines, name+": "+v)
		}
	}
	slices.Sort(lines)
	var b bytes.Buffer
	b.WriteString("HTTP " + strconv.Itoa(res.StatusCode) + "\n")
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	b.WriteString("\n")
	b.Write(body)
	return b.Bytes()
}

// checkGolden compares got with testdata/name.golden, or rewrites the file under -update.
func checkGolden(tb testing.TB, name string, got []byte) {
	tb.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test ./httpapi -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("response differs from %s\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func gzipped(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

var (
	bombOnce sync.Once
	bomb     []byte
)

// gzipBomb is 100 MiB of zeros in about 100 KiB of gzip: a hundred members of 1 MiB each, which a gzip reader
// inflates as one stream (RFC 1952 §2.2). Compressing 100 MiB in one member would take a minute under -race.
func gzipBomb(tb testing.TB) []byte {
	tb.Helper()
	bombOnce.Do(func() {
		var one bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
		_, _ = zw.Write(make([]byte, 1<<20))
		_ = zw.Close()
		bomb = bytes.Repeat(one.Bytes(), 100)
	})
	return bomb
}

// chunkedReader hides its length, so the request goes without Content-Length (chunked on the wire).
type chunkedReader struct{ r io.Reader }

func (c chunkedReader) Read(p []byte) (int, error) { return c.r.Read(p) }

// doHandler sends a request to a handler and reads the whole response. A target may be an absolute URL of the
// pinned service root, as Location and nextLink are.
func doHandler(tb testing.TB, h http.Handler, method, target string, header http.Header, body []byte) (*http.Response, []byte) {
	tb.Helper()
	target = strings.TrimPrefix(target, publicURL[:len(publicURL)-len("/beta")])
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequestWithContext(tb.Context(), method, "http://graph.example.test"+target, rd)
	for k, vs := range header {
		req.Header[k] = append(req.Header[k], vs...)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result(), rec.Body.Bytes()
}

// qv percent-encodes a query option's value, spaces as %20.
func qv(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
