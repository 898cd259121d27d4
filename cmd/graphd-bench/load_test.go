package main

import (
	"bufio"
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
			status, err := readResponse(br)
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
