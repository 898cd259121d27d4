package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"time"
)

// probeState is what a server said to a connection attempt, as pg_isready reports it.
type probeState int

const (
	probeNoResponse probeState = iota // nothing listens on the socket
	probeRejecting                    // a server answers but refuses connections: starting, recovering or stopping
	probeReady                        // a server accepts connections
)

// probe asks the server on sockDir whether it accepts connections, speaking just enough of the wire protocol
// to tell: a startup message, then the first reply. It is what pg_isready does, without a process per poll.
// Like pg_isready, any reply other than "cannot connect now" (SQLSTATE 57P03) counts as ready: the server
// is up even if it, say, rejects the user.
func probe(ctx context.Context, sockDir string, port int) probeState {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socketPath(sockDir, port))
	if err != nil {
		return probeNoResponse
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}

	var params bytes.Buffer
	for _, s := range []string{"user", superuser, "database", "postgres", ""} {
		params.WriteString(s)
		params.WriteByte(0)
	}
	msg := binary.BigEndian.AppendUint32(nil, uint32(8+params.Len()))
	msg = binary.BigEndian.AppendUint32(msg, 3<<16) // protocol 3.0
	msg = append(msg, params.Bytes()...)
	if _, err := conn.Write(msg); err != nil {
		return probeNoResponse
	}

	var header [5]byte
	if _, err := io.ReadFull(conn, header[:]); err != nil {
		return probeNoResponse
	}
	defer func() { _, _ = conn.Write([]byte{'X', 0, 0, 0, 4}) }() // Terminate, so the server logs no EOF
	if header[0] != 'E' {
		return probeReady
	}
	n := int(binary.BigEndian.Uint32(header[1:])) - 4
	if n <= 0 || n > 64<<10 {
		return probeReady
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(conn, body); err != nil {
		return probeReady
	}
	// An ErrorResponse is a list of (field type byte, NUL-terminated string), ended by a NUL.
	for len(body) > 1 && body[0] != 0 {
		field := body[0]
		end := bytes.IndexByte(body[1:], 0)
		if end < 0 {
			break
		}
		if field == 'C' && string(body[1:1+end]) == "57P03" {
			return probeRejecting
		}
		body = body[2+end:]
	}
	return probeReady
}
