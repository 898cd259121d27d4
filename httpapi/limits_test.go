package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/graphd/graphd/httpapi"
	"github.com/prometheus/client_golang/prometheus"
)

func TestLimitsAnswerWithEnvelopes(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Config{MaxHeaderBytes: 4096, MaxURLBytes: 2048}, newFakeStore()))
	t.Cleanup(srv.Close)
	tests := []struct {
		name   string
		mutate func(*http.Request)
		url    string
		status int
		code   string
	}{
		{"HeaderTooLarge", func(r *http.Request) { r.Header.Set("X-Big", strings.Repeat("a", 5000)) }, "/beta/deviceManagement/certificateConnectorDetails", 431, "RequestHeaderFieldsTooLarge"},
		{"URLTooLong", func(*http.Request) {}, "/beta/deviceManagement/certificateConnectorDetails?$filter=" + strings.Repeat("a", 3000), 414, "RequestUriTooLong"},
		{"Within", func(*http.Request) {}, "/beta/deviceManagement/certificateConnectorDetails", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.url, nil)
			tt.mutate(req)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status || (tt.code != "" && !strings.Contains(string(body), `"code":"`+tt.code+`"`)) {
				t.Fatalf("%d %s, want %d %s", res.StatusCode, body, tt.status, tt.code)
			}
			if res.Header.Get("request-id") == "" {
				t.Error("no request-id")
			}
		})
	}
}

func TestThrottlePerTenant(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reg := prometheus.NewRegistry()
	h := httpapi.NewServer(httpapi.Config{RateLimit: 1, RateBurst: 3, Now: func() time.Time { return now }, Metrics: reg}, newFakeStore())
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/beta/deviceManagement/certificateConnectorDetails", nil))
		return rec
	}
	for i := range 3 {
		if rec := get(); rec.Code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i, rec.Code)
		}
	}
	rec := get()
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), `"TooManyRequests"`) {
		t.Fatalf("over the burst: %d %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	now = now.Add(time.Second)
	if rec := get(); rec.Code != http.StatusOK {
		t.Fatalf("after a second: %d", rec.Code)
	}
	// /metrics counts the requests and the throttled one, and needs no token.
	mrec := httptest.NewRecorder()
	h.ServeHTTP(mrec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	out := mrec.Body.String()
	for _, want := range []string{
		`graphd_http_throttled_total 1`,
		`graphd_http_requests_total{method="GET",route="/beta/deviceManagement/certificateConnectorDetails",status="200"} 4`,
		`graphd_http_requests_total{method="GET",route="/beta/deviceManagement/certificateConnectorDetails",status="429"} 1`,
		`graphd_http_request_duration_seconds_bucket`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
