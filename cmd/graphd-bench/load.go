package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"
)

// The PATCH every worker sends: the seed's body (examples/seed-patch.json) with a varying connectorName, so
// each request really changes the row. The name keeps the fixture's "conn-%07d" of the row and appends random
// digits, so the collection queries' startswith filter selects the same rows however often they were patched.
// The id and name digits are overwritten in place per request.
const (
	collectionPath = "/beta/deviceManagement/certificateConnectorDetails"
	nameDigits     = 7
	patchBody      = `{"@odata.type":"#microsoft.graph.certificateConnectorDetails",` +
		`"connectorName":"conn-0000000.0000000",` +
		`"machineName":"Machine Name value",` +
		`"enrollmentDateTime":"2016-12-31T23:57:59.3726057-08:00",` +
		`"lastCheckinDateTime":"2017-01-01T00:02:46.0431416-08:00",` +
		`"connectorVersion":"Connector Version value"}`
	seedMachineName      = "Machine Name value"
	seedEnrollment       = "2016-12-31T23:57:59.3726057-08:00"
	seedLastCheckin      = "2017-01-01T00:02:46.0431416-08:00"
	seedConnectorVersion = "Connector Version value"
)

// loadSpec is one PATCH level: conns persistent connections, each with one request in flight, over rows ids.
type loadSpec struct {
	addr   string
	conns  int
	rows   int
	warmup time.Duration
	window time.Duration
}

// loadResult is what the workers saw inside the measured window: a request counts when it started and
// completed inside it.
type loadResult struct {
	completed int             // 200 responses
	latencies []time.Duration // of the 200 responses
	errors    int             // non-200 responses and I/O errors
	firstErr  string
	window    time.Duration
}

func (r loadResult) rps() float64 { return float64(r.completed) / r.window.Seconds() }

// runPatchLoad runs spec. observe, if not nil, is called on the calling goroutine with the window's bounds
// while the workers run; it should return by the window's end (it is how snapshots and profiles are taken).
func runPatchLoad(ctx context.Context, spec loadSpec, observe func(start, end time.Time)) (loadResult, error) {
	workers := make([]*worker, spec.conns)
	for i := range workers {
		w, err := newWorker(spec.addr, spec.rows, uint64(i))
		if err != nil {
			for _, w := range workers[:i] {
				w.conn.Close()
			}
			return loadResult{}, err
		}
		workers[i] = w
	}
	start := time.Now().Add(spec.warmup)
	end := start.Add(spec.window)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.loop(ctx, start, end) })
	}
	if observe != nil {
		observe(start, end)
	}
	wg.Wait()

	res := loadResult{window: spec.window}
	for _, w := range workers {
		w.conn.Close()
		res.latencies = append(res.latencies, w.latencies...)
		res.completed += len(w.latencies)
		res.errors += w.errors
		if res.firstErr == "" {
			res.firstErr = w.firstErr
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, nil
}

// worker is one client connection speaking HTTP/1.1 directly: a prebuilt request rewritten in place and a
// minimal response reader. On two shared cores, net/http's client would take CPU from graphd and PostgreSQL.
type worker struct {
	addr   string
	rows   int
	conn   net.Conn
	br     *bufio.Reader
	rng    *rand.Rand
	req    []byte
	idAt   int // offset of the id's decimal digits in req
	nameAt int // offset of the connectorName's digits in req

	latencies []time.Duration
	errors    int
	firstErr  string
}

func newWorker(addr string, rows int, seed uint64) (*worker, error) {
	head := fmt.Sprintf("PATCH %s/%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		collectionPath, entityID(0), addr, len(patchBody))
	req := []byte(head + patchBody)
	w := &worker{
		addr:   addr,
		rows:   rows,
		rng:    rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano()))),
		req:    req,
		idAt:   bytes.Index(req, []byte(idPrefix)) + len(idPrefix),
		nameAt: len(head) + bytes.Index([]byte(patchBody), []byte(`"conn-`)) + len(`"conn-`),
	}
	if err := w.dial(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *worker) dial() error {
	conn, err := net.Dial("tcp", w.addr)
	if err != nil {
		return err
	}
	conn.(*net.TCPConn).SetNoDelay(true)
	w.conn = conn
	w.br = bufio.NewReaderSize(conn, 16<<10)
	return nil
}

// redial replaces a broken connection. If that fails too, the next request fails fast on the closed one and
// the worker tries again.
func (w *worker) redial(deadline time.Time) {
	w.conn.Close()
	if err := w.dial(); err != nil {
		time.Sleep(10 * time.Millisecond)
		return
	}
	_ = w.conn.SetDeadline(deadline)
}

func (w *worker) loop(ctx context.Context, start, end time.Time) {
	// A deadline bounds every read and write, so a stuck server cannot hang the run.
	_ = w.conn.SetDeadline(end.Add(15 * time.Second))
	for ctx.Err() == nil {
		began := time.Now()
		if !began.Before(end) {
			return
		}
		n := w.rng.IntN(w.rows) + 1
		putDigits(w.req[w.idAt:w.idAt+idDigits], n)
		putName(w.req[w.nameAt:], n, w.rng.IntN(10_000_000))
		status, err := w.roundTrip()
		done := time.Now()
		counted := !began.Before(start) && !done.After(end)
		switch {
		case err != nil:
			w.fail(counted, err.Error())
			w.redial(end.Add(15 * time.Second))
		case status != 200:
			w.fail(counted, "HTTP status "+strconv.Itoa(status))
		case counted:
			w.latencies = append(w.latencies, done.Sub(began))
		}
	}
}

func (w *worker) fail(counted bool, msg string) {
	if counted {
		w.errors++
	}
	if w.firstErr == "" {
		w.firstErr = msg
	}
}

var errConnClose = errors.New("server closed the connection")

func (w *worker) roundTrip() (int, error) {
	if _, err := w.conn.Write(w.req); err != nil {
		return 0, err
	}
	return readResponse(w.br)
}

// readResponse reads one HTTP/1.1 response and discards its body. It understands what net/http servers
// send: Content-Length or chunked bodies, and Connection: close.
func readResponse(br *bufio.Reader) (int, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("malformed status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("malformed status line %q", line)
	}
	length, chunked, closing := -1, false, false
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		err = discardChunked(br)
	case length >= 0:
		_, err = br.Discard(length)
	default:
		return status, errors.New("response without a length")
	}
	if err == nil && closing {
		err = errConnClose
	}
	return status, err
}

func discardChunked(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		sizeText, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		size, err := strconv.ParseInt(string(bytes.TrimSpace(sizeText)), 16, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if size == 0 {
			break
		}
		if _, err := br.Discard(int(size) + 2); err != nil {
			return err
		}
	}
	for { // trailers, then the empty line
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return nil
		}
	}
}

// putName writes the connectorName digits of row n with suffix into name, which starts at the row's digits of
// "conn-0000000.0000000".
func putName(name []byte, n, suffix int) {
	putDigits(name[:nameDigits], n)
	putDigits(name[nameDigits+1:2*nameDigits+1], suffix)
}

// putDigits writes n into b as zero-padded decimal digits, filling all of b.
func putDigits(b []byte, n int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
}
