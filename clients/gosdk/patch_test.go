package gosdk

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/graphd/graphd/clients/clienttest"
	"github.com/graphd/graphd/clients/gosdk/graphbeta"
	"github.com/graphd/graphd/odata"
)

const seedID = "104d7361-7361-104d-6173-4d1061734d10"

// TestPatchSeed sends the seed's documented update through the SDK's model, serializer and middleware
// (which gzips the body) and checks the model the SDK hands back, then reads it again with a GET.
func TestPatchSeed(t *testing.T) {
	t.Parallel()
	g := clienttest.Start(t, clienttest.Options{})
	g.Import(t, clienttest.NewConnector(seedID, map[string]odata.Value{"connectorName": odata.Str("Imported connector")}))
	client, _ := newClient(t, g)

	enrolled := mustTime(t, "2016-12-31T23:57:59.3726057-08:00")
	checkin := mustTime(t, "2017-01-01T00:02:46.0431416-08:00")
	body := graphbeta.NewCertificateConnectorDetails()
	body.SetConnectorName(ptr("Connector Name value"))
	body.SetMachineName(ptr("Machine Name value"))
	body.SetEnrollmentDateTime(&enrolled)
	body.SetLastCheckinDateTime(&checkin)
	body.SetConnectorVersion(ptr("Connector Version value"))
	item := client.DeviceManagement().CertificateConnectorDetails().ByCertificateConnectorDetailsId(seedID)
	updated, err := item.Patch(t.Context(), body, nil)
	if err != nil {
		t.Fatalf("PATCH: %v", err)
	}

	// kiota-serialization-json-go writes times as RFC 3339 without fractions: the SDK sends
	// 2016-12-31T23:57:59-08:00, and graphd returns what it was sent, offset included.
	wantEnrolled, wantCheckin := "2016-12-31T23:57:59-08:00", "2017-01-01T00:02:46-08:00"
	check := func(t *testing.T, how string, m *graphbeta.CertificateConnectorDetails) {
		t.Helper()
		for _, f := range []struct{ name, got, want string }{
			{"id", deref(m.GetId()), seedID},
			{"@odata.type", deref(m.GetOdataType()), graphbeta.ODataType},
			{"connectorName", deref(m.GetConnectorName()), "Connector Name value"},
			{"machineName", deref(m.GetMachineName()), "Machine Name value"},
			{"connectorVersion", deref(m.GetConnectorVersion()), "Connector Version value"},
			{"enrollmentDateTime", formatTime(m.GetEnrollmentDateTime()), wantEnrolled},
			{"lastCheckinDateTime", formatTime(m.GetLastCheckinDateTime()), wantCheckin},
			{"@odata.etag", etag(m), `W/"2"`},
		} {
			if f.got != f.want {
				t.Errorf("%s: %s = %q, want %q", how, f.name, f.got, f.want)
			}
		}
	}
	check(t, "PATCH response", updated)

	got, err := item.Get(t.Context(), nil)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	check(t, "GET", got)

	stored := g.Connector(t, seedID)
	if s := stored.Get("enrollmentDateTime").Time.String(); s != wantEnrolled {
		t.Errorf("stored enrollmentDateTime %s, want %s", s, wantEnrolled)
	}
	var patches int
	for _, r := range g.Requests() {
		if r.Method != http.MethodPatch {
			continue
		}
		patches++
		if ce := r.Header.Get("Content-Encoding"); ce != "gzip" {
			t.Errorf("PATCH Content-Encoding %q: the SDK's compression handler should have gzipped the body", ce)
		}
		if a := r.Header.Get("Authorization"); a != "Bearer "+g.Token {
			t.Errorf("PATCH Authorization %q, want the static token", a)
		}
		if r.Status != http.StatusOK {
			t.Errorf("PATCH status %d", r.Status)
		}
	}
	if patches != 1 {
		t.Errorf("%d PATCH requests, want 1", patches)
	}
}

// TestPatchErrors checks that graphd's error envelopes reach the caller as the SDK's ODataError.
func TestPatchErrors(t *testing.T) {
	t.Parallel()
	g := clienttest.Start(t, clienttest.Options{})
	g.Import(t, clienttest.NewConnector(seedID, nil))
	client, _ := newClient(t, g)
	tests := []struct {
		name       string
		id         string
		body       func() *graphbeta.CertificateConnectorDetails
		wantStatus int
		wantCode   string
	}{
		{"ErrNotFound", "00000000-0000-4000-8000-0000000000ff", func() *graphbeta.CertificateConnectorDetails {
			b := graphbeta.NewCertificateConnectorDetails()
			b.SetConnectorName(ptr("x"))
			return b
		}, http.StatusNotFound, "ResourceNotFound"},
		{"ErrUnknownProperty", seedID, func() *graphbeta.CertificateConnectorDetails {
			b := graphbeta.NewCertificateConnectorDetails()
			b.SetAdditionalData(map[string]any{"foo": ptr("bar")})
			return b
		}, http.StatusBadRequest, "ModelValidationFailure"},
		{"ErrDifferentID", seedID, func() *graphbeta.CertificateConnectorDetails {
			b := graphbeta.NewCertificateConnectorDetails()
			b.SetId(ptr("00000000-0000-4000-8000-0000000000ff"))
			return b
		}, http.StatusBadRequest, "ModelValidationFailure"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.DeviceManagement().CertificateConnectorDetails().ByCertificateConnectorDetailsId(tc.id).Patch(t.Context(), tc.body(), nil)
			var oe *graphbeta.ODataError
			if !errors.As(err, &oe) {
				t.Fatalf("PATCH: %v (%T), want an ODataError", err, err)
			}
			if oe.ResponseStatusCode != tc.wantStatus || oe.GetErrorEscaped() == nil || deref(oe.GetErrorEscaped().GetCode()) != tc.wantCode {
				t.Errorf("PATCH: %v, want %d %s", oe, tc.wantStatus, tc.wantCode)
			}
			if oe.GetErrorEscaped() != nil && strings.TrimSpace(deref(oe.GetErrorEscaped().GetMessage())) == "" {
				t.Errorf("PATCH: error without a message")
			}
		})
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func formatTime(v *time.Time) string {
	if v == nil {
		return "<nil>"
	}
	return v.Format(time.RFC3339Nano)
}

func etag(m *graphbeta.CertificateConnectorDetails) string {
	if s, ok := m.GetAdditionalData()["@odata.etag"].(*string); ok && s != nil {
		return *s
	}
	return ""
}
