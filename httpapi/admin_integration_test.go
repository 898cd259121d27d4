package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
	"github.com/graphd/graphd/store/storetest"
)

// The admin API on PostgreSQL: import in one transaction, export, the byte-exact round trip, resets, the clock,
// and faults inside an atomicity group. The goldens are the fake's (admin_test.go).

func labOnPG(t *testing.T, mod ...func(*httpapi.Config)) (lab, *store.Store) {
	t.Helper()
	st := storetest.Open(t)
	return newLabOn(t, st, nil, mod...), st
}

// exportOf is a tenant's export.
func (l lab) exportOf(tb testing.TB, tenant string) []byte {
	tb.Helper()
	return l.mustAdmin(tb, "GET", "/_graphd/tenants/"+tenant+"/export", "", http.StatusOK)
}

// TestIntegrationAdminExport is TestAdminExport on PostgreSQL: the same golden, the same bytes after export →
// reset → import → export.
func TestIntegrationAdminExport(t *testing.T) {
	t.Parallel()
	l, _ := labOnPG(t, labWithTokens(t))
	labExportTests(t, l)
}

// TestIntegrationAdminImport: every format, and a bad file that changes nothing, however far the import got:
// including a file only the database refuses (a sample of a connector the tenant does not hold).
func TestIntegrationAdminImport(t *testing.T) {
	t.Parallel()
	l, _ := labOnPG(t, labWithTokens(t))
	res, b := l.admin(t, "POST", "/_graphd/tenants/"+tenantA+"/import", labFixture(t))
	checkGolden(t, "AdminImport", render(res, b))
	before := l.exportOf(t, tenantA)
	for _, tc := range labBadImports() {
		res, b := l.admin(t, "POST", "/_graphd/tenants/"+tenantA+"/import", tc.body)
		if res.StatusCode != http.StatusBadRequest && !(tc.name == "Empty" && res.StatusCode == http.StatusUnsupportedMediaType) {
			t.Errorf("%s: %d %s, want 400", tc.name, res.StatusCode, b)
			continue
		}
		if tc.name != "Empty" {
			checkEnvelope(t, res, b, tc.code)
		}
		if after := l.exportOf(t, tenantA); !bytes.Equal(after, before) {
			t.Errorf("%s: the refused import changed the tenant\n--- before\n%s\n--- after\n%s", tc.name, before, after)
		}
	}
	// A file may refer to connectors the tenant already holds, and re-importing replaces as the file states.
	conn := `{"id":"` + labConnA + `","connectorName":"A again"}`
	for _, tc := range []struct{ name, body, counts string }{
		{"Array", `[` + conn + `]`, `{"certificateConnectorDetails":1,"healthMetricSamples":0,"userPfxCertificates":0}`},
		{"Value", `{"value":[` + conn + `]}`, `{"certificateConnectorDetails":1,"healthMetricSamples":0,"userPfxCertificates":0}`},
		{"SampleOfStoredConnector", `{"healthMetricSamples":[{"connectorId":"` + seedID + `","metricName":"pfxImport",
			"dateTime":"2025-01-01T00:00:00Z","successCount":1,"failureCount":1}]}`, `{"certificateConnectorDetails":0,"healthMetricSamples":1,"userPfxCertificates":0}`},
	} {
		if b := l.mustAdmin(t, "POST", "/_graphd/tenants/"+tenantA+"/import", tc.body, http.StatusOK); string(b) != tc.counts {
			t.Errorf("%s: %s, want %s", tc.name, b, tc.counts)
		}
	}
	after := string(l.exportOf(t, tenantA))
	for _, want := range []string{`"id":"` + labConnA + `","connectorName":"A again","machineName":null,"enrollmentDateTime":"0001-01-01T00:00:00Z"`,
		`"dateTime":"2025-01-01T00:00:00Z","successCount":1`} {
		if !strings.Contains(after, want) {
			t.Errorf("the export lacks %s:\n%s", want, after)
		}
	}
	if got := string(l.exportOf(t, tenantB)); got != labEmptyExport {
		t.Error("another tenant got data")
	}
}

// TestIntegrationAdminReset: a tenant's reset leaves other tenants' exports as they were; DELETE /_graphd leaves
// no data, journal, fault or pinned clock.
func TestIntegrationAdminReset(t *testing.T) {
	t.Parallel()
	l, st := labOnPG(t, labWithTokens(t))
	tenants := []string{tenantA, tenantB, odata.DevTenantID}
	for _, tenant := range tenants {
		l.mustAdmin(t, "POST", "/_graphd/tenants/"+tenant+"/import", labFixture(t), 200)
	}
	before := map[string][]byte{}
	for _, tenant := range tenants {
		before[tenant] = l.exportOf(t, tenant)
	}
	l.mustAdmin(t, "DELETE", "/_graphd/tenants/"+tenantA, "", http.StatusNoContent)
	if got := string(l.exportOf(t, tenantA)); got != labEmptyExport {
		t.Errorf("tenant A after its reset: %s", got)
	}
	for _, tenant := range tenants[1:] {
		if got := l.exportOf(t, tenant); !bytes.Equal(got, before[tenant]) {
			t.Errorf("tenant %s changed with tenant A's reset", tenant)
		}
	}
	if sums, err := st.HealthMetrics(t.Context(), tenantB, seedID, []string{"pfxImport"}); err != nil || sums[0] != 13 {
		t.Errorf("tenant B's samples: %v, %v", sums, err)
	}

	l.mustAdmin(t, "POST", "/_graphd/clock", `{"now":"2031-01-01T00:00:00Z"}`, 200)
	l.addFault(t, `{"method":"DELETE","path":"/beta/**","status":503}`)
	l.do(t, "GET", collection, labGraphToken(t, tenantB), "")
	l.mustAdmin(t, "DELETE", "/_graphd", "", http.StatusNoContent)
	for _, tenant := range tenants {
		if got := string(l.exportOf(t, tenant)); got != labEmptyExport {
			t.Errorf("tenant %s after the reset of everything: %s", tenant, got)
		}
	}
	if got := labJournal(t, l, ""); len(got) != 0 {
		t.Errorf("journal: %+v", got)
	}
	if got := l.faults(t); len(got) != 0 {
		t.Errorf("faults: %+v", got)
	}
	res, b := l.do(t, "POST", pfxCollection, jsonHdr("Authorization", labGraphToken(t, tenantA).Get("Authorization")),
		`{"thumbprint":"AB","userPrincipalName":"u@x.example"}`)
	if res.StatusCode != http.StatusCreated || !strings.Contains(string(b), `"createdDateTime":"`+pinnedNowText+`"`) {
		t.Errorf("create after the reset: %d %s", res.StatusCode, b)
	}
	// The server is as good as new: a fixture imports again.
	l.mustAdmin(t, "POST", "/_graphd/tenants/"+tenantB+"/import", labFixture(t), 200)
	if got := l.exportOf(t, tenantB); !bytes.Equal(got, before[tenantB]) {
		t.Errorf("tenant B's export after importing the fixture again differs:\n%s\n%s", got, before[tenantB])
	}
}

// TestIntegrationAdminClock: the pinned clock reaches PostgreSQL's server-set times and now() in $filter.
func TestIntegrationAdminClock(t *testing.T) {
	t.Parallel()
	l, _ := labOnPG(t)
	l.mustAdmin(t, "POST", "/_graphd/clock", `{"now":"2030-06-07T08:09:10.1234567+02:00"}`, 200)
	res, b := l.do(t, "POST", pfxCollection, jsonHdr(), `{"thumbprint":"AB","userPrincipalName":"u@x.example"}`)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", res.StatusCode, b)
	}
	item := pfxCollection + "/" + odata.UserPfxKey("u@x.example", "AB")
	l.mustAdmin(t, "POST", "/_graphd/clock", `{"now":"2031-01-01T00:00:00Z"}`, 200)
	if res, b := l.do(t, "PATCH", item, jsonHdr(), `{"keyName":"k"}`); res.StatusCode != http.StatusOK {
		t.Fatalf("update: %d %s", res.StatusCode, b)
	}
	_, b = l.do(t, "GET", item, nil, "")
	for _, want := range []string{`"createdDateTime":"2030-06-07T06:09:10.1234567Z"`, `"lastModifiedDateTime":"2031-01-01T00:00:00Z"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("GET lacks %s: %s", want, b)
		}
	}
	filter := collection + "/$count?$filter=" + qv("lastCheckinDateTime lt now()")
	l.mustAdmin(t, "POST", "/_graphd/tenants/"+odata.DevTenantID+"/import", `[
		{"id":"`+labConnA+`","lastCheckinDateTime":"2020-01-01T00:00:00Z"},
		{"id":"`+seedID+`","lastCheckinDateTime":"2028-01-01T00:00:00Z"}]`, 200)
	for _, step := range []struct{ pin, want string }{{"2019-06-01T00:00:00Z", "0"}, {"2030-06-01T00:00:00Z", "2"}, {"", "1"}} {
		if step.pin == "" {
			l.mustAdmin(t, "DELETE", "/_graphd/clock", "", http.StatusNoContent)
		} else {
			l.mustAdmin(t, "POST", "/_graphd/clock", `{"now":"`+step.pin+`"}`, 200)
		}
		if _, b := l.do(t, "GET", filter, nil, ""); string(b) != step.want {
			t.Errorf("clock %q: %s, want %s", step.pin, b, step.want)
		}
	}
}

// TestIntegrationAdminFaults: a faulted request is not applied on PostgreSQL, alone or in an atomicity group,
// whose other requests then roll back.
func TestIntegrationAdminFaults(t *testing.T) {
	t.Parallel()
	l, _ := labOnPG(t)
	l.mustAdmin(t, "POST", "/_graphd/tenants/"+odata.DevTenantID+"/import", labFixture(t), 200)
	before := l.exportOf(t, odata.DevTenantID)
	l.addFault(t, `{"method":"PATCH","path":"`+pfxCollection+`/*","status":503,"times":2}`)
	if res, b := l.do(t, "PATCH", pfxCollection+"/"+aliceKey, jsonHdr(), `{"keyName":"faulted"}`); res.StatusCode != 503 {
		t.Fatalf("PATCH: %d %s", res.StatusCode, b)
	}
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
	if after := l.exportOf(t, odata.DevTenantID); !bytes.Equal(after, before) {
		t.Errorf("a faulted request or its group was applied:\n%s", after)
	}
	// The fault is used up: the same group now commits.
	res, b = l.do(t, "POST", "/beta/$batch", jsonHdr(), group)
	if steps := labBatchResponses(t, res, b); steps["1"].Status != 200 || steps["2"].Status != 200 {
		t.Errorf("after the fault: %s", b)
	}
}
