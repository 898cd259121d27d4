package httpapi

import (
	"bytes"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/graphd/graphd/odata"
)

// Some requests never reach a handler: net/http answers them itself, in plain text, when the request line or a
// header cannot be parsed (400), the header block is over the server's limit (431), the HTTP version is not 1.x
// (505, e.g. HTTP/2.0 sent on an HTTP/1 connection), the Transfer-Encoding is not one it implements (501), or an
// Expect header asks for anything but 100-continue (417). EnvelopeListener's connections catch those answers on
// their way to the client and send the Graph error envelope instead, with request-id and client-request-id
// headers like every other response. Responses of handlers pass untouched: they always carry a request-id.
//
// What remains plain: nothing net/http writes for HTTP/1.x. A TLS handshake failure or a connection that sends
// no request gets no HTTP answer at all.

// EnvelopeListener wraps ln so that net/http's own error answers carry the Graph error envelope. cfg's Now and
// NewRequestID are used as NewServer uses them.
func EnvelopeListener(ln net.Listener, cfg Config) net.Listener {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewRequestID == nil {
		cfg.NewRequestID = odata.NewGUID
	}
	return &envelopeListener{Listener: ln, now: cfg.Now, newID: cfg.NewRequestID}
}

type envelopeListener struct {
	net.Listener
	now   func() time.Time
	newID func() string
}

func (l *envelopeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &envelopeConn{Conn: c, l: l}, nil
}

type envelopeConn struct {
	net.Conn
	l *envelopeListener
}

var (
	http11         = []byte("HTTP/1.1 ")
	headerEnd      = []byte("\r\n\r\n")
	requestIDField = []byte("\r\nrequest-id: ")
)

// Write passes responses through, except an error status line whose header block has no request-id: that is
// net/http answering by itself.
func (c *envelopeConn) Write(b []byte) (int, error) {
	if len(b) < 12 || !bytes.HasPrefix(b, http11) || (b[9] != '4' && b[9] != '5') {
		return c.Conn.Write(b)
	}
	end := bytes.Index(b, headerEnd)
	if end < 0 || bytes.Contains(b[:end], requestIDField) {
		return c.Conn.Write(b)
	}
	status, err := strconv.Atoi(string(b[9:12]))
	if err != nil {
		return c.Conn.Write(b)
	}
	if _, err := c.Conn.Write(c.envelope(status, string(b[end+4:]))); err != nil {
		return 0, err
	}
	// The caller wrote all it meant to.
	return len(b), nil
}

// serverErrors are the codes and messages of the answers net/http gives by itself.
var serverErrors = map[int][2]string{
	http.StatusBadRequest:                  {odata.CodeBadRequest, "The request could not be read: its request line or a header is malformed."},
	http.StatusExpectationFailed:           {"ExpectationFailed", "The Expect header is not supported: only 100-continue is."},
	http.StatusRequestHeaderFieldsTooLarge: {"RequestHeaderFieldsTooLarge", "The request headers are larger than the server accepts."},
	http.StatusNotImplemented:              {"NotImplemented", "The request's Transfer-Encoding is not supported: send the body with Content-Length or chunked."},
	http.StatusHTTPVersionNotSupported:     {"HttpVersionNotSupported", "The HTTP version is not supported on this connection: use HTTP/1.1."},
}

func (c *envelopeConn) envelope(status int, plain string) []byte {
	code, msg := odata.CodeBadRequest, "The request could not be served."
	if e, ok := serverErrors[status]; ok {
		code, msg = e[0], e[1]
	} else if status >= 500 {
		code = odata.CodeInternalServerError
	}
	if status == http.StatusBadRequest && plain != "" && plain != "400 Bad Request" {
		// net/http's reason, e.g. "400 Bad Request: malformed Host header": safe, it never echoes the request.
		msg = "The request could not be read: " + quoteText(plain) + "."
	}
	id := c.l.newID()
	body := appendErrorEnvelope(nil, code, msg, c.l.now().UTC().Format("2006-01-02T15:04:05"), id, id)
	b := make([]byte, 0, 256+len(body))
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	b = append(b, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\nConnection: close\r\nOData-Version: 4.0\r\nrequest-id: "...)
	b = append(b, id...)
	b = append(b, "\r\nclient-request-id: "...)
	b = append(b, id...)
	b = append(b, "\r\n\r\n"...)
	return append(b, body...)
}
