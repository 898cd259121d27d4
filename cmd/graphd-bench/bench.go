package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/graphd/graphd/odata"
	"github.com/jackc/pgx/v5"
)

// bench is one run: the graphd under test, the bench's own database sessions, and the results so far.
type bench struct {
	opt   options
	dir   string
	out   io.Writer // tables and the summary
	log   io.Writer // progress
	began time.Time

	// main is the graphd under test: authentication on, its own embedded cluster, default settings.
	main   *target
	pgVer  string
	pool   string // graphd's pool size as its /metrics tell, or "unknown"
	admin  string // the admin token of the admin-API variant
	nextID int    // numbers the variants' log files

	patch      []phase // PATCH levels
	stmt       string  // the UPDATE pgbench runs
	stmtNote   string
	getStmt    string // the SELECT pgbench runs beside GET
	getNote    string
	pgbenchBin string
	pgbench    []pgbenchPhase
	connTime   map[int]time.Duration // how long pgbench's last run took to connect, by client count

	graphdSessions int // database sessions graphd held at ratioConns connections

	rounds      []round
	journalNote string

	perf, perfData string // perf and the profile it recorded
	prof           *profile
	profileNote    string

	batches []batchLevel

	growTime     time.Duration
	scalePatch   *phase
	scalePgbench *pgbenchPhase
	// pgbench at graphd's session count, at scaleRows
	scalePgbenchSessions *pgbenchPhase

	queries            []collectionQuery
	paging             *pagingResult
	collectionNote     string
	collectionRows     int
	baseline           *baselineResult
	finalRSS, finalHWM int64
}

// target is a graphd the load generator drives, with the cluster it uses.
type target struct {
	srv   *graphdServer
	db    *database
	token string // sent with every request; "" for GRAPHD_AUTH=none
}

// database is the bench's own sessions on a graphd cluster: one for snapshots and maintenance, one to sample
// pg_stat_activity concurrently.
type database struct {
	cl      cluster
	conn    *pgx.Conn
	sampler *pgx.Conn
}

func openDatabase(ctx context.Context, srv *graphdServer) (*database, error) {
	d := &database{}
	var err error
	if d.cl, err = srv.cluster(); err != nil {
		return nil, err
	}
	if d.conn, err = pgx.Connect(ctx, d.cl.connString()); err != nil {
		return nil, fmt.Errorf("connecting to graphd's cluster: %w", err)
	}
	if d.sampler, err = pgx.Connect(ctx, d.cl.connString()); err != nil {
		d.conn.Close(ctx)
		return nil, fmt.Errorf("connecting to graphd's cluster: %w", err)
	}
	return d, nil
}

func (d *database) close(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	d.sampler.Close(ctx)
	d.conn.Close(ctx)
}

// settle gives every measured phase the same starting point: dead rows of the previous phase vacuumed, and a
// checkpoint, so no phase pays for another's checkpoint and each pays the same full-page writes after one.
func (d *database) settle(ctx context.Context) error {
	for _, sql := range []string{"VACUUM " + table, "CHECKPOINT"} {
		if _, err := d.conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
	}
	return nil
}

func (d *database) countRows(ctx context.Context, want int) error {
	var n int
	if err := d.conn.QueryRow(ctx, "SELECT count(*) FROM "+table+" WHERE tenant_id = $1", odata.DevTenantID).Scan(&n); err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("the table holds %d rows of the dev tenant, want %d", n, want)
	}
	return nil
}

// probe snapshots the target's graphd, its cluster, this process and the machine.
func (t *target) probe() *probe {
	return &probe{db: t.db.conn, graphdPID: t.srv.pid(), postmasterPID: t.db.cl.pid}
}

// sessions selects the target's own database sessions in pg_stat_activity.
func (t *target) sessions(app string) bool { return app == t.srv.app }

func pgbenchSessions(app string) bool { return app == "pgbench" }

// phase is one measured load window against one graphd.
type phase struct {
	kind        requestKind
	conns, rows int
	res         loadResult
	lat         summary
	rss, hwm    int64 // KiB, after the window
	cost        cost  // per step: per request, or per request of a batch
	act         *activity
}

type pgbenchPhase struct {
	run  pgbenchRun
	rows int
	cost cost
	act  *activity
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(b.log, "[%4.0fs] %s\n", time.Since(b.began).Seconds(), fmt.Sprintf(format, args...))
}

// load imports rows 1…rows into t's cluster through `graphd import` (it attaches to the running cluster), then
// analyzes.
func (b *bench) load(ctx context.Context, t *target) error {
	b.progress("loading %d rows into %s with graphd import", b.opt.rows, t.srv.name)
	began := time.Now()
	fixture := filepath.Join(b.dir, "fixture.json")
	if _, err := os.Stat(fixture); err != nil {
		if err := writeFixture(fixture, b.opt.rows); err != nil {
			return err
		}
	}
	if _, err := t.srv.command(ctx, "import", fixture); err != nil {
		return err
	}
	b.progress("  imported in %.1f s", time.Since(began).Seconds())
	if _, err := t.db.conn.Exec(ctx, "VACUUM ANALYZE "+table); err != nil {
		return err
	}
	return t.db.countRows(ctx, b.opt.rows)
}

// send sends one request through net/http with t's token and returns the status and body.
func (t *target) send(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.srv.baseURL()+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	return resp.StatusCode, answer, err
}

// checkRequests sends each kind of request the load generator sends once through net/http and checks that
// graphd applied it, so the fast load generator, which only reads status codes, measures real work. With
// authentication on, it also checks that a request without the token is refused.
func (b *bench) checkRequests(ctx context.Context, t *target, kinds ...requestKind) error {
	u := collectionPath + "/" + entityID(1)
	for _, kind := range kinds {
		switch kind {
		case kindPatch:
			body := []byte(patchBody)
			at := bytes.Index(body, []byte(`"conn-`)) + len(`"conn-`)
			putName(body[at:], 1, 1234567)
			status, answer, err := t.send(ctx, http.MethodPatch, u, body)
			if err != nil {
				return err
			}
			if status != http.StatusOK {
				return fmt.Errorf("%s: PATCH %s: %d: %s", t.srv.name, u, status, answer)
			}
			for _, want := range []string{`"connectorName":"conn-0000001.1234567"`, `"machineName":"` + seedMachineName + `"`, `"enrollmentDateTime":"` + seedEnrollment + `"`} {
				if !bytes.Contains(answer, []byte(want)) {
					return fmt.Errorf("%s: PATCH %s answered without %s: %s", t.srv.name, u, want, answer)
				}
			}
		case kindGet:
			status, answer, err := t.send(ctx, http.MethodGet, u, nil)
			if err != nil {
				return err
			}
			if status != http.StatusOK || !bytes.Contains(answer, []byte(`"id":"`+entityID(1)+`"`)) {
				return fmt.Errorf("%s: GET %s: %d: %s", t.srv.name, u, status, answer)
			}
		case kindBatch:
			req, slots := buildRequest(kindBatch, "x", "")
			for i, s := range slots {
				putDigits(req[s.idAt:s.idAt+idDigits], i+1)
				putName(req[s.nameAt:], i+1, 1234567)
			}
			body := req[bytes.Index(req, []byte("\r\n\r\n"))+4:]
			status, answer, err := t.send(ctx, http.MethodPost, batchPath, body)
			if err != nil {
				return err
			}
			if status != http.StatusOK {
				return fmt.Errorf("%s: POST %s: %d: %s", t.srv.name, batchPath, status, answer)
			}
			if err := checkBatch(answer); err != nil {
				return fmt.Errorf("%s: POST %s: %w: %s", t.srv.name, batchPath, err, answer)
			}
			if !bytes.Contains(answer, []byte(`"id":"`+entityID(batchSteps)+`"`)) {
				return fmt.Errorf("%s: POST %s: the last step's entity is not in the response: %s", t.srv.name, batchPath, answer)
			}
		}
	}
	if t.token == "" {
		return nil
	}
	anonymous := *t
	anonymous.token = ""
	status, answer, err := anonymous.send(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if status != http.StatusUnauthorized {
		return fmt.Errorf("%s: GET %s without a token answered %d, want 401 (is authentication on?): %s", t.srv.name, u, status, answer)
	}
	return nil
}

// poolSize reads graphd's pool size from its metrics.
func (t *target) poolSize(ctx context.Context) string {
	status, body, err := t.send(ctx, http.MethodGet, "/metrics", nil)
	if err != nil || status != http.StatusOK {
		return "unknown"
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, "graphd_db_pool_max_conns "); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// observe takes snapshots at a window's bounds and samples the sessions keep selects in between.
func observe(ctx context.Context, p *probe, sampler *pgx.Conn, start, end time.Time, keep func(string) bool) (snapshot, snapshot, *activity) {
	sleepUntil(ctx, start)
	s0 := p.snapshot(ctx)
	sctx, cancel := context.WithDeadline(ctx, end)
	act := sampleActivity(sctx, sampler, keep)
	cancel()
	return s0, p.snapshot(ctx), act
}

// window measures one level of load of kind against t, after settling its database.
func (b *bench) window(ctx context.Context, t *target, kind requestKind, conns, rows int) (phase, error) {
	if err := t.db.settle(ctx); err != nil {
		return phase{}, err
	}
	b.progress("%s %s: %d connections over %d rows (%v warm-up, %v measured)", t.srv.name, kind, conns, rows, b.opt.warmup, b.opt.window)
	var s0, s1 snapshot
	p := phase{kind: kind, conns: conns, rows: rows}
	pr := t.probe()
	var err error
	p.res, err = runLoad(ctx, loadSpec{addr: t.srv.addr, kind: kind, token: t.token, conns: conns, rows: rows, warmup: b.opt.warmup, window: b.opt.window},
		func(start, end time.Time) { s0, s1, p.act = observe(ctx, pr, t.db.sampler, start, end, t.sessions) })
	if err != nil {
		return p, err
	}
	p.lat = summarize(p.res.latencies)
	p.res.latencies = nil
	p.rss, p.hwm = memory(t.srv.pid())
	p.cost = costOf(s0, s1, p.res.steps, 0)
	if p.res.errors > 0 {
		b.progress("  %d errors, the first: %s", p.res.errors, p.res.firstErr)
	}
	return p, nil
}

// startVariant starts another graphd on the main cluster, with the main server's settings and extra.
func (b *bench) startVariant(ctx context.Context, name string, extra ...string) (*graphdServer, error) {
	b.nextID++
	env := append(append([]string{}, b.opt.env...), extra...)
	return startGraphd(ctx, serverSpec{name: fmt.Sprintf("%s-%d", name, b.nextID), bin: b.opt.graphd, dir: b.dir, attach: &b.main.db.cl, env: env})
}

// stopServer stops a graphd the bench started and reports what its log shows.
func (b *bench) stopServer(s *graphdServer) error {
	err := s.stop()
	if n, first := s.errorLines(); n > 0 {
		fmt.Fprintf(b.log, "graphd %s logged %d errors; the first: %s\n", s.name, n, first)
	}
	return err
}

// journalEntries counts the admin API's journal entries of PATCH requests.
func journalEntries(ctx context.Context, s *graphdServer, adminToken string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.baseURL()+"/_graphd/requests?method=PATCH", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, fmt.Errorf("GET /_graphd/requests: %s: %s", resp.Status, body)
	}
	var j struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&j); err != nil {
		return 0, err
	}
	return len(j.Value), nil
}
