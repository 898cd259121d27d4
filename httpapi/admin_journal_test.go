package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
)

// The request journal of the admin API, GET /_graphd/requests (issue 11 item 2).

// labJournalFields are the members of every journal entry, in the order the API writes them.
var labJournalFields = []string{"time", "requestId", "clientRequestId", "tenant", "method", "path", "query", "status",
	"durationMs", "requestBody", "fault", "batchRequestId", "stepId"}

// labJournal lists the journal (query: the filters, without '?'), checking the shape of the answer strictly.
func labJournal(tb testing.TB, l lab, query string) []httpapi.JournalEntry {
	tb.Helper()
	target := "/_graphd/requests"
	if query != "" {
		target += "?" + query
	}
	res, b := l.admin(tb, "GET", target, "")
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %d %s", target, res.StatusCode, b)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		tb.Errorf("journal Content-Type %q", ct)
	}
	var raw struct {
		Value []json.RawMessage `json:"value"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil || raw.Value == nil {
		tb.Fatalf("journal %s: %v", b, err)
	}
	out := make([]httpapi.JournalEntry, len(raw.Value))
	for i, v := range raw.Value {
		var names []string
		for _, m := range members(tb, v) {
			names = append(names, m.name)
		}
		if !slices.Equal(names, labJournalFields) {
			tb.Errorf("entry %d has the members %v, want %v", i, names, labJournalFields)
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&out[i]); err != nil {
			tb.Fatalf("entry %s: %v", v, err)
		}
	}
	return out
}

func labStr(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

// labCompact is b without insignificant whitespace.
func labCompact(tb testing.TB, b []byte) string {
	tb.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		tb.Fatalf("compact %q: %v", b, err)
	}
	return buf.String()
}

// TestAdminJournalEntries: each request is one entry, oldest first, with every field as the request and its
// response had it.
func TestAdminJournalEntries(t *testing.T) {
	t.Parallel()
	l := newLab(t, labWithTokens(t), labCountingIDs)
	l.fake.put(tenantA, seedRow(t))
	token := labGraphToken(t, tenantA)
	patchBody := "{\n  \"connectorName\": \"journaled\",\n  \"machineName\": null\n}"
	type sent struct {
		method, target string
		header         http.Header
		body           string
		// What the entry must say.
		path, query, clientID, tenant string
		status                        int
		requestBody                   string // "" is null
	}
	reqs := []sent{
		{method: "GET", target: collection + "?$select=connectorName&$filter=" + qv("connectorName eq 'x y'"), header: token,
			path: collection, query: "$select=connectorName&$filter=" + qv("connectorName eq 'x y'"), tenant: tenantA, status: 200},
		{method: "PATCH", target: seedItem, header: jsonHdr("Authorization", token.Get("Authorization"), "client-request-id", "my-client-id"),
			body: patchBody, path: seedItem, clientID: "my-client-id", tenant: tenantA, status: 200,
			requestBody: `{"connectorName":"journaled","machineName":null}`},
		// As the client wrote it: the journal shows the path sent, not its canonical spelling.
		{method: "GET", target: "/beta/DeviceManagement/certificateConnectorDetails/" + missingID, header: token,
			// Recorded in the canonical spelling, as routes, logs and fault patterns see it.
			path: "/beta/deviceManagement/certificateConnectorDetails/" + missingID, tenant: tenantA, status: 404},
		// No token: no tenant.
		{method: "DELETE", target: seedItem, path: seedItem, status: 401},
		// An unknown segment is journaled too.
		{method: "GET", target: "/beta/nothing", header: token, path: "/beta/nothing", status: 400},
	}
	start := time.Now()
	var ids []string
	for _, r := range reqs {
		res, b := l.do(t, r.method, r.target, r.header, r.body)
		if res.StatusCode != r.status {
			t.Fatalf("%s %s: %d %s, want %d", r.method, r.target, res.StatusCode, b, r.status)
		}
		ids = append(ids, headerValue(res.Header, "request-id"))
	}
	end := time.Now()
	got := labJournal(t, l, "")
	if len(got) != len(reqs) {
		t.Fatalf("%d entries, want %d: %+v", len(got), len(reqs), got)
	}
	for i, r := range reqs {
		e := got[i]
		clientID := r.clientID
		if clientID == "" {
			clientID = ids[i]
		}
		tenant := "<null>"
		if r.tenant != "" {
			tenant = r.tenant
		}
		body := "null"
		if r.requestBody != "" {
			body = r.requestBody
		}
		for _, c := range []struct{ field, got, want string }{
			{"requestId", e.RequestID, ids[i]},
			{"clientRequestId", e.ClientRequestID, clientID},
			{"tenant", labStr(e.Tenant), tenant},
			{"method", e.Method, r.method},
			{"path", e.Path, r.path},
			{"query", e.Query, r.query},
			{"status", strconv.Itoa(e.Status), strconv.Itoa(r.status)},
			{"requestBody", string(e.RequestBody), body},
			{"fault", labStr(e.Fault), "<null>"},
			{"batchRequestId", labStr(e.BatchRequestID), "<null>"},
			{"stepId", labStr(e.StepID), "<null>"},
		} {
			if c.got != c.want {
				t.Errorf("entry %d (%s %s): %s = %q, want %q", i, r.method, r.target, c.field, c.got, c.want)
			}
		}
		if e.Time.Before(start.Add(-time.Millisecond)) || e.Time.After(end) || e.Time.Location() != time.UTC {
			t.Errorf("entry %d: time %v is not within the test's [%v, %v] in UTC", i, e.Time, start, end)
		}
		if e.DurationMs < 0 || e.DurationMs > float64(end.Sub(start).Milliseconds()+1) {
			t.Errorf("entry %d: durationMs %v", i, e.DurationMs)
		}
		if i > 0 && e.Time.Before(got[i-1].Time) {
			t.Errorf("entry %d is older than entry %d", i, i-1)
		}
	}
}

// TestAdminJournalBody: the body the journal keeps is the decoded JSON (after gzip) up to 64 KiB, else null.
func TestAdminJournalBody(t *testing.T) {
	t.Parallel()
	big := func(n int) string { return string(padTo(t, `{"connectorName":"big"}`, n)) }
	for _, tc := range []struct {
		name   string
		header http.Header
		body   string
		gzip   bool
		want   string // "null" for null
	}{
		{name: "JSON", header: jsonHdr(), body: `{ "connectorName" : "a" }`, want: `{"connectorName":"a"}`},
		{name: "Gzip", header: jsonHdr("Content-Encoding", "gzip"), body: `{"connectorName":"zipped"}`, gzip: true, want: `{"connectorName":"zipped"}`},
		{name: "At64KiB", header: jsonHdr(), body: big(64 << 10), want: `{"connectorName":"big"}`},
		{name: "Over64KiB", header: jsonHdr(), body: big(64<<10 + 1), want: "null"},
		{name: "GzipOver64KiB", header: jsonHdr("Content-Encoding", "gzip"), body: big(64<<10 + 1), gzip: true, want: "null"},
		{name: "NotJSON", header: jsonHdr(), body: `{"connectorName":`, want: "null"},
		{name: "WrongMediaType", header: hdr("Content-Type", "text/plain"), body: `{"connectorName":"a"}`, want: "null"},
		{name: "NoBody", header: jsonHdr(), want: "null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t)
			l.fake.put(odata.DevTenantID, seedRow(t))
			body := tc.body
			if tc.gzip {
				body = string(gzipped(t, []byte(body)))
			}
			l.do(t, "PATCH", seedItem, tc.header, body)
			got := labJournal(t, l, "")
			if len(got) != 1 {
				t.Fatalf("%d entries", len(got))
			}
			if string(got[0].RequestBody) != tc.want {
				t.Errorf("requestBody %.200s, want %.200s", got[0].RequestBody, tc.want)
			}
		})
	}
}

// TestAdminJournalFilters: method, status, tenant and pathPrefix select entries, together or alone.
func TestAdminJournalFilters(t *testing.T) {
	t.Parallel()
	l := newLab(t, labWithTokens(t), labCountingIDs)
	for _, tenant := range []string{tenantA, tenantB} {
		l.fake.put(tenant, seedRow(t))
	}
	a, b := labGraphToken(t, tenantA), labGraphToken(t, tenantB)
	withJSON := func(h http.Header) http.Header { return jsonHdr("Authorization", h.Get("Authorization")) }
	for _, r := range []struct {
		method, target string
		header         http.Header
		body           string
		status         int
	}{
		{"GET", collection, a, "", 200},                                                        // 1
		{"PATCH", seedItem, withJSON(a), `{"connectorName":"a"}`, 200},                         // 2
		{"PATCH", collection + "/" + missingID, withJSON(b), `{"connectorName":"b"}`, 404},     // 3
		{"DELETE", collection + "/" + missingID, b, "", 404},                                   // 4
		{"GET", "/beta/users?$filter=" + qv("userPrincipalName eq 'a@b.example'"), b, "", 200}, // 5
		{"GET", pfxCollection, nil, "", 401},                                                   // 6
	} {
		if res, body := l.do(t, r.method, r.target, r.header, r.body); res.StatusCode != r.status {
			t.Fatalf("%s %s: %d %s", r.method, r.target, res.StatusCode, body)
		}
	}
	for _, tc := range []struct {
		query string
		want  []int // the requests' numbers
	}{
		{"", []int{1, 2, 3, 4, 5, 6}},
		{"method=PATCH", []int{2, 3}},
		{"method=patch", []int{2, 3}},
		{"status=404", []int{3, 4}},
		{"status=401", []int{6}},
		{"tenant=" + tenantB, []int{3, 4, 5}},
		{"tenant=" + strings.ToUpper(tenantA), []int{1, 2}},
		{"pathPrefix=/beta/users", []int{5}},
		{"pathPrefix=" + collection, []int{1, 2, 3, 4}},
		{"pathPrefix=/beta/deviceManagement/", []int{1, 2, 3, 4, 6}},
		{"method=PATCH&status=404", []int{3}},
		{"method=GET&tenant=" + tenantA + "&pathPrefix=" + collection, []int{1}},
		{"method=PUT", nil},
		{"status=500", nil},
		{"tenant=" + missingID, nil},
	} {
		got := labJournal(t, l, tc.query)
		var nums []int
		for _, e := range got {
			n, _ := strconv.Atoi(strings.TrimPrefix(e.RequestID, "req-"))
			nums = append(nums, n)
		}
		if !slices.Equal(nums, tc.want) {
			t.Errorf("?%s: requests %v, want %v", tc.query, nums, tc.want)
		}
	}
	for _, q := range []string{"status=abc", "status=99", "status=600", "status=-1"} {
		res, body := l.admin(t, "GET", "/_graphd/requests?"+q, "")
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("?%s: %d %s, want 400", q, res.StatusCode, body)
			continue
		}
		checkEnvelope(t, res, body, odata.CodeBadRequest)
	}
}

// TestAdminJournalClear: DELETE clears the journal, or with ?tenant= one tenant's entries.
func TestAdminJournalClear(t *testing.T) {
	t.Parallel()
	l := newLab(t, labWithTokens(t))
	send := func() {
		for _, h := range []http.Header{labGraphToken(t, tenantA), labGraphToken(t, tenantB), nil} {
			l.do(t, "GET", collection, h, "")
		}
	}
	send()
	res, b := l.admin(t, "DELETE", "/_graphd/requests?tenant="+strings.ToUpper(tenantA), "")
	if res.StatusCode != http.StatusNoContent || len(b) != 0 {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
	got := labJournal(t, l, "")
	if len(got) != 2 || labStr(got[0].Tenant) != tenantB || got[1].Tenant != nil {
		t.Errorf("after clearing tenant A: %+v", got)
	}
	l.mustAdmin(t, "DELETE", "/_graphd/requests", "", 204)
	if got := labJournal(t, l, ""); len(got) != 0 {
		t.Errorf("after clearing: %d entries", len(got))
	}
	send()
	if got := labJournal(t, l, ""); len(got) != 3 {
		t.Errorf("after clearing, new requests: %d entries", len(got))
	}
	res, b = l.admin(t, "DELETE", "/_graphd/requests?tenant=x", "")
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("?tenant=x: %d %s", res.StatusCode, b)
	}
	checkEnvelope(t, res, b, odata.CodeBadRequest)
	if got := labJournal(t, l, ""); len(got) != 3 {
		t.Errorf("a refused clear removed entries: %d left", len(got))
	}
}

// TestAdminJournalCaps: the journal keeps the newest JournalSize entries within JournalMaxBytes.
func TestAdminJournalCaps(t *testing.T) {
	t.Parallel()
	t.Run("Count", func(t *testing.T) {
		t.Parallel()
		l := newLab(t, labCountingIDs, func(cfg *httpapi.Config) { cfg.Admin.JournalSize = 3 })
		for range 7 {
			l.do(t, "GET", collection, nil, "")
		}
		var ids []string
		for _, e := range labJournal(t, l, "") {
			ids = append(ids, e.RequestID)
		}
		if want := []string{"req-5", "req-6", "req-7"}; !slices.Equal(ids, want) {
			t.Errorf("entries %v, want %v", ids, want)
		}
	})
	t.Run("Bytes", func(t *testing.T) {
		t.Parallel()
		const maxBytes = 8 << 10
		l := newLab(t, labCountingIDs, func(cfg *httpapi.Config) { cfg.Admin.JournalMaxBytes = maxBytes })
		l.fake.put(odata.DevTenantID, seedRow(t))
		const n = 40
		for i := range n {
			body := `{"connectorName":"` + strings.Repeat(strconv.Itoa(i%10), 1000) + `"}`
			if res, b := l.do(t, "PATCH", seedItem, jsonHdr(), body); res.StatusCode != 200 {
				t.Fatalf("PATCH: %d %s", res.StatusCode, b)
			}
		}
		got := labJournal(t, l, "")
		total := 0
		for _, e := range got {
			total += len(e.RequestBody) + len(e.Path) + len(e.RequestID) + len(e.ClientRequestID)
		}
		if len(got) == 0 || len(got) >= n || total > maxBytes {
			t.Fatalf("%d entries of %d bytes kept within %d bytes", len(got), total, maxBytes)
		}
		for i, e := range got {
			if want := "req-" + strconv.Itoa(n-len(got)+i+1); e.RequestID != want {
				t.Errorf("entry %d is %s, want %s: the newest are kept, oldest first", i, e.RequestID, want)
			}
		}
		// The defaults: a lab without limits keeps all 40.
		l = newLab(t)
		l.fake.put(odata.DevTenantID, seedRow(t))
		for range n {
			l.do(t, "PATCH", seedItem, jsonHdr(), `{"connectorName":"`+strings.Repeat("x", 1000)+`"}`)
		}
		if got := labJournal(t, l, ""); len(got) != n {
			t.Errorf("default limits: %d entries kept of %d", len(got), n)
		}
	})
}

// TestAdminJournalScope: the journal records /beta only; admin calls, health checks and metrics are not in it.
func TestAdminJournalScope(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	for _, rt := range labAdminRoutes {
		if rt.method == "DELETE" && (rt.path == "/_graphd" || rt.path == "/_graphd/requests") {
			continue
		}
		l.admin(t, rt.method, rt.path, rt.body)
	}
	l.admin(t, "GET", "/_graphd/nothing", "") // an unknown admin path
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/nothing"} {
		l.do(t, "GET", p, nil, "")
	}
	if got := labJournal(t, l, ""); len(got) != 0 {
		t.Errorf("journaled: %+v", got)
	}
	l.do(t, "GET", "/beta/$metadata", nil, "")
	if got := labJournal(t, l, ""); len(got) != 1 || got[0].Path != "/beta/$metadata" {
		t.Errorf("after GET /beta/$metadata: %+v", got)
	}
}

// TestAdminJournalNoCredentials: neither the Authorization header nor a token ever reaches the journal, not even
// as a header a $batch body gives its requests.
func TestAdminJournalNoCredentials(t *testing.T) {
	t.Parallel()
	l := newLab(t, labWithTokens(t))
	l.fake.put(tenantA, seedRow(t))
	token := labGraphToken(t, tenantA).Get("Authorization")
	raw := strings.TrimPrefix(token, "Bearer ")
	batch := `{"requests":[
		{"id":"1","method":"PATCH","url":"/deviceManagement/certificateConnectorDetails/` + seedID + `",
		 "headers":{"Content-Type":"application/json","\u0041uthorization":"` + token + `"},"body":{"connectorName":"x"}},
		{"id":"2","method":"GET","url":"/deviceManagement/certificateConnectorDetails",
		 "headers":{"AUTHORIZATION":"` + token + `","client-request-id":"c2"}}]}`
	for _, r := range []struct {
		method, target string
		header         http.Header
		body           string
	}{
		{"GET", seedItem, hdr("Authorization", token), ""},
		{"PATCH", seedItem, jsonHdr("Authorization", token), `{"connectorName":"y"}`},
		{"GET", seedItem, hdr("Authorization", "Bearer "+labAdminToken), ""},
		{"GET", seedItem, hdr("Authorization", token+"x"), ""},
		{"POST", "/beta/$batch", jsonHdr("Authorization", token), batch},
	} {
		l.do(t, r.method, r.target, r.header, r.body)
	}
	_, b := l.admin(t, "GET", "/_graphd/requests", "")
	if got := len(labJournal(t, l, "")); got != 7 {
		t.Fatalf("%d entries, want 7: %s", got, b)
	}
	lower := strings.ToLower(string(b))
	for _, secret := range []string{raw, raw[len(raw)-20:], labAdminToken, "bearer", "authorization"} {
		if strings.Contains(lower, strings.ToLower(secret)) {
			t.Errorf("the journal holds %q: %s", secret, b)
		}
	}
	// The batch's body is kept less the headers' Authorization members, its other bytes as they were.
	var batchEntry *httpapi.JournalEntry
	entries := labJournal(t, l, "pathPrefix=/beta/$batch")
	if len(entries) == 1 {
		batchEntry = &entries[0]
	} else {
		t.Fatalf("%d $batch entries", len(entries))
	}
	want := `{"requests":[{"id":"1","method":"PATCH","url":"/deviceManagement/certificateConnectorDetails/` + seedID + `",` +
		`"headers":{"Content-Type":"application/json"},"body":{"connectorName":"x"}},` +
		`{"id":"2","method":"GET","url":"/deviceManagement/certificateConnectorDetails","headers":{"client-request-id":"c2"}}]}`
	if got := string(batchEntry.RequestBody); got != want {
		t.Errorf("the batch's requestBody\n%s\nwant\n%s", got, want)
	}
}

// TestAdminJournalBatch: each request of a $batch is an entry of its own, linked to the batch's entry by its
// request id and its step id.
func TestAdminJournalBatch(t *testing.T) {
	t.Parallel()
	l := newLab(t, labWithTokens(t), labCountingIDs)
	l.fake.put(tenantA, seedRow(t))
	batch := `{"requests":[
		{"id":"1","method":"PATCH","url":"/deviceManagement/certificateConnectorDetails/` + seedID + `",
		 "headers":{"Content-Type":"application/json"},"body":{"connectorName":"in a batch"}},
		{"id":"2","method":"GET","url":"/deviceManagement/certificateConnectorDetails/$count?$filter=` + qv("connectorName eq 'in a batch'") + `","dependsOn":["1"]},
		{"id":"3","method":"DELETE","url":"/beta/deviceManagement/certificateConnectorDetails/` + missingID + `"}]}`
	res, b := l.do(t, "POST", "/beta/$batch", jsonHdr("Authorization", labGraphToken(t, tenantA).Get("Authorization"), "client-request-id", "batch-client"), batch)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("batch: %d %s", res.StatusCode, b)
	}
	got := labJournal(t, l, "")
	if len(got) != 4 {
		t.Fatalf("%d entries, want the batch's and its 3 requests': %+v", len(got), got)
	}
	var outer httpapi.JournalEntry
	steps := map[string]httpapi.JournalEntry{}
	for _, e := range got {
		if e.StepID == nil {
			outer = e
		} else {
			steps[*e.StepID] = e
		}
	}
	if outer.Path != "/beta/$batch" || outer.Status != 200 || outer.BatchRequestID != nil || labStr(outer.Tenant) != tenantA ||
		outer.RequestID != headerValue(res.Header, "request-id") || outer.ClientRequestID != "batch-client" {
		t.Errorf("the batch's entry: %+v", outer)
	}
	if !bytes.Equal(outer.RequestBody, []byte(labCompact(t, []byte(batch)))) {
		t.Errorf("the batch's requestBody: %s", outer.RequestBody)
	}
	for _, want := range []struct {
		id, method, path, query string
		status                  int
		body                    string
	}{
		{"1", "PATCH", seedItem, "", 200, `{"connectorName":"in a batch"}`},
		{"2", "GET", collection + "/$count", "$filter=" + qv("connectorName eq 'in a batch'"), 200, "null"},
		{"3", "DELETE", collection + "/" + missingID, "", 404, "null"},
	} {
		e, ok := steps[want.id]
		if !ok {
			t.Errorf("no entry of request %s", want.id)
			continue
		}
		if labStr(e.BatchRequestID) != outer.RequestID || e.RequestID != outer.RequestID {
			t.Errorf("request %s: batchRequestId %s, requestId %s; the batch's is %s", want.id, labStr(e.BatchRequestID), e.RequestID, outer.RequestID)
		}
		if e.Method != want.method || e.Path != want.path || e.Query != want.query || e.Status != want.status ||
			string(e.RequestBody) != want.body || labStr(e.Tenant) != tenantA || e.ClientRequestID != "batch-client" || e.Fault != nil {
			t.Errorf("request %s: %+v (body %s)", want.id, e, e.RequestBody)
		}
	}
	if !reflect.DeepEqual(labJournal(t, l, "method=PATCH"), []httpapi.JournalEntry{steps["1"]}) {
		t.Error("the filters do not select the batch's requests")
	}
}

// TestAdminJournalDropsAuthorization: whatever body carries members named Authorization, in any case or
// spelling, the journal keeps it without them, and every other byte as it was (numbers and escapes included).
func TestAdminJournalDropsAuthorization(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, want string }{
		{`{"connectorName":"a","Authorization":"Bearer x"}`, `{"connectorName":"a"}`},
		{`{"Authorization":"Bearer x","connectorName":"a"}`, `{"connectorName":"a"}`},
		{`{"Authorization":"Bearer x"}`, `{}`},
		{`{ "a" : { "authorization" : { "deep" : [1, 2] }, "b" : [ {"AUTHORIZATION":1}, 2 ] }, "c" : "authorization" }`,
			`{"a":{"b":[{},2]},"c":"authorization"}`},
		{`[{"Authorization":1},"x",[],{}]`, `[{},"x",[],{}]`},
		{`{"\u0041uthorizatio\u006E":"x","n":1.50e3,"big":12345678901234567890}`, `{"n":1.50e3,"big":12345678901234567890}`},
		{`{"name":"\u00e9\"","authorizationHeader":true}`, `{"name":"\u00e9\"","authorizationHeader":true}`},
		{`"Authorization"`, `"Authorization"`},
	} {
		l := newLab(t)
		l.fake.put(odata.DevTenantID, seedRow(t))
		l.do(t, "PATCH", seedItem, jsonHdr(), tc.body)
		got := labJournal(t, l, "")
		if len(got) != 1 || string(got[0].RequestBody) != tc.want {
			t.Errorf("%s: journaled %+v, want the body %s", tc.body, got, tc.want)
		}
	}
}
