package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The PATCH every worker sends (alone or in a batch): the seed's body (examples/seed-patch.json) with a varying connectorName, so
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

// requestKind is what the load generator sends.
type requestKind int

const (
	kindPatch requestKind = iota // PATCH of a random row with the seed's body
	kindGet                      // GET of a random row by id
	kindBatch                    // POST /beta/$batch of batchSteps independent PATCHes of random rows
)

// batchSteps is the size of the batches the bench sends: Graph's limit.
const batchSteps = 20

func (k requestKind) String() string {
	switch k {
	case kindGet:
		return "GET"
	case kindBatch:
		return "$batch"
	}
	return "PATCH"
}

// steps is how many entity operations one request of the kind carries.
func (k requestKind) steps() int {
	if k == kindBatch {
		return batchSteps
	}
	return 1
}

// loadSpec is one measured level: conns persistent connections, each with one request in flight, over rows ids.
type loadSpec struct {
	addr   string
	kind   requestKind
	token  string // sent as Authorization: Bearer on every request; empty: no Authorization header
	conns  int
	rows   int
	warmup time.Duration
	window time.Duration
}

// loadResult is what the workers saw inside the measured window: a request counts when it started and
// completed inside it.
type loadResult struct {
	completed int             // 200 responses (for a batch: with every step 200)
	steps     int             // operations in the completed requests
	latencies []time.Duration // of the 200 responses
	errors    int             // other responses and I/O errors
	firstErr  string
	window    time.Duration
}

func (r loadResult) rps() float64 { return float64(r.completed) / r.window.Seconds() }

// stepsPerSecond is the rate of entity operations: requests/s, or for batches their steps/s.
func (r loadResult) stepsPerSecond() float64 { return float64(r.steps) / r.window.Seconds() }

// runLoad runs spec. observe, if not nil, is called on the calling goroutine with the window's bounds while
// the workers run; it should return by the window's end (it is how snapshots and profiles are taken).
func runLoad(ctx context.Context, spec loadSpec, observe func(start, end time.Time)) (loadResult, error) {
	workers := make([]*worker, spec.conns)
	for i := range workers {
		w, err := newWorker(spec, uint64(i))
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
	res.steps = res.completed * spec.kind.steps()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, nil
}

// slot is where a request names one row: the id's decimal digits, and the connectorName's digits (-1: none).
type slot struct{ idAt, nameAt int }

// buildRequest returns the bytes of one request of kind, with every row slot at row 0, and where its slots are.
// The requests are built once per connection; the load generator rewrites the digits in place.
func buildRequest(kind requestKind, host, token string) ([]byte, []slot) {
	var method, target, body string
	switch kind {
	case kindPatch:
		method, target, body = "PATCH", collectionPath+"/"+entityID(0), patchBody
	case kindGet:
		method, target = "GET", collectionPath+"/"+entityID(0)
	case kindBatch:
		method, target, body = "POST", batchPath, batchBody()
	}
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, host)
	if token != "" {
		head.WriteString("Authorization: Bearer " + token + "\r\n")
	}
	if body != "" {
		fmt.Fprintf(&head, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	head.WriteString("\r\n")
	req := []byte(head.String() + body)
	var slots []slot
	switch kind {
	case kindGet:
		slots = []slot{{idAt: bytes.Index(req, []byte(idPrefix)) + len(idPrefix), nameAt: -1}}
	default:
		// Each PATCH body names its row once in the url and once in connectorName, in that order.
		for from := 0; ; {
			i := bytes.Index(req[from:], []byte(idPrefix))
			if i < 0 {
				break
			}
			idAt := from + i + len(idPrefix)
			nameAt := idAt + bytes.Index(req[idAt:], []byte(`"conn-`)) + len(`"conn-`)
			slots = append(slots, slot{idAt: idAt, nameAt: nameAt})
			from = nameAt
		}
	}
	return req, slots
}

const batchPath = "/beta/$batch"

// batchBody is a JSON batch of batchSteps independent PATCHes, each with the seed's body, as a Graph SDK sends
// it: urls relative to the service root, a Content-Type per step.
func batchBody() string {
	var b strings.Builder
	b.WriteString(`{"requests":[`)
	for i := range batchSteps {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"%d","method":"PATCH","url":"%s/%s","headers":{"Content-Type":"application/json"},"body":%s}`,
			i+1, strings.TrimPrefix(collectionPath, "/beta"), entityID(0), patchBody)
	}
	b.WriteString(`]}`)
	return b.String()
}

// checkBatch reads the statuses of a batch response's steps: every one of the batch's steps must have answered
// 200. The step bodies are connector entities, which have no "status" member, and a "status" inside a JSON
// string would be escaped, so the members found are the steps' own.
func checkBatch(body []byte) error {
	const member = `"status":`
	n := 0
	for rest := body; ; {
		i := bytes.Index(rest, []byte(member))
		if i < 0 {
			break
		}
		rest = rest[i+len(member):]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		status, err := strconv.Atoi(string(rest[:j]))
		if err != nil {
			return fmt.Errorf("batch response: malformed status %.20q", rest)
		}
		if status != 200 {
			return fmt.Errorf("batch step answered %d", status)
		}
		n++
	}
	if n != batchSteps {
		return fmt.Errorf("batch response holds %d step statuses, want %d", n, batchSteps)
	}
	return nil
}

// worker is one client connection speaking HTTP/1.1 directly: a prebuilt request rewritten in place and a
// minimal response reader. On two shared cores, net/http's client would take CPU from graphd and PostgreSQL.
type worker struct {
	addr  string
	kind  requestKind
	rows  int
	conn  net.Conn
	br    *bufio.Reader
	rng   *rand.Rand
	req   []byte
	slots []slot
	body  []byte // the last response's body, kept for batches

	latencies []time.Duration
	errors    int
	firstErr  string
}

func newWorker(spec loadSpec, seed uint64) (*worker, error) {
	req, slots := buildRequest(spec.kind, spec.addr, spec.token)
	w := &worker{
		addr:  spec.addr,
		kind:  spec.kind,
		rows:  spec.rows,
		rng:   rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano()))),
		req:   req,
		slots: slots,
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
		for _, s := range w.slots {
			n := w.rng.IntN(w.rows) + 1
			putDigits(w.req[s.idAt:s.idAt+idDigits], n)
			if s.nameAt >= 0 {
				putName(w.req[s.nameAt:], n, w.rng.IntN(10_000_000))
			}
		}
		status, err := w.roundTrip()
		done := time.Now()
		counted := !began.Before(start) && !done.After(end)
		var stepErr error
		if err == nil && status == 200 && w.kind == kindBatch {
			stepErr = checkBatch(w.body)
		}
		switch {
		case err != nil:
			w.fail(counted, err.Error())
			w.redial(end.Add(15 * time.Second))
		case status != 200:
			w.fail(counted, "HTTP status "+strconv.Itoa(status))
		case stepErr != nil:
			w.fail(counted, stepErr.Error())
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
	if w.kind != kindBatch {
		return readResponse(w.br, nil)
	}
	w.body = w.body[:0]
	return readResponse(w.br, &w.body)
}

// readResponse reads one HTTP/1.1 response, appending its body to keep, or discarding it if keep is nil. It
// understands what net/http servers send: Content-Length or chunked bodies, and Connection: close.
func readResponse(br *bufio.Reader, keep *[]byte) (int, error) {
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
		err = readChunked(br, keep)
	case length >= 0:
		err = readBody(br, length, keep)
	default:
		return status, errors.New("response without a length")
	}
	if err == nil && closing {
		err = errConnClose
	}
	return status, err
}

// readBody reads n bytes of body, appending them to keep unless it is nil.
func readBody(br *bufio.Reader, n int, keep *[]byte) error {
	if keep == nil {
		_, err := br.Discard(n)
		return err
	}
	at := len(*keep)
	*keep = slices.Grow(*keep, n)[:at+n]
	_, err := io.ReadFull(br, (*keep)[at:])
	return err
}

func readChunked(br *bufio.Reader, keep *[]byte) error {
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
		if err := readBody(br, int(size), keep); err != nil {
			return err
		}
		if _, err := br.Discard(2); err != nil {
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
