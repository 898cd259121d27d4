package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestReadResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		stream     string
		wantStatus int
		wantErr    bool
	}{
		{"ContentLength", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-type: application/json\r\n\r\nhello", 200, false},
		{"Chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n", 200, false},
		{"ErrorStatus", "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}", 404, false},
		{"ErrConnectionClose", "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 503, true},
		{"ErrNoLength", "HTTP/1.1 200 OK\r\n\r\nbody", 200, true},
		{"ErrMalformed", "SSH-2.0-OpenSSH\r\n", 0, true},
		{"ErrTruncated", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The response is followed by the next one on the same connection: it must be left unread.
			br := bufio.NewReader(strings.NewReader(tt.stream + "NEXT"))
			status, err := readResponse(br, nil)
			if status != tt.wantStatus || (err != nil) != tt.wantErr {
				t.Fatalf("readResponse = %d, %v; want %d, error %v", status, err, tt.wantStatus, tt.wantErr)
			}
			if rest, _ := br.Peek(4); err == nil && string(rest) != "NEXT" {
				t.Errorf("left %q unread, want the next response", rest)
			}
		})
	}
}

func TestPutName(t *testing.T) {
	t.Parallel()
	name := []byte("conn-0000000.0000000")
	putName(name[len("conn-"):], 4321, 765)
	if got := string(name); got != "conn-0004321.0000765" {
		t.Errorf("putName = %q", got)
	}
}

func TestPutDigits(t *testing.T) {
	t.Parallel()
	b := []byte("xx-0000000-xx")
	putDigits(b[3:10], 42)
	if got := string(b); got != "xx-0000042-xx" {
		t.Errorf("putDigits = %q", got)
	}
	id := []byte(entityID(0))
	putDigits(id[len(idPrefix):], 10_000)
	if string(id) != entityID(10_000) {
		t.Errorf("patched id %s, want %s", id, entityID(10_000))
	}
}

func TestReadResponseKeepsBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		stream string
		want   string
	}{
		{"ContentLength", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "hello"},
		{"Chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n", "helloabc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte("old")[:0]
			if _, err := readResponse(bufio.NewReader(strings.NewReader(tt.stream)), &body); err != nil {
				t.Fatal(err)
			}
			if string(body) != tt.want {
				t.Errorf("body %q, want %q", body, tt.want)
			}
		})
	}
}

func TestCheckBatch(t *testing.T) {
	t.Parallel()
	step := func(id, status int) string {
		return fmt.Sprintf(`{"id":"%d","status":%d,"headers":{"Content-Type":"application/json"},"body":{"connectorName":"a \"status\":500"}}`, id, status)
	}
	steps := func(n, failAt, status int) []byte {
		var parts []string
		for i := 1; i <= n; i++ {
			s := 200
			if i == failAt {
				s = status
			}
			parts = append(parts, step(i, s))
		}
		return []byte(`{"responses":[` + strings.Join(parts, ",") + `]}`)
	}
	tests := []struct {
		name    string
		body    []byte
		wantErr string
	}{
		{"OK", steps(batchSteps, 0, 0), ""},
		{"ErrStepFailed", steps(batchSteps, 7, 412), "answered 412"},
		{"ErrTooFewSteps", steps(batchSteps-1, 0, 0), "holds 19 step statuses"},
		{"ErrNotABatch", []byte(`{"error":{"code":"BadRequest"}}`), "holds 0 step statuses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkBatch(tt.body)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("checkBatch = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestBuildBatchRequest(t *testing.T) {
	t.Parallel()
	req, slots := buildRequest(kindBatch, "127.0.0.1:1", "tok")
	if len(slots) != batchSteps {
		t.Fatalf("%d slots, want %d", len(slots), batchSteps)
	}
	for i, s := range slots {
		putDigits(req[s.idAt:s.idAt+idDigits], i+1)
		putName(req[s.nameAt:], i+1, 42)
	}
	head, body, _ := strings.Cut(string(req), "\r\n\r\n")
	head += "\r\n"
	if !strings.Contains(head, "Authorization: Bearer tok\r\n") || !strings.Contains(head, fmt.Sprintf("Content-Length: %d\r\n", len(body))) {
		t.Errorf("head %q", head)
	}
	var batch struct {
		Requests []struct {
			ID, Method, URL string
			Body            struct{ ConnectorName string }
		}
	}
	if err := json.Unmarshal([]byte(body), &batch); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	for i, r := range batch.Requests {
		wantURL := "/deviceManagement/certificateConnectorDetails/" + entityID(i+1)
		if r.Method != "PATCH" || r.URL != wantURL || r.Body.ConnectorName != fmt.Sprintf("conn-%07d.0000042", i+1) {
			t.Errorf("request %d = %+v, want PATCH %s", i, r, wantURL)
		}
	}
}
