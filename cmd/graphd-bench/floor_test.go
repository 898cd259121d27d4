package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store/storetest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// The floor binds what graphd's store binds for the same body, and renders what graphd renders.
func TestFloorTicks(t *testing.T) {
	t.Parallel()
	for _, s := range []string{seedEnrollment, seedLastCheckin, "2026-12-06T17:00:00Z", "0001-01-01T00:00:00Z",
		"9999-12-31T23:59:59.9999999+14:00", "1969-12-31T23:59:59.5-00:30"} {
		want, ok := odata.ParseDateTimeOffset(s)
		if !ok {
			t.Fatalf("odata does not parse %q", s)
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		ticks, offset := floorTicks(tm)
		if ticks != want.Ticks || offset != want.Offset {
			t.Errorf("%s: floor binds %d %d, graphd %d %d", s, ticks, offset, want.Ticks, want.Offset)
		}
		if got := floorTime(ticks, offset); got != want.String() {
			t.Errorf("%s: floor renders %s, graphd %s", s, got, want.String())
		}
	}
}

func TestFloorID(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		collectionPath + "/" + entityID(7): entityID(7),
		collectionPath:                     "",
		collectionPath + "/":               "",
		collectionPath + "/a/b":            "",
		"/beta/other/" + entityID(7):       "",
	} {
		if got := floorID(path); got != want {
			t.Errorf("floorID(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestReadRawRequest(t *testing.T) {
	t.Parallel()
	patch, _ := buildRequest(kindPatch, "h", "tok")
	get, _ := buildRequest(kindGet, "h", "")
	tests := []struct {
		name   string
		in     string
		want   []rawRequest
		errAt  int // the request readRawRequest fails on; -1: none beyond want
		wanted error
	}{
		{"Patch", string(patch), []rawRequest{{method: "PATCH", path: collectionPath + "/" + entityID(0), body: []byte(patchBody)}}, -1, nil},
		{"Get", string(get), []rawRequest{{method: "GET", path: collectionPath + "/" + entityID(0), body: []byte{}}}, -1, nil},
		{"Pipelined", string(get) + string(patch), []rawRequest{
			{method: "GET", path: collectionPath + "/" + entityID(0), body: []byte{}},
			{method: "PATCH", path: collectionPath + "/" + entityID(0), body: []byte(patchBody)}}, -1, nil},
		{"Close", "GET /readyz HTTP/1.1\r\nConnection: close\r\n\r\n", []rawRequest{{method: "GET", path: "/readyz", body: []byte{}, close: true}}, -1, nil},
		{"NoVersion", "GET /readyz\r\n\r\n", nil, 0, errRawRequest},
		{"NotHTTP", "GET /readyz SPDY/3\r\n\r\n", nil, 0, errRawRequest},
		{"Chunked", "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", nil, 0, errRawRequest},
		{"NegativeLength", "POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", nil, 0, errRawRequest},
		{"HugeLength", "POST /x HTTP/1.1\r\nContent-Length: " + strconv.Itoa(floorMaxBody+1) + "\r\n\r\n", nil, 0, errRawRequest},
		{"HeaderWithoutColon", "GET /x HTTP/1.1\r\nbroken\r\n\r\n", nil, 0, errRawRequest},
		{"ShortBody", "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", nil, 0, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.in))
			for i, want := range tt.want {
				got, err := readRawRequest(br)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if got.method != want.method || got.path != want.path || string(got.body) != string(want.body) || got.close != want.close {
					t.Errorf("request %d = %+v, want %+v", i, got, want)
				}
			}
			_, err := readRawRequest(br)
			switch {
			case tt.errAt < 0 && !errors.Is(err, io.EOF):
				t.Errorf("after the requests: %v, want EOF", err)
			case tt.errAt >= 0 && !errors.Is(err, tt.wanted):
				t.Errorf("error %v, want %v", err, tt.wanted)
			}
		})
	}
}

// Each floor applies the bench's PATCH and answers its GET with graphd's members, the load generator drives it
// without errors, and it stops cleanly when its context ends.
func TestFloorServes(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const rows = 20
	if err := copyRows(ctx, conn, 1, rows); err != nil {
		t.Fatal(err)
	}
	for _, kind := range floorKinds {
		t.Run(kind, func(t *testing.T) {
			port, err := freePort()
			if err != nil {
				t.Fatal(err)
			}
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			env := map[string]string{"DATABASE_URL": url, "GRAPHD_ADDR": addr, "GRAPHD_DB_MAX_CONNS": "2"}
			sctx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- serveFloor(sctx, kind, func(k string) string { return env[k] }) }()
			srv := &graphdServer{name: kind, addr: addr, exited: make(chan struct{})}
			if err := srv.waitReady(ctx, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			tgt := &target{srv: srv}
			if err := (&bench{}).checkRequests(ctx, tgt, kindPatch, kindGet); err != nil {
				t.Fatal(err)
			}
			status, body, err := tgt.send(ctx, http.MethodGet, collectionPath+"/"+entityID(1), nil)
			if err != nil || status != http.StatusOK {
				t.Fatalf("GET: %d %s %v", status, body, err)
			}
			for _, want := range []string{`"@odata.etag":"W/\"`, `"connectorVersion":"` + seedConnectorVersion + `"`, `"lastCheckinDateTime":"` + seedLastCheckin + `"`} {
				if !strings.Contains(string(body), want) {
					t.Errorf("GET answered without %s: %s", want, body)
				}
			}
			if status, body, _ := tgt.send(ctx, http.MethodGet, collectionPath+"/"+entityID(rows+1), nil); status != http.StatusNotFound {
				t.Errorf("GET of a missing row answered %d %s, want 404", status, body)
			}
			for _, kind := range []requestKind{kindPatch, kindGet} {
				res, err := runLoad(ctx, loadSpec{addr: addr, kind: kind, conns: 2, rows: rows, window: time.Second}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if res.completed == 0 || res.errors > 0 {
					t.Errorf("%s: %d completed, %d errors, the first: %s", kind, res.completed, res.errors, res.firstErr)
				}
			}
			stop()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serveFloor: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("serveFloor did not return after its context ended")
			}
		})
	}
}

func TestMedianOfFloors(t *testing.T) {
	t.Parallel()
	fr := func(kind string, patchCPU, getCPU, p99 time.Duration, n int) floorRound {
		r := floorRound{kind: kind, patch: window(kindPatch, n, patchCPU, 0), get: window(kindGet, 2*n, getCPU, 0)}
		if p99 > 0 {
			p := window(kindPatch, n, 0, p99)
			r.p99 = &p
		}
		return r
	}
	us := time.Microsecond
	rs := []round{
		{floors: []floorRound{fr(floorHTTP, 200*us, 100*us, 12*time.Millisecond, 500), fr(floorRaw, 170*us, 80*us, 0, 600)}},
		{floors: []floorRound{fr(floorHTTP, 220*us, 90*us, 30*time.Millisecond, 400), fr(floorRaw, 150*us, 70*us, 0, 700)}},
		{floors: []floorRound{fr(floorHTTP, 210*us, 120*us, 20*time.Millisecond, 450), fr(floorRaw, 160*us, 75*us, 0, 0)}},
	}
	got := medianOfFloors(rs)
	want := []floorMedians{
		{kind: floorHTTP, patchRPS: 450, getRPS: 900, patchCPU: 210 * us, getCPU: 100 * us, p99: 20 * time.Millisecond, fewest: 400},
		{kind: floorRaw, patchRPS: 600, getRPS: 1200, patchCPU: 160 * us, getCPU: 75 * us, fewest: 0},
	}
	if len(got) != len(want) {
		t.Fatalf("medians = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: %+v, want %+v", want[i].kind, got[i], want[i])
		}
	}
	if m := medianOfFloors([]round{{}}); m != nil {
		t.Errorf("rounds without floors: %+v", m)
	}
}

// The CPU and p99 targets name the floor and pgbench's own p99 beside graphd's figure; their pass marks stay
// the issue's.
func TestTargetsShowTheFloor(t *testing.T) {
	t.Parallel()
	p8 := window(kindPatch, 100, 0, 22*time.Millisecond)
	in := targetInputs{rounds: roundMedians{n: 3, patchRatio: 0.7, patchCPU: 250 * time.Microsecond, getCPU: 150 * time.Microsecond, patchDone: 1, getDone: 1},
		p99: &p8, peakHWM: 1, dbP99: 15 * time.Millisecond,
		floors: []floorMedians{{kind: floorHTTP, patchCPU: 210 * time.Microsecond, getCPU: 120 * time.Microsecond, p99: 19 * time.Millisecond, fewest: 1},
			{kind: floorRaw, patchCPU: 170 * time.Microsecond, getCPU: 80 * time.Microsecond, fewest: 1}}}
	want := map[string]string{
		"graphd_cpu_us_per_patch_at_32": "250 µs (floor: net/http 210 µs, raw 170 µs)",
		"graphd_cpu_us_per_get_at_32":   "150 µs (floor: net/http 120 µs, raw 80 µs)",
		"p99_ms_at_8":                   "22.00 ms (pgbench's UPDATE with 8 clients: 15.00 ms) (floor: net/http 19.00 ms)",
	}
	for _, r := range targets(in) {
		if w, ok := want[r.key]; ok {
			if r.value() != w {
				t.Errorf("%s: %q, want %q", r.key, r.value(), w)
			}
			if r.met {
				t.Errorf("%s: met, though the figure misses the issue's mark", r.key)
			}
			delete(want, r.key)
		}
	}
	if len(want) > 0 {
		t.Errorf("targets missing: %v", want)
	}
	in.floors[1].fewest = 0
	if got, want := floorDetail(in.floors, func(f floorMedians) string { return us(f.patchCPU) + " µs" }),
		"(floor: net/http 210 µs, raw "+noneCompleted+")"; got != want {
		t.Errorf("a floor without requests: %q, want %q", got, want)
	}
}

func TestPgbenchLogP99(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	prefix := dir + "/tx"
	// Two threads' logs: 100 transactions of 1…100 ms in all.
	var a, b strings.Builder
	for i := 1; i <= 100; i++ {
		w := &a
		if i%2 == 0 {
			w = &b
		}
		w.WriteString(strconv.Itoa(i%8) + " " + strconv.Itoa(i) + " " + strconv.Itoa(i*1000) + " 0 1796576400 123456\n")
	}
	for name, text := range map[string]string{prefix + ".4242": a.String(), prefix + ".4242.1": b.String()} {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := pgbenchLogP99(prefix)
	if err != nil {
		t.Fatal(err)
	}
	if want := summarize(durations(100)).p99; got != want || got < 98*time.Millisecond {
		t.Errorf("p99 = %v, want %v", got, want)
	}
	if _, err := pgbenchLogP99(dir + "/none"); err == nil {
		t.Error("no log: no error")
	}
	if err := os.WriteFile(dir+"/bad.1", []byte("0 1 x 0 1 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := pgbenchLogP99(dir + "/bad"); err == nil {
		t.Error("a malformed line: no error")
	}
}

// durations is 1…n ms.
func durations(n int) []time.Duration {
	d := make([]time.Duration, n)
	for i := range d {
		d[i] = time.Duration(i+1) * time.Millisecond
	}
	return d
}
