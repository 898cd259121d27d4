package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
)

// Faults on demand, POST /_graphd/faults (issue 11 item 2).

// addFault adds a fault and returns it as the API answered.
func (l lab) addFault(tb testing.TB, body string) httpapi.Fault {
	tb.Helper()
	b := l.mustAdmin(tb, "POST", "/_graphd/faults", body, http.StatusCreated)
	var f httpapi.Fault
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil || f.ID == "" {
		tb.Fatalf("fault %s: %v", b, err)
	}
	return f
}

func (l lab) faults(tb testing.TB) []httpapi.Fault {
	tb.Helper()
	b := l.mustAdmin(tb, "GET", "/_graphd/faults", "", 200)
	var list struct{ Value []httpapi.Fault }
	if err := json.Unmarshal(b, &list); err != nil || list.Value == nil {
		tb.Fatalf("faults %s: %v", b, err)
	}
	return list.Value
}

// TestAdminFaultsCRUD: POST answers 201 with the fault and its id, GET lists them in order, DELETE removes one or
// all.
func TestAdminFaultsCRUD(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	res, b := l.admin(t, "POST", "/_graphd/faults", `{"method":"patch","path":"/beta/deviceManagement/certificateConnectorDetails/*",
		"status":429,"retryAfterSeconds":7,"times":2,"probability":0.5,"tenant":"`+strings.ToUpper(tenantA)+`","id":"mine"}`)
	checkGolden(t, "AdminFaultCreated", render(res, b))
	f1 := l.addFault(t, `{"method":"*","path":"/beta/**","delayMs":10}`)
	f2 := l.addFault(t, `{"method":"GET","path":"/beta/users","status":503,"code":"Throttled","message":"Slow down."}`)
	if f1.ID == f2.ID || f1.ID == "mine" {
		t.Errorf("ids %q and %q", f1.ID, f2.ID)
	}
	list := l.faults(t)
	if len(list) != 3 || list[1].ID != f1.ID || list[2].ID != f2.ID {
		t.Fatalf("list %+v", list)
	}
	if got := list[2]; got.Code != "Throttled" || got.Message != "Slow down." || got.Status != 503 {
		t.Errorf("listed %+v", got)
	}
	if got := list[0]; got.Method != "PATCH" || got.Tenant != tenantA || *got.Times != 2 || *got.Probability != 0.5 ||
		*got.RetryAfterSeconds != 7 || got.Code != "TooManyRequests" {
		t.Errorf("listed %+v", got)
	}
	res, b = l.admin(t, "DELETE", "/_graphd/faults/"+f1.ID, "")
	if res.StatusCode != http.StatusNoContent || len(b) != 0 {
		t.Fatalf("DELETE %s: %d %s", f1.ID, res.StatusCode, b)
	}
	if list := l.faults(t); len(list) != 2 || list[0].ID == f1.ID || list[1].ID != f2.ID {
		t.Errorf("after DELETE: %+v", list)
	}
	res, b = l.admin(t, "DELETE", "/_graphd/faults/"+f1.ID, "")
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE again: %d %s", res.StatusCode, b)
	}
	checkEnvelope(t, res, b, odata.CodeResourceNotFound)
	l.mustAdmin(t, "DELETE", "/_graphd/faults", "", 204)
	if list := l.faults(t); len(list) != 0 {
		t.Errorf("after DELETE all: %+v", list)
	}
	// Ids are not reused.
	if f := l.addFault(t, `{"method":"*","path":"/**","status":500}`); f.ID == f1.ID || f.ID == f2.ID {
		t.Errorf("id %s reused", f.ID)
	}
}

// TestAdminFaultsValidation: a fault that could not fire as written is a 400, and is not added.
func TestAdminFaultsValidation(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	for _, body := range []string{
		`{"path":"/beta/**","status":500}`,
		`{"method":" ","path":"/beta/**","status":500}`,
		`{"method":"GET","status":500}`,
		`{"method":"GET","path":"beta/**","status":500}`,
		`{"method":"GET","path":"/_graphd/**","status":500}`,
		`{"method":"GET","path":"/v1.0/**","status":500}`,
		`{"method":"GET","path":"/beta/users?$top=1","status":500}`,
		`{"method":"GET","path":"/beta/**"}`,
		`{"method":"GET","path":"/beta/**","status":399}`,
		`{"method":"GET","path":"/beta/**","status":600}`,
		`{"method":"GET","path":"/beta/**","status":200}`,
		`{"method":"GET","path":"/beta/**","delayMs":-1}`,
		`{"method":"GET","path":"/beta/**","delayMs":60001}`,
		`{"method":"GET","path":"/beta/**","status":500,"retryAfterSeconds":-1}`,
		`{"method":"GET","path":"/beta/**","status":500,"times":0}`,
		`{"method":"GET","path":"/beta/**","status":500,"probability":-0.1}`,
		`{"method":"GET","path":"/beta/**","status":500,"probability":1.01}`,
		`{"method":"GET","path":"/beta/**","status":500,"tenant":"contoso"}`,
		`{"method":"GET","path":"/beta/**","status":"500"}`,
		`{"method":"GET","path":"/beta/**","status":500,"statusCode":500}`,
		`{"method":"GET","path":"/beta/**","status":500} {}`,
		`[]`, `null`, `{`,
	} {
		res, b := l.admin(t, "POST", "/_graphd/faults", body)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", body, res.StatusCode, b)
			continue
		}
		checkEnvelope(t, res, b, odata.CodeBadRequest)
	}
	if list := l.faults(t); len(list) != 0 {
		t.Errorf("refused faults were added: %+v", list)
	}
	for _, body := range []string{
		`{"method":"GET","path":"/beta/**","status":500,"probability":0}`,
		`{"method":"GET","path":"/beta/**","status":500,"probability":1,"times":1,"retryAfterSeconds":0}`,
		`{"method":"GET","path":"/**","delayMs":60000}`,
		`{"method":"GET","path":"/*/users","status":400}`,
	} {
		l.addFault(t, body)
	}
}

// labWithRows is a lab with a connector and a certificate in the development tenant.
func labWithRows(t *testing.T, mod ...func(*httpapi.Config)) lab {
	t.Helper()
	l := newLab(t, mod...)
	l.fake.put(odata.DevTenantID, seedRow(t))
	l.fake.put(odata.DevTenantID, aliceRow(t))
	return l
}

// TestAdminFaultsPatterns: * matches one segment, ** any number (none included); the method must match, or be *.
func TestAdminFaultsPatterns(t *testing.T) {
	t.Parallel()
	type req struct{ method, path, body string }
	var (
		list   = req{"GET", collection, ""}
		get    = req{"GET", seedItem, ""}
		paren  = req{"GET", collection + "('" + seedID + "')", ""}
		patch  = req{"PATCH", seedItem, `{"connectorName":"x"}`}
		count  = req{"GET", collection + "/$count", ""}
		action = req{"POST", seedItem + "/getHealthMetrics", `{"metricNames":["m"]}`}
		pfx    = req{"GET", pfxItem, ""}
		users  = req{"GET", "/beta/users?$filter=" + qv("userPrincipalName eq 'a@b.example'"), ""}
		meta   = req{"GET", "/beta/$metadata", ""}
	)
	all := []req{list, get, paren, patch, count, action, pfx, users, meta}
	for _, tc := range []struct {
		method, pattern string
		fires           []req
	}{
		// The key form ('id') is a segment of its own, as the path form's /id is.
		{"*", collection + "/*", []req{get, paren, patch, count}},
		{"GET", collection + "/*", []req{get, paren, count}},
		{"patch", collection + "/*", []req{patch}},
		{"*", collection + "/**", []req{list, get, paren, patch, count, action}},
		{"*", collection, []req{list}},
		{"*", "/beta/deviceManagement/*", []req{list}},
		{"*", "/beta/deviceManagement/*/*", []req{get, paren, patch, count, pfx}},
		{"POST", "/beta/**/getHealthMetrics", []req{action}},
		{"*", "/beta/*", []req{users, meta}},
		{"*", "/beta/**", all},
		{"*", "/**", all},
		{"*", "/*/users", []req{users}},
		{"*", "/beta/**/" + seedID + "/**", []req{get, paren, patch, action}},
		{"*", "/beta/**/nothing", nil},
		{"DELETE", "/**", nil},
	} {
		t.Run(tc.method+tc.pattern, func(t *testing.T) {
			t.Parallel()
			l := labWithRows(t)
			l.addFault(t, `{"method":"`+tc.method+`","path":"`+tc.pattern+`","status":418}`)
			for _, r := range all {
				h := http.Header{}
				if r.body != "" {
					h = jsonHdr()
				}
				res, b := l.do(t, r.method, r.path, h, r.body)
				want := false
				for _, f := range tc.fires {
					want = want || f == r
				}
				if got := res.StatusCode == 418; got != want {
					t.Errorf("%s %s: %d %s; fires %v, want %v", r.method, r.path, res.StatusCode, b, got, want)
				}
			}
		})
	}
}

// TestAdminFaultsStatus: a status fault answers with its status, Graph's envelope (the code from the contract's
// table unless given), Retry-After when set and the request-id headers; the request is not applied, and the
// journal has it with the fault's id and the body the client sent.
func TestAdminFaultsStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, fault string
		status      int
		code        string
		retryAfter  string
		message     string
	}{
		{"TooManyRequests", `"status":429,"retryAfterSeconds":3`, 429, "TooManyRequests", "3", ""},
		{"TooManyRequestsNoRetryAfter", `"status":429`, 429, "TooManyRequests", "", ""},
		{"RetryAfterZero", `"status":429,"retryAfterSeconds":0`, 429, "TooManyRequests", "0", ""},
		// graphd gives every 503 a Retry-After; the fault's own wins.
		{"ServiceUnavailable", `"status":503`, 503, odata.CodeServiceNotAvailable, "5", ""},
		{"ServiceUnavailableRetryAfter", `"status":503,"retryAfterSeconds":30`, 503, odata.CodeServiceNotAvailable, "30", ""},
		{"InternalServerError", `"status":500`, 500, odata.CodeInternalServerError, "", ""},
		{"GatewayTimeout", `"status":504`, 504, "GatewayTimeout", "", ""},
		{"NotFound", `"status":404`, 404, odata.CodeResourceNotFound, "", ""},
		{"PreconditionFailed", `"status":412`, 412, odata.CodePreconditionFailed, "", ""},
		{"Conflict", `"status":409`, 409, odata.CodeConflict, "", ""},
		{"Forbidden", `"status":403`, 403, "Forbidden", "", ""},
		{"NotInTable4xx", `"status":418`, 418, odata.CodeBadRequest, "", ""},
		{"NotInTable5xx", `"status":507`, 507, odata.CodeInternalServerError, "", ""},
		{"GivenCodeAndMessage", `"status":400,"code":"ModelValidationFailure","message":"Injected."`, 400, "ModelValidationFailure", "", "Injected."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := labWithRows(t)
			f := l.addFault(t, `{"method":"PATCH","path":"/beta/deviceManagement/*/*",`+tc.fault+`}`)
			body := `{"connectorName":"never stored"}`
			res, b := l.do(t, "PATCH", seedItem, jsonHdr("client-request-id", "retry-test"), body)
			if res.StatusCode != tc.status {
				t.Fatalf("%d %s, want %d", res.StatusCode, b, tc.status)
			}
			env := checkEnvelope(t, res, b, tc.code)
			if tc.message != "" && env.Error.Message != tc.message {
				t.Errorf("message %q, want %q", env.Error.Message, tc.message)
			}
			if got := res.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			if headerValue(res.Header, "client-request-id") != "retry-test" || headerValue(res.Header, "request-id") != pinnedRequestID {
				t.Errorf("request-id headers: %v", res.Header)
			}
			if res.Header.Get("ETag") != "" {
				t.Error("the fault's answer has an ETag")
			}
			if l.fake.writes != 0 {
				t.Error("the faulted PATCH was applied")
			}
			if e, _ := l.fake.row(odata.DevTenantID, seedID); e.Get("connectorName").Str != "Old connector" {
				t.Error("the faulted PATCH changed the row")
			}
			got := labJournal(t, l, "")
			if len(got) != 1 || labStr(got[0].Fault) != f.ID || got[0].Status != tc.status || string(got[0].RequestBody) != body ||
				got[0].ClientRequestID != "retry-test" || labStr(got[0].Tenant) != "<null>" {
				t.Errorf("journal %+v (body %s), want the fault %s", got, got[0].RequestBody, f.ID)
			}
		})
	}
	t.Run("Golden", func(t *testing.T) {
		t.Parallel()
		l := labWithRows(t)
		l.addFault(t, `{"method":"GET","path":"/beta/**","status":429,"retryAfterSeconds":2}`)
		res, b := l.do(t, "GET", seedItem, nil, "")
		checkGolden(t, "AdminFaultResponse", render(res, b))
		// HEAD, which GET serves, is its own method.
		if res, _ := l.do(t, "HEAD", seedItem, nil, ""); res.StatusCode != http.StatusOK {
			t.Errorf("HEAD: %d", res.StatusCode)
		}
	})
}

// TestAdminFaultsDelay: a fault with delayMs and no status delays the request, which is then served as usual.
func TestAdminFaultsDelay(t *testing.T) {
	t.Parallel()
	const delay = 150 * time.Millisecond
	l := labWithRows(t)
	f := l.addFault(t, `{"method":"PATCH","path":"/beta/**","delayMs":`+strconv.Itoa(int(delay.Milliseconds()))+`}`)
	start := time.Now()
	res, b := l.do(t, "PATCH", seedItem, jsonHdr(), `{"connectorName":"late"}`)
	elapsed := time.Since(start)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
	if elapsed < delay {
		t.Errorf("served after %v, the fault delays %v", elapsed, delay)
	}
	if e, _ := l.fake.row(odata.DevTenantID, seedID); e.Get("connectorName").Str != "late" {
		t.Error("the delayed PATCH was not applied")
	}
	got := labJournal(t, l, "")
	if len(got) != 1 || labStr(got[0].Fault) != f.ID || got[0].Status != 200 || got[0].DurationMs < float64(delay.Milliseconds()) {
		t.Errorf("journal %+v", got)
	}
	// A GET does not match, and is not delayed.
	start = time.Now()
	if res, _ := l.do(t, "GET", seedItem, nil, ""); res.StatusCode != 200 || time.Since(start) >= delay {
		t.Errorf("GET: %d after %v", res.StatusCode, time.Since(start))
	}

	t.Run("WithStatus", func(t *testing.T) {
		t.Parallel()
		l := labWithRows(t)
		l.addFault(t, `{"method":"GET","path":"/beta/**","delayMs":100,"status":503}`)
		start := time.Now()
		res, _ := l.do(t, "GET", seedItem, nil, "")
		if res.StatusCode != 503 || time.Since(start) < 100*time.Millisecond {
			t.Errorf("%d after %v", res.StatusCode, time.Since(start))
		}
	})
	t.Run("ClientGone", func(t *testing.T) {
		t.Parallel()
		// A client that gives up does not hold the handler for the whole delay.
		l := labWithRows(t)
		l.addFault(t, `{"method":"GET","path":"/beta/**","delayMs":60000}`)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://graph.example.test"+seedItem, nil)
		start := time.Now()
		l.h.ServeHTTP(&discardWriter{h: http.Header{}}, req)
		if time.Since(start) > 10*time.Second {
			t.Errorf("the handler waited %v for a client that left", time.Since(start))
		}
	})
}

// TestAdminFaultsTimes: times counts down as the fault fires, and the fault is gone at 0.
func TestAdminFaultsTimes(t *testing.T) {
	t.Parallel()
	l := labWithRows(t)
	f := l.addFault(t, `{"method":"GET","path":"/beta/**","status":503,"times":2}`)
	other := l.addFault(t, `{"method":"DELETE","path":"/beta/**","status":500}`)
	var statuses []int
	for i := range 4 {
		res, _ := l.do(t, "GET", seedItem, nil, "")
		statuses = append(statuses, res.StatusCode)
		list := l.faults(t)
		switch i {
		case 0:
			if len(list) != 2 || list[0].ID != f.ID || list[0].Times == nil || *list[0].Times != 1 {
				t.Errorf("after one firing: %+v", list)
			}
		default:
			if len(list) != 1 || list[0].ID != other.ID {
				t.Errorf("after %d requests: %+v", i+1, list)
			}
		}
	}
	if want := []int{503, 503, 200, 200}; !reflect.DeepEqual(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	// A request the fault does not match does not count it down.
	g := l.addFault(t, `{"method":"GET","path":"/beta/users","status":503,"times":1}`)
	l.do(t, "GET", seedItem, nil, "")
	if list := l.faults(t); len(list) != 2 || list[1].ID != g.ID || *list[1].Times != 1 {
		t.Errorf("a request elsewhere counted the fault down: %+v", list)
	}
}

// TestAdminFaultsProbability: probability 0 never fires, 1 always does (as does none given).
func TestAdminFaultsProbability(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, extra string
		fires       bool
	}{
		{"Zero", `,"probability":0`, false},
		{"One", `,"probability":1`, true},
		{"Default", ``, true},
		{"ZeroWithTimes", `,"probability":0,"times":1`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := labWithRows(t)
			l.addFault(t, `{"method":"GET","path":"/beta/**","status":503`+tc.extra+`}`)
			for range 50 {
				res, _ := l.do(t, "GET", seedItem, nil, "")
				if got := res.StatusCode == 503; got != tc.fires {
					t.Fatalf("status %d; fires %v, want %v", res.StatusCode, got, tc.fires)
				}
			}
			if !tc.fires && len(l.faults(t)) != 1 {
				t.Error("a fault that never fired was counted down")
			}
		})
	}
}

// TestAdminFaultsOrder: faults fire after routing (an unknown path or verb answers as without them) and before
// authentication (a request without a token gets the fault); a fault that names a tenant fires after
// authentication, for that tenant only.
func TestAdminFaultsOrder(t *testing.T) {
	t.Parallel()
	t.Run("AfterRouting", func(t *testing.T) {
		t.Parallel()
		l := labWithRows(t)
		l.addFault(t, `{"method":"*","path":"/**","status":503}`)
		res, b := l.do(t, "GET", "/beta/deviceManagement/nothing", nil, "")
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("unknown segment: %d %s", res.StatusCode, b)
		}
		if env := checkEnvelope(t, res, b, odata.CodeBadRequest); env.Error.Message != "Resource not found for the segment 'nothing'." {
			t.Errorf("message %q", env.Error.Message)
		}
		if res, b := l.do(t, "PUT", seedItem, jsonHdr(), `{}`); res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("PUT: %d %s", res.StatusCode, b)
		}
		for _, p := range []string{"/healthz", "/metrics"} {
			if res, b := l.do(t, "GET", p, nil, ""); res.StatusCode != http.StatusOK {
				t.Errorf("%s: %d %s", p, res.StatusCode, b)
			}
		}
		if res, _ := l.do(t, "GET", seedItem, nil, ""); res.StatusCode != 503 {
			t.Errorf("GET: %d, the fault did not fire", res.StatusCode)
		}
		// The canonical path is matched, however the client spelt the service's segments.
		if res, _ := l.do(t, "GET", "/BETA/devicemanagement/CertificateConnectorDetails/"+seedID+"/", nil, ""); res.StatusCode != 503 {
			t.Errorf("GET in other case: %d, the fault did not fire", res.StatusCode)
		}
	})
	t.Run("BeforeAuthentication", func(t *testing.T) {
		t.Parallel()
		l := labWithRows(t, labWithTokens(t))
		l.addFault(t, `{"method":"GET","path":"/beta/**","status":503,"times":3}`)
		for _, h := range []http.Header{nil, hdr("Authorization", "Bearer garbage"), hdr("Authorization", "Bearer "+labAdminToken)} {
			if res, b := l.do(t, "GET", seedItem, h, ""); res.StatusCode != 503 {
				t.Errorf("%v: %d %s, want the fault's 503", h, res.StatusCode, b)
			}
		}
		if res, _ := l.do(t, "GET", seedItem, nil, ""); res.StatusCode != 401 {
			t.Errorf("after the fault: %d, want 401", res.StatusCode)
		}
	})
	t.Run("Tenant", func(t *testing.T) {
		t.Parallel()
		l := newLab(t, labWithTokens(t))
		for _, tenant := range []string{tenantA, tenantB} {
			l.fake.put(tenant, seedRow(t))
		}
		f := l.addFault(t, `{"method":"PATCH","path":"/beta/**","status":429,"tenant":"`+tenantA+`"}`)
		patch := func(h http.Header) int {
			hh := jsonHdr()
			if h != nil {
				hh.Set("Authorization", h.Get("Authorization"))
			}
			res, _ := l.do(t, "PATCH", seedItem, hh, `{"connectorName":"p"}`)
			return res.StatusCode
		}
		if got := patch(nil); got != 401 {
			t.Errorf("without a token: %d, want 401 (the tenant's fault fires after authentication)", got)
		}
		if got := patch(labGraphToken(t, tenantB)); got != 200 {
			t.Errorf("tenant B: %d, want 200", got)
		}
		if got := patch(labGraphToken(t, tenantA)); got != 429 {
			t.Errorf("tenant A: %d, want the fault's 429", got)
		}
		// Before the permission check: a token without permissions of the tenant gets the fault too.
		if got := patch(labGraphToken(t, tenantA, "scp", "User.Read")); got != 429 {
			t.Errorf("tenant A without permission: %d, want the fault's 429", got)
		}
		if e, _ := l.fake.row(tenantA, seedID); e.Get("connectorName").Str != "Old connector" {
			t.Error("tenant A's faulted PATCH was applied")
		}
		got := labJournal(t, l, "tenant="+tenantA)
		if len(got) != 2 || labStr(got[0].Fault) != f.ID || got[0].Status != 429 {
			t.Errorf("journal of tenant A: %+v", got)
		}
		if got := labJournal(t, l, "tenant="+tenantB); len(got) != 1 || got[0].Fault != nil {
			t.Errorf("journal of tenant B: %+v", got)
		}
	})
	t.Run("TenantAuthNone", func(t *testing.T) {
		t.Parallel()
		l := labWithRows(t)
		l.addFault(t, `{"method":"GET","path":"/beta/**","status":429,"tenant":"`+tenantA+`"}`)
		if res, _ := l.do(t, "GET", seedItem, nil, ""); res.StatusCode != 200 {
			t.Errorf("another tenant's fault fired: %d", res.StatusCode)
		}
		l.addFault(t, `{"method":"GET","path":"/beta/**","status":429,"tenant":"`+odata.DevTenantID+`"}`)
		if res, _ := l.do(t, "GET", seedItem, nil, ""); res.StatusCode != 429 {
			t.Errorf("the development tenant's fault: %d, want 429", res.StatusCode)
		}
	})
}

// labStepResponse is a response of a $batch.
type labStepResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

func labBatchResponses(t *testing.T, res *http.Response, b []byte) map[string]labStepResponse {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("batch: %d %s", res.StatusCode, b)
	}
	var out struct{ Responses []labStepResponse }
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("batch response %s: %v", b, err)
	}
	m := map[string]labStepResponse{}
	for _, r := range out.Responses {
		m[r.ID] = r
	}
	return m
}

// TestAdminFaultsBatch: faults match the requests of a $batch by their /beta path and answer inside the batch.
func TestAdminFaultsBatch(t *testing.T) {
	t.Parallel()
	batch := `{"requests":[
		{"id":"1","method":"PATCH","url":"/deviceManagement/certificateConnectorDetails/` + seedID + `",
		 "headers":{"Content-Type":"application/json"},"body":{"connectorName":"batched"}},
		{"id":"2","method":"GET","url":"https://graph.example.test/beta/deviceManagement/certificateConnectorDetails/` + seedID + `"},
		{"id":"3","method":"PATCH","url":"deviceManagement/userPfxCertificates/` + aliceKey + `",
		 "headers":{"Content-Type":"application/json"},"body":{"keyName":"k"}}]}`
	for _, tc := range []struct {
		name   string
		tenant string
	}{{"BeforeAuthentication", ""}, {"Tenant", tenantA}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, labWithTokens(t))
			l.fake.put(tenantA, seedRow(t))
			l.fake.put(tenantA, aliceRow(t))
			tenant := ""
			if tc.tenant != "" {
				tenant = `,"tenant":"` + tc.tenant + `"`
			}
			f := l.addFault(t, `{"method":"PATCH","path":"`+collection+`/*","status":429,"retryAfterSeconds":4`+tenant+`}`)
			before := l.fake.snapshot()
			res, b := l.do(t, "POST", "/beta/$batch", jsonHdr("Authorization", labGraphToken(t, tenantA).Get("Authorization")), batch)
			steps := labBatchResponses(t, res, b)
			s1 := steps["1"]
			if s1.Status != 429 || s1.Headers["Retry-After"] != "4" {
				t.Errorf("request 1: %+v", s1)
			}
			var env envelope
			if err := json.Unmarshal(s1.Body, &env); err != nil || env.Error.Code != "TooManyRequests" || env.Error.InnerError.RequestID == "" {
				t.Errorf("request 1's body %s", s1.Body)
			}
			if steps["2"].Status != 200 || steps["3"].Status != 200 {
				t.Errorf("requests 2 and 3: %d, %d", steps["2"].Status, steps["3"].Status)
			}
			if !reflect.DeepEqual(ofTenant(before, tenantA)[connSet.Index], ofTenant(l.fake.snapshot(), tenantA)[connSet.Index]) {
				t.Error("the faulted request of the batch was applied")
			}
			if e, _ := l.fake.rowOf(pfxSet, tenantA, aliceKey); e.Get("keyName").Str != "k" {
				t.Error("the batch's other PATCH was not applied")
			}
			var faulted []string
			for _, e := range labJournal(t, l, "") {
				if e.Fault != nil {
					if *e.Fault != f.ID || labStr(e.StepID) != "1" || e.BatchRequestID == nil || e.Status != 429 {
						t.Errorf("journal entry %+v", e)
					}
					faulted = append(faulted, labStr(e.StepID))
				}
			}
			if len(faulted) != 1 {
				t.Errorf("journal entries with the fault: %v", faulted)
			}
		})
	}
	t.Run("AtomicityGroup", func(t *testing.T) {
		t.Parallel()
		// A faulted request fails its group, and the fault fires once. (That nothing of the group persists is the
		// store's transaction: admin_integration_test.go.)
		l := labWithRows(t)
		f := l.addFault(t, `{"method":"PATCH","path":"`+pfxCollection+`/*","status":503,"times":1}`)
		group := `{"requests":[
			{"id":"1","atomicityGroup":"g","method":"PATCH","url":"/deviceManagement/certificateConnectorDetails/` + seedID + `",
			 "headers":{"Content-Type":"application/json"},"body":{"connectorName":"grouped"}},
			{"id":"2","atomicityGroup":"g","method":"PATCH","url":"/deviceManagement/userPfxCertificates/` + aliceKey + `",
			 "headers":{"Content-Type":"application/json"},"body":{"keyName":"grouped"}}]}`
		res, b := l.do(t, "POST", "/beta/$batch", jsonHdr(), group)
		steps := labBatchResponses(t, res, b)
		if steps["1"].Status != 424 || steps["2"].Status != 503 {
			t.Errorf("statuses %d, %d; want 424, 503", steps["1"].Status, steps["2"].Status)
		}
		if list := l.faults(t); len(list) != 0 {
			t.Errorf("the fault with times 1 is still there: %+v", list)
		}
		n := 0
		for _, e := range labJournal(t, l, "") {
			if e.Fault != nil && *e.Fault == f.ID {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d journal entries carry the fault, want 1", n)
		}
	})
}
