package httpapi_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/graphd/graphd/httpapi"
)

// TestEnvelopeListener sends requests net/http answers by itself, before any handler, and checks each answer is
// the Graph error envelope with request-id headers; a handler's own error response passes untouched.
func TestEnvelopeListener(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := httpapi.Config{Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		NewRequestID: func() string { return "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d" }}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["request-id"] = []string{"handler-id"}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "the handler's own answer")
	})
	srv := &http.Server{Handler: handler, MaxHeaderBytes: 4 << 10, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(httpapi.EnvelopeListener(ln, cfg)) }()
	t.Cleanup(func() { _ = srv.Close() })

	cases := []struct {
		name, request string
		status        int
		code          string
	}{
		{"MalformedRequestLine", "GARBAGE\r\n\r\n", 400, "BadRequest"},
		{"BadHeaderBytes", "GET / HTTP/1.1\r\nHost: x\r\nBad Header: \x01\r\n\r\n", 400, "BadRequest"},
		{"MissingHost", "GET / HTTP/1.1\r\n\r\n", 400, "BadRequest"},
		{"HTTP2OnHTTP1", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "HttpVersionNotSupported"},
		{"HeadersTooLarge", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 8<<10) + "\r\n\r\n", 431, "RequestHeaderFieldsTooLarge"},
		{"UnknownTransferEncoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo\r\n\r\n", 501, "NotImplemented"},
		{"UnknownExpectation", "GET / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n", 417, "ExpectationFailed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, body := rawRequest(t, ln.Addr().String(), tc.request)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.status, body)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q", got)
			}
			if resp.Header.Get("request-id") == "" || resp.Header.Get("client-request-id") == "" {
				t.Errorf("missing request-id headers: %v", resp.Header)
			}
			var env struct {
				Error struct {
					Code, Message string
					InnerError    map[string]string
				}
			}
			if err := json.Unmarshal(body, &env); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, body)
			}
			if env.Error.Code != tc.code || env.Error.Message == "" || env.Error.InnerError["request-id"] == "" {
				t.Errorf("envelope %s, want code %s", body, tc.code)
			}
		})
	}
	t.Run("HandlerAnswerUntouched", func(t *testing.T) {
		t.Parallel()
		resp, body := rawRequest(t, ln.Addr().String(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp.StatusCode != 400 || string(body) != "the handler's own answer" || resp.Header.Get("request-id") != "handler-id" {
			t.Errorf("status %d, headers %v, body %q", resp.StatusCode, resp.Header, body)
		}
	})
}

func rawRequest(t *testing.T, addr, request string) (*http.Response, []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}
