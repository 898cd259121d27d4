package httpapi_test

import (
	"bufio"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/httpapi/auth"
	"github.com/graphd/graphd/odata"
)

// Authorization, tenancy and throttling of batches (issue 10 item 4), and their observability (item 6).

// tenantBRowID is a connector of tenantB only.
const tenantBRowID = "b0b0b0b0-0000-4000-8000-00000000b0b0"

// authBatchServer is graphd with the matrix's token verifier: the seed's row in tenantA, another in tenantB.
func authBatchServer(t *testing.T, mod func(*httpapi.Config)) (http.Handler, *probeStore) {
	t.Helper()
	f := newFakeStore()
	f.put(tenantA, seedRow(t))
	other := seedRow(t)
	other.Set("id", odata.Str(tenantBRowID))
	other.Set("connectorName", odata.Str("Tenant B's connector"))
	f.put(tenantB, other)
	probe := newProbeStore(f)
	return batchServer(t, probe, nil, func(c *httpapi.Config) {
		c.Auth = newVerifier(matrixKeys(t), nil)
		if mod != nil {
			mod(c)
		}
	}), probe
}

func bearer(t *testing.T, claims map[string]any) string {
	t.Helper()
	return "Bearer " + signToken(t, matrixKeys(t).rs, claims, nil)
}

func TestBatchAuthentication(t *testing.T) {
	t.Parallel()
	h, probe := authBatchServer(t, nil)
	expired := bearer(t, claimsFor(tenantA, "exp", pinnedNow.Add(-time.Hour).Unix(), "nbf", pinnedNow.Add(-2*time.Hour).Unix(),
		"iat", pinnedNow.Add(-2*time.Hour).Unix()))
	batch := batchOf(patchStep("1", `{"connectorName":"must not be written"}`), step("2", "GET", relSeed))
	tests := []struct {
		name          string
		authorization string
		body          string
	}{
		{"NoToken", "", batch},
		{"BadToken", "Bearer not-a-token", batch},
		{"Expired", expired, batch},
		{"Basic", "Basic dXNlcjpwYXNz", batch},
		// The token is checked before the body is read: a malformed batch without a token is still 401.
		{"NoTokenMalformed", "", `{"requests":`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			header := jsonHdr()
			if tc.authorization != "" {
				header.Set("Authorization", tc.authorization)
			}
			res, body := doHandler(t, h, http.MethodPost, batchPath, header, []byte(tc.body))
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", res.StatusCode, body)
			}
			checkEnvelope(t, res, body, "InvalidAuthenticationToken")
			if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", res.Header.Get("WWW-Authenticate"))
			}
			if tc.name == "NoToken" || tc.name == "BadToken" {
				checkGolden(t, "Batch"+tc.name, render(res, body))
			}
		})
	}
	if calls := probe.log(); len(calls) != 0 {
		t.Errorf("unauthenticated batches reached the store: %v", calls)
	}
}

// TestBatchStepAuthorization: the batch's token applies to every request; a request's own Authorization is
// ignored, whether it is garbage or a token with more permissions; each request is authorized as it would be
// alone, and another tenant's ids are 404 exactly as alone.
func TestBatchStepAuthorization(t *testing.T) {
	t.Parallel()
	readOnly := bearer(t, claimsFor(tenantA, "scp", auth.PermReadAll))
	readWrite := bearer(t, claimsFor(tenantA))
	app := bearer(t, claimsFor(tenantA, "scp", nil, "roles", []string{auth.PermReadWriteAll}))
	personal := bearer(t, claimsFor(auth.PersonalAccountsTenant))
	noPermission := bearer(t, claimsFor(tenantA, "scp", "User.Read"))
	otherItem := relCollection + "/" + tenantBRowID
	tests := []struct {
		name  string
		token string
		steps []string
		alone []aloneRequest
		want  map[string]int
	}{
		{name: "ReadOnly", token: readOnly, steps: []string{
			step("1", "GET", relSeed),
			patchStep("2", `{"connectorName":"x"}`),
			patchStep("3", `{"connectorName":"x"}`, stepHeaders("Content-Type", "application/json", "Authorization", readWrite)),
			step("4", "GET", relSeed, stepHeaders("Authorization", "Bearer garbage")),
			step("5", "DELETE", relSeed, stepHeaders("authorization", readWrite)),
		}, alone: []aloneRequest{
			{method: "GET", path: "/beta" + relSeed, header: hdr("Authorization", readOnly)},
			{method: "PATCH", path: "/beta" + relSeed, header: jsonHdr("Authorization", readOnly), body: `{"connectorName":"x"}`},
			{method: "PATCH", path: "/beta" + relSeed, header: jsonHdr("Authorization", readOnly), body: `{"connectorName":"x"}`},
			{method: "GET", path: "/beta" + relSeed, header: hdr("Authorization", readOnly)},
			{method: "DELETE", path: "/beta" + relSeed, header: hdr("Authorization", readOnly)},
		}, want: map[string]int{"1": 200, "2": 403, "3": 403, "4": 200, "5": 403}},
		{name: "NoPermission", token: noPermission, steps: []string{step("1", "GET", relSeed), step("2", "GET", "/users?$filter=userPrincipalName eq 'x@y'")},
			alone: []aloneRequest{
				{method: "GET", path: "/beta" + relSeed, header: hdr("Authorization", noPermission)},
				{method: "GET", path: "/beta/users?$filter=userPrincipalName%20eq%20'x@y'", header: hdr("Authorization", noPermission)},
			}, want: map[string]int{"1": 403, "2": 200}},
		{name: "Application", token: app, steps: []string{patchStep("1", `{"connectorName":"by an app"}`), step("2", "GET", relSeed, dependsOn("1"))},
			alone: []aloneRequest{
				{method: "PATCH", path: "/beta" + relSeed, header: jsonHdr("Authorization", app), body: `{"connectorName":"by an app"}`},
				{method: "GET", path: "/beta" + relSeed, header: hdr("Authorization", app)},
			}, want: map[string]int{"1": 200, "2": 200}},
		{name: "PersonalAccount", token: personal, steps: []string{step("1", "GET", relSeed)},
			alone: []aloneRequest{{method: "GET", path: "/beta" + relSeed, header: hdr("Authorization", personal)}},
			want:  map[string]int{"1": 403}},
		{name: "OtherTenant", token: readWrite, steps: []string{
			step("1", "GET", otherItem),
			step("2", "PATCH", otherItem, stepHeaders("Content-Type", "application/json"), stepBody(`{"connectorName":"taken over"}`)),
			step("3", "DELETE", otherItem),
			step("4", "GET", relCollection+"?$select=id"),
			step("5", "GET", relCollection+"/$count"),
		}, alone: []aloneRequest{
			{method: "GET", path: "/beta" + otherItem, header: hdr("Authorization", readWrite)},
			{method: "PATCH", path: "/beta" + otherItem, header: jsonHdr("Authorization", readWrite), body: `{"connectorName":"taken over"}`},
			{method: "DELETE", path: "/beta" + otherItem, header: hdr("Authorization", readWrite)},
			{method: "GET", path: "/beta" + relCollection + "?$select=id", header: hdr("Authorization", readWrite)},
			{method: "GET", path: "/beta" + relCollection + "/$count", header: hdr("Authorization", readWrite)},
		}, want: map[string]int{"1": 404, "2": 404, "3": 404, "4": 200, "5": 200}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, probe := authBatchServer(t, nil)
			alone, _ := authBatchServer(t, nil)
			before := probe.snapshot()
			res, body := postBatch(t, h, batchOf(tc.steps...), "Authorization", tc.token)
			got := readBatch(t, res, body)
			if !reflect.DeepEqual(got.statuses(), tc.want) {
				t.Errorf("statuses %v, want %v", got.statuses(), tc.want)
			}
			for i, a := range tc.alone {
				var reqBody []byte
				if a.body != "" {
					reqBody = []byte(a.body)
				}
				ares, abody := doHandler(t, alone, a.method, a.path, a.header, reqBody)
				checkSameAsAlone(t, got.steps[i], ares, abody)
			}
			switch tc.name {
			case "ReadOnly":
				checkGolden(t, "BatchStepForbidden", render(res, body))
				if !reflect.DeepEqual(probe.snapshot(), before) {
					t.Error("a read-only token's batch changed the store")
				}
			case "OtherTenant":
				checkGolden(t, "BatchStepOtherTenant", render(res, body))
				if e, _ := probe.row(tenantB, tenantBRowID); e.Version != 1 || e.Get("connectorName").Str != "Tenant B's connector" {
					t.Errorf("tenant B's row changed: %+v", e.Values)
				}
				if s := got.get(t, "4"); strings.Contains(string(s.Body), tenantBRowID) {
					t.Errorf("tenant B's row listed: %s", s.Body)
				}
			}
		})
	}
}

// TestBatchThrottle: each request of a batch takes a token from its tenant's bucket as it runs, the batch itself
// none; a throttled request answers 429 with its own Retry-After, and the batch goes on.
func TestBatchThrottle(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := pinnedNow
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	probe := seededProbe(t)
	h := batchServer(t, probe, nil, func(c *httpapi.Config) { c.RateLimit, c.RateBurst, c.Now = 1, 3, clock })
	chain := func(ids ...string) string {
		var reqs []string
		for i, id := range ids {
			var deps []string
			if i > 0 {
				deps = append(deps, dependsOn(ids[i-1]))
			}
			reqs = append(reqs, step(id, "GET", relSeed+"?$select=id", deps...))
		}
		return batchOf(reqs...)
	}
	// Three requests in a burst of three: the batch took no token of its own.
	if got := sendBatch(t, h, chain("1", "2", "3")); !reflect.DeepEqual(got.statuses(), map[string]int{"1": 200, "2": 200, "3": 200}) {
		t.Fatalf("within the burst: %v", got.statuses())
	}
	// The bucket is empty: the batch is still 200, its request 429 with Retry-After.
	res, body := postBatch(t, h, chain("4"))
	got := readBatch(t, res, body)
	if s := got.get(t, "4"); s.Status != 429 || s.header("Retry-After") != "1" || stepCode(t, s) != "TooManyRequests" {
		t.Fatalf("over the burst: %d %v %s", s.Status, s.Headers, s.Body)
	}
	checkGolden(t, "BatchThrottled", render(res, body))
	// The requests counted against the tenant: one alone is throttled too.
	if res, _ := doHandler(t, h, http.MethodGet, "/beta"+relSeed, nil, nil); res.StatusCode != 429 {
		t.Errorf("a request alone after the batches: %d, want 429", res.StatusCode)
	}
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	if got := sendBatch(t, h, chain("5", "6")); !reflect.DeepEqual(got.statuses(), map[string]int{"5": 200, "6": 429}) {
		t.Errorf("a second later: %v, want one token's worth", got.statuses())
	}
}

// TestBatchObservability: one access-log line for each request of a batch, carrying the batch's request-id and
// the request's id, whether it ran or not, plus one for the batch; metrics count requests by route template.
func TestBatchObservability(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	h := batchServer(t, seededProbe(t), &logs, nil)
	got := sendBatch(t, h, batchOf(
		step("get", "GET", relSeed),
		patchStep("patch", `{"connectorName":"logged"}`, dependsOn("get")),
		step("missing", "GET", relMissing),
		step("dependent", "GET", relSeed, dependsOn("missing"), stepHeaders("client-request-id", "dependent-client-id")),
		step("elsewhere", "GET", "https://elsewhere.example/beta"+relSeed),
		step("count", "GET", relCollection+"/$count", dependsOn("patch")),
		patchStep("g1", `{"connectorName":"in a group"}`, inGroup("g"), dependsOn("count")),
		step("g2", "DELETE", relMissing, inGroup("g")),
		patchStep("g3", `{"connectorName":"never"}`, inGroup("g")),
	))
	want := map[string]int{"get": 200, "patch": 200, "missing": 404, "dependent": 424, "elsewhere": 400, "count": 200, "g1": 424, "g2": 404, "g3": 424}
	if !reflect.DeepEqual(got.statuses(), want) {
		t.Fatalf("statuses %v, want %v", got.statuses(), want)
	}

	// The access log: key=value lines of slog's text handler.
	lines := map[string][]string{} // batch_step → its lines
	batchLines := 0
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, " msg=request ") {
			continue
		}
		if !strings.Contains(line, "request_id="+pinnedRequestID) {
			t.Errorf("a line without the batch's request-id: %s", line)
		}
		stepID := logField(line, "batch_step")
		if stepID == "" || stepID == `""` {
			batchLines++
			if !strings.Contains(line, "route=/beta/$batch ") || !strings.Contains(line, "method=POST") {
				t.Errorf("the batch's line: %s", line)
			}
			continue
		}
		lines[stepID] = append(lines[stepID], line)
	}
	if batchLines != 1 {
		t.Errorf("%d lines for the batch itself, want 1", batchLines)
	}
	wantRoutes := map[string]string{
		"get": "/beta/deviceManagement/certificateConnectorDetails/{id}", "patch": "/beta/deviceManagement/certificateConnectorDetails/{id}",
		"missing": "/beta/deviceManagement/certificateConnectorDetails/{id}", "count": "/beta/deviceManagement/certificateConnectorDetails/$count",
		"g1": "/beta/deviceManagement/certificateConnectorDetails/{id}", "g2": "/beta/deviceManagement/certificateConnectorDetails/{id}",
		"dependent": "$batch step", "elsewhere": "$batch step", "g3": "$batch step",
	}
	for id, route := range wantRoutes {
		l := lines[id]
		if len(l) != 1 {
			t.Errorf("request %s: %d log lines, want 1: %q", id, len(l), l)
			continue
		}
		if got := logField(l[0], "route"); got != route && got != `"`+route+`"` {
			t.Errorf("request %s: route %s, want %s", id, got, route)
		}
		// A group's request that ran logs what it answered then; its 424 came later, from its group.
		if id == "g1" {
			continue
		}
		if got := logField(l[0], "status"); got != fmt.Sprint(want[id]) {
			t.Errorf("request %s: status %s in the log, %d in the batch", id, got, want[id])
		}
	}
	if l := lines["dependent"]; len(l) == 1 && logField(l[0], "client_request_id") != "dependent-client-id" {
		t.Errorf("the line of a request that did not run lacks its client-request-id: %s", l[0])
	}
	if s := got.get(t, "dependent"); s.header("client-request-id") != "dependent-client-id" {
		t.Errorf("the 424 lacks the request's client-request-id: %v", s.Headers)
	}
	if len(lines) != len(wantRoutes) {
		t.Errorf("lines for %d requests, want %d", len(lines), len(wantRoutes))
	}

	_, metrics := doHandler(t, h, http.MethodGet, "/metrics", nil, nil)
	for _, series := range []string{
		`graphd_http_requests_total{method="POST",route="/beta/$batch",status="200"} 1`,
		`graphd_http_requests_total{method="GET",route="/beta/deviceManagement/certificateConnectorDetails/{id}",status="200"} 1`,
		`graphd_http_requests_total{method="GET",route="/beta/deviceManagement/certificateConnectorDetails/{id}",status="404"} 1`,
		`graphd_http_requests_total{method="PATCH",route="/beta/deviceManagement/certificateConnectorDetails/{id}",status="200"} 2`,
		`graphd_http_requests_total{method="DELETE",route="/beta/deviceManagement/certificateConnectorDetails/{id}",status="404"} 1`,
		`graphd_http_requests_total{method="GET",route="/beta/deviceManagement/certificateConnectorDetails/$count",status="200"} 1`,
		`graphd_http_requests_total{method="GET",route="$batch step",status="424"} 1`,
		`graphd_http_requests_total{method="GET",route="$batch step",status="400"} 1`,
		`graphd_http_requests_total{method="PATCH",route="$batch step",status="424"} 1`,
	} {
		if !strings.Contains(string(metrics), series+"\n") {
			t.Errorf("/metrics lacks %s", series)
		}
	}
}

// logField reads key=value from a slog text line.
func logField(line, key string) string {
	i := strings.Index(line, " "+key+"=")
	if i < 0 {
		return ""
	}
	v := line[i+len(key)+2:]
	if strings.HasPrefix(v, `"`) {
		end := strings.Index(v[1:], `"`)
		return v[:end+2]
	}
	v, _, _ = strings.Cut(v, " ")
	return v
}
