package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The floor is what the CPU targets are measured against: the least a Go service can do for the bench's PATCH
// and GET on this machine with pgx. It serves the same requests from graphd's own table with the statements the
// store sends (knownUpdate, knownGet), one pgx round trip each, from a pool of graphd's size, and answers with
// the same JSON members; it has no authentication, no OData parsing, no middleware, no logging and no metrics.
// Two kinds:
//
//   - floorHTTP serves through net/http with its ServeMux, as graphd does through gorilla/mux;
//   - floorRaw reads HTTP/1.1 requests off the socket itself (only what the bench's load generator sends), to
//     show what net/http's own share of the floor is.
//
// graphd-bench runs a floor as a child process of its own binary ("graphd-bench floor-serve KIND"), so its
// CPU is counted from /proc like graphd's.
const (
	floorHTTP = "net/http"
	floorRaw  = "raw"
)

var floorKinds = []string{floorHTTP, floorRaw}

// floorCommand is the hidden subcommand that serves a floor: GRAPHD_ADDR, DATABASE_URL and GRAPHD_DB_MAX_CONNS
// say where, from which database and with how many sessions, as for graphd.
const floorCommand = "floor-serve"

// floorMaxBody bounds a request body, as graphd's own limit does.
const floorMaxBody = 4 << 20

// floor answers the bench's requests.
type floor struct {
	pool *pgxpool.Pool
}

// floorPatch is the part of the bench's PATCH body (patchBody) the statement binds.
type floorPatch struct {
	ConnectorName       string    `json:"connectorName"`
	MachineName         string    `json:"machineName"`
	EnrollmentDateTime  time.Time `json:"enrollmentDateTime"`
	LastCheckinDateTime time.Time `json:"lastCheckinDateTime"`
	ConnectorVersion    string    `json:"connectorVersion"`
}

// floorEntity is the response: the members graphd sends for the entity.
type floorEntity struct {
	Context             string `json:"@odata.context"`
	Type                string `json:"@odata.type"`
	ETag                string `json:"@odata.etag"`
	ID                  string `json:"id"`
	ConnectorName       string `json:"connectorName"`
	MachineName         string `json:"machineName"`
	EnrollmentDateTime  string `json:"enrollmentDateTime"`
	LastCheckinDateTime string `json:"lastCheckinDateTime"`
	ConnectorVersion    string `json:"connectorVersion"`
}

// unixEpochTicks is 1970-01-01 in .NET ticks (100 ns since 0001-01-01), the unit of the *_ticks columns.
const unixEpochTicks = 621_355_968_000_000_000

// floorTicks is a time as the table stores it: UTC ticks and the offset in minutes.
func floorTicks(t time.Time) (ticks int64, offset int16) {
	_, off := t.Zone()
	return t.Unix()*ticksPerSecond + int64(t.Nanosecond()/100) + unixEpochTicks, int16(off / 60)
}

const ticksPerSecond = 10_000_000

// floorTime is the inverse of floorTicks, rendered in the written offset.
func floorTime(ticks int64, offset int16) string {
	since := ticks - unixEpochTicks
	sec, rem := since/ticksPerSecond, since%ticksPerSecond
	if rem < 0 {
		sec, rem = sec-1, rem+ticksPerSecond
	}
	t := time.Unix(sec, rem*100).In(time.FixedZone("", int(offset)*60))
	return t.Format("2006-01-02T15:04:05.9999999Z07:00")
}

// answer runs method's statement for id and returns the status, the body and the entity's ETag.
func (f *floor) answer(ctx context.Context, method, id string, body []byte) (int, []byte, string) {
	var row pgxRow
	switch method {
	case http.MethodPatch:
		var p floorPatch
		if err := json.Unmarshal(body, &p); err != nil {
			return http.StatusBadRequest, []byte(`{"error":"bad body"}`), ""
		}
		et, eo := floorTicks(p.EnrollmentDateTime)
		lt, lo := floorTicks(p.LastCheckinDateTime)
		row = f.pool.QueryRow(ctx, knownUpdate, devTenant, id, p.ConnectorName, p.MachineName, et, eo, lt, lo, p.ConnectorVersion)
	case http.MethodGet:
		row = f.pool.QueryRow(ctx, knownGet, devTenant, id)
	default:
		return http.StatusMethodNotAllowed, nil, ""
	}
	var e floorEntity
	var et, lt, version int64
	var eo, lo int16
	err := row.Scan(&e.ID, &e.ConnectorName, &e.MachineName, &et, &eo, &lt, &lo, &e.ConnectorVersion, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return http.StatusNotFound, []byte(`{"error":"not found"}`), ""
	}
	if err != nil {
		return http.StatusInternalServerError, []byte(`{"error":` + strconv.Quote(err.Error()) + `}`), ""
	}
	e.Context = "http://localhost/beta/$metadata#deviceManagement/certificateConnectorDetails/$entity"
	e.Type = "#microsoft.graph.certificateConnectorDetails"
	e.ETag = `W/"` + strconv.FormatInt(version, 10) + `"`
	e.EnrollmentDateTime, e.LastCheckinDateTime = floorTime(et, eo), floorTime(lt, lo)
	out, err := json.Marshal(&e)
	if err != nil {
		return http.StatusInternalServerError, nil, ""
	}
	return http.StatusOK, out, e.ETag
}

type pgxRow interface{ Scan(dest ...any) error }

// devTenant is the tenant of the bench's rows (odata.DevTenantID, which GRAPHD_AUTH=none and the bench's token
// act in), spelled out so the floor imports nothing of graphd's.
const devTenant = "00000000-0000-4000-8000-000000000001"

// floorID is the key of a request's url, or "".
func floorID(path string) string {
	rest, ok := strings.CutPrefix(path, collectionPath+"/")
	if !ok || strings.Contains(rest, "/") {
		return ""
	}
	return rest
}

const floorContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// serveFloor runs a floor of kind until ctx ends.
func serveFloor(ctx context.Context, kind string, getenv func(string) string) error {
	cfg, err := pgxpool.ParseConfig(getenv("DATABASE_URL"))
	if err != nil {
		return err
	}
	cfg.MaxConns = int32(defaultPoolSize())
	if v := getenv("GRAPHD_DB_MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("GRAPHD_DB_MAX_CONNS=%q: want a positive number", v)
		}
		cfg.MaxConns = int32(n)
	}
	cfg.MinConns = min(2, cfg.MaxConns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	f := &floor{pool: pool}
	ln, err := net.Listen("tcp", getenv("GRAPHD_ADDR"))
	if err != nil {
		return err
	}
	switch kind {
	case floorHTTP:
		return f.serveHTTP(ctx, ln)
	case floorRaw:
		return f.serveRaw(ctx, ln)
	}
	ln.Close()
	return fmt.Errorf("unknown floor %q (want %s)", kind, strings.Join(floorKinds, " or "))
}

func (f *floor) serveHTTP(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {})
	handle := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, floorMaxBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		status, out, etag := f.answer(r.Context(), r.Method, r.PathValue("id"), body)
		h := w.Header()
		h["Content-Type"] = []string{floorContentType}
		if etag != "" {
			h["Etag"] = []string{etag}
		}
		w.WriteHeader(status)
		w.Write(out)
	}
	mux.HandleFunc("PATCH "+collectionPath+"/{id}", handle)
	mux.HandleFunc("GET "+collectionPath+"/{id}", handle)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (f *floor) serveRaw(ctx context.Context, ln net.Listener) error {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go f.rawConn(ctx, c)
	}
}

// rawRequest is what rawConn needs of a request.
type rawRequest struct {
	method, path string
	body         []byte
	close        bool
}

var errRawRequest = errors.New("malformed request")

// readRawRequest reads one HTTP/1.1 request: a request line, headers, and a Content-Length body (the bench
// never sends a chunked one).
func readRawRequest(br *bufio.Reader) (rawRequest, error) {
	var r rawRequest
	line, err := br.ReadSlice('\n')
	if err != nil {
		return r, err
	}
	method, rest, ok1 := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(" "))
	target, proto, ok2 := bytes.Cut(rest, []byte(" "))
	if !ok1 || !ok2 || !bytes.HasPrefix(proto, []byte("HTTP/1.")) {
		return r, errRawRequest
	}
	r.method, r.path = string(method), string(target)
	length := 0
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return r, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return r, errRawRequest
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 || length > floorMaxBody {
				return r, errRawRequest
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return r, errRawRequest
		case bytes.EqualFold(name, []byte("Connection")):
			r.close = bytes.EqualFold(value, []byte("close"))
		}
	}
	r.body = make([]byte, length)
	_, err = io.ReadFull(br, r.body)
	return r, err
}

func (f *floor) rawConn(ctx context.Context, c net.Conn) {
	defer c.Close()
	br, bw := bufio.NewReader(c), bufio.NewWriter(c)
	for {
		r, err := readRawRequest(br)
		if err != nil {
			return
		}
		status, out, etag := http.StatusOK, []byte(nil), ""
		if r.path != "/readyz" {
			if id := floorID(r.path); id == "" {
				status = http.StatusNotFound
			} else {
				status, out, etag = f.answer(ctx, r.method, id, r.body)
			}
		}
		fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n", status, http.StatusText(status), floorContentType, len(out))
		if etag != "" {
			bw.WriteString("ETag: " + etag + "\r\n")
		}
		bw.WriteString("\r\n")
		bw.Write(out)
		if bw.Flush() != nil || r.close {
			return
		}
	}
}

// floorMain is graphd-bench floor-serve KIND: it serves until SIGTERM or an interrupt.
func floorMain(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: graphd-bench %s %s", floorCommand, strings.Join(floorKinds, "|"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveFloor(ctx, args[0], os.Getenv)
}

// floorRound is one round's windows on one floor: PATCH and GET at ratioConns, and, on floorHTTP, PATCH at
// p99Conns for its p99.
type floorRound struct {
	kind       string
	patch, get phase
	p99        *phase
}

// floorWindows starts a floor of kind on the main cluster, measures its windows and stops it. Like a variant
// graphd, it runs only during its windows.
func (b *bench) floorWindows(ctx context.Context, kind string, check bool) (fr floorRound, err error) {
	exe, err := os.Executable()
	if err != nil {
		return fr, err
	}
	b.nextID++
	srv, err := startGraphd(ctx, serverSpec{name: fmt.Sprintf("floor-%s-%d", strings.ReplaceAll(kind, "/", ""), b.nextID), bin: exe,
		args: []string{floorCommand, kind}, dir: b.dir, attach: &b.main.db.cl, env: b.opt.env})
	if err != nil {
		return fr, err
	}
	defer func() { err = errors.Join(err, b.stopServer(srv)) }()
	t := &target{srv: srv, db: b.main.db}
	if check {
		if err := b.checkRequests(ctx, t, kindPatch, kindGet); err != nil {
			return fr, err
		}
	}
	fr.kind = kind
	if fr.patch, err = b.window(ctx, t, kindPatch, ratioConns, b.opt.rows); err != nil {
		return fr, err
	}
	if kind == floorHTTP {
		p, err := b.window(ctx, t, kindPatch, p99Conns, b.opt.rows)
		if err != nil {
			return fr, err
		}
		fr.p99 = &p
	}
	fr.get, err = b.window(ctx, t, kindGet, ratioConns, b.opt.rows)
	return fr, err
}

// floorRounds runs the floors of round i, in floorKinds order in even rounds and reversed in odd ones, so
// neither always follows the other. It returns them in floorKinds order.
func (b *bench) floorRounds(ctx context.Context, i int) ([]floorRound, error) {
	frs := make([]floorRound, len(floorKinds))
	for j := range floorKinds {
		k := j
		if !firstOfPair(i) {
			k = len(floorKinds) - 1 - j
		}
		fr, err := b.floorWindows(ctx, floorKinds[k], i == 0)
		if err != nil {
			return nil, err
		}
		frs[k] = fr
	}
	return frs, nil
}

// floorMedians are the medians of one floor's figures over the rounds.
type floorMedians struct {
	kind             string
	patchRPS, getRPS float64
	patchCPU, getCPU time.Duration
	p99              time.Duration // 0: not measured
	fewest           int           // fewest requests one window completed
}

func medianOfFloors(rs []round) []floorMedians {
	var ms []floorMedians
	for k, kind := range floorKinds {
		m := floorMedians{kind: kind, fewest: -1}
		var patch, get []float64
		var patchCPU, getCPU, p99 []time.Duration
		for _, r := range rs {
			if k >= len(r.floors) {
				continue
			}
			fr := r.floors[k]
			patch, get = append(patch, fr.patch.res.rps()), append(get, fr.get.res.rps())
			patchCPU, getCPU = append(patchCPU, fr.patch.cost.graphd), append(getCPU, fr.get.cost.graphd)
			fewest := min(fr.patch.res.completed, fr.get.res.completed)
			if fr.p99 != nil {
				p99 = append(p99, fr.p99.lat.p99)
				fewest = min(fewest, fr.p99.res.completed)
			}
			if m.fewest < 0 || fewest < m.fewest {
				m.fewest = fewest
			}
		}
		if len(patch) == 0 {
			continue
		}
		m.patchRPS, m.getRPS = median(patch), median(get)
		m.patchCPU, m.getCPU, m.p99 = medianDuration(patchCPU), medianDuration(getCPU), medianDuration(p99)
		ms = append(ms, m)
	}
	return ms
}

// printFloors shows each round's floors beside graphd's figures of the same round.
func (b *bench) printFloors() {
	if !b.opt.floor {
		return
	}
	fmt.Fprintf(b.out, "\nThe floor: the same PATCH and GET at %d connections on a minimal Go server (graphd-bench %s): graphd's statements on graphd's table through pgx, a pool of graphd's size, encoding/json, no authentication, OData, middleware, logging or metrics. %s serves through net/http's ServeMux; %s reads HTTP/1.1 off the socket itself. PATCH p99 at %d connections on %s.\n",
		ratioConns, floorCommand, floorHTTP, floorRaw, p99Conns, floorHTTP)
	tw := b.table()
	fmt.Fprintln(tw, "round\tfloor\tPATCH req/s\tµs/PATCH\tgraphd µs/PATCH\tGET req/s\tµs/GET\tgraphd µs/GET\tp99 ms at 8\t")
	for i, r := range b.rounds {
		for _, fr := range r.floors {
			p99 := "-"
			if fr.p99 != nil {
				p99 = fmt.Sprintf("%.2f", ms(fr.p99.lat.p99))
			}
			fmt.Fprintf(tw, "%d\t%s\t%.0f\t%s\t%s\t%.0f\t%s\t%s\t%s\t\n", i+1, fr.kind, fr.patch.res.rps(), us(fr.patch.cost.graphd), us(r.patch.cost.graphd),
				fr.get.res.rps(), us(fr.get.cost.graphd), us(r.get.cost.graphd), p99)
		}
	}
	m := medianOfRounds(b.rounds)
	for _, f := range medianOfFloors(b.rounds) {
		p99 := "-"
		if f.p99 > 0 {
			p99 = fmt.Sprintf("%.2f", ms(f.p99))
		}
		fmt.Fprintf(tw, "median\t%s\t%.0f\t%s\t%s\t%.0f\t%s\t%s\t%s\t\n", f.kind, f.patchRPS, us(f.patchCPU), us(m.patchCPU), f.getRPS, us(f.getCPU), us(m.getCPU), p99)
	}
	tw.Flush()
	fmt.Fprintln(b.out, "graphd's columns repeat its windows of the same round (with the token); µs are CPU of the serving process per request, from /proc.")
}
