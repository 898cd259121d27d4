package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
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

	srv     *graphdServer
	cl      cluster
	db      *pgx.Conn // snapshots and maintenance
	sampler *pgx.Conn // pg_stat_activity sampling, concurrent with snapshots
	probe   *probe
	pgVer   string

	patch      []patchPhase
	stmt       string // the UPDATE pgbench runs
	stmtNote   string
	pgbenchBin string
	pgbench    []pgbenchPhase

	graphdSessions int // database sessions graphd held at ratioConns connections

	perf, perfData string // perf and the profile it recorded
	prof           *profile
	profileNote    string

	growTime     time.Duration
	scalePatch   *patchPhase
	scalePgbench *pgbenchPhase
	// pgbench at graphd's session count, at scaleRows
	scalePgbenchSessions *pgbenchPhase

	queries            []collectionQuery
	paging             *pagingResult
	collectionNote     string
	collectionRows     int
	finalRSS, finalHWM int64
}

type patchPhase struct {
	conns, rows int
	res         loadResult
	lat         summary
	rss, hwm    int64 // KiB, after the level
	cost        cost
	act         *activity
}

type pgbenchPhase struct {
	run  pgbenchRun
	rows int
	cost cost
	act  *activity
}

func (b *bench) connect(ctx context.Context) error {
	var err error
	if b.cl, err = b.srv.cluster(); err != nil {
		return err
	}
	if b.db, err = pgx.Connect(ctx, b.cl.connString()); err != nil {
		return fmt.Errorf("connecting to graphd's cluster: %w", err)
	}
	if b.sampler, err = pgx.Connect(ctx, b.cl.connString()); err != nil {
		return fmt.Errorf("connecting to graphd's cluster: %w", err)
	}
	b.probe = &probe{db: b.db, graphdPID: b.srv.pid(), postmasterPID: b.cl.pid}
	return b.db.QueryRow(ctx, "SHOW server_version").Scan(&b.pgVer)
}

// load imports rows 1…rows through `graphd import` (it attaches to the running cluster), then analyzes.
func (b *bench) load(ctx context.Context) error {
	b.progress("loading %d rows with graphd import", b.opt.rows)
	began := time.Now()
	fixture := filepath.Join(b.dir, "fixture.json")
	if err := writeFixture(fixture, b.opt.rows); err != nil {
		return err
	}
	if err := b.srv.command(ctx, "import", fixture); err != nil {
		return err
	}
	b.progress("  imported in %.1f s", time.Since(began).Seconds())
	if _, err := b.db.Exec(ctx, "VACUUM ANALYZE "+table); err != nil {
		return err
	}
	return b.countRows(ctx, b.opt.rows)
}

func (b *bench) countRows(ctx context.Context, want int) error {
	var n int
	if err := b.db.QueryRow(ctx, "SELECT count(*) FROM "+table+" WHERE tenant_id = $1", odata.DevTenantID).Scan(&n); err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("the table holds %d rows of the dev tenant, want %d", n, want)
	}
	return nil
}

// checkPatch sends the benchmark's PATCH once through net/http and checks that graphd applied it, so the
// fast load generator, which only reads status codes, measures real updates.
func (b *bench) checkPatch(ctx context.Context) error {
	u := b.srv.baseURL() + collectionPath + "/" + entityID(1)
	body := []byte(patchBody)
	at := bytes.Index(body, []byte(`"conn-`)) + len(`"conn-`)
	putName(body[at:], 1, 1234567)
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PATCH %s: %s: %s", u, resp.Status, answer)
	}
	for _, want := range []string{`"connectorName":"conn-0000001.1234567"`, `"machineName":"` + seedMachineName + `"`, `"enrollmentDateTime":"` + seedEnrollment + `"`} {
		if !bytes.Contains(answer, []byte(want)) {
			return fmt.Errorf("PATCH %s answered without %s: %s", u, want, answer)
		}
	}
	return nil
}

// settle gives every measured phase the same starting point: dead rows of the previous phase vacuumed, and a
// checkpoint, so no phase pays for another's checkpoint and each pays the same full-page writes after one.
func (b *bench) settle(ctx context.Context) error {
	for _, sql := range []string{"VACUUM " + table, "CHECKPOINT"} {
		if _, err := b.db.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
	}
	return nil
}

// observe takes snapshots at a window's bounds and samples the sessions keep selects in between.
func (b *bench) observe(ctx context.Context, start, end time.Time, keep func(string) bool) (snapshot, snapshot, *activity) {
	sleepUntil(ctx, start)
	s0 := b.probe.snapshot(ctx)
	sctx, cancel := context.WithDeadline(ctx, end)
	act := sampleActivity(sctx, b.sampler, keep)
	cancel()
	return s0, b.probe.snapshot(ctx), act
}

func graphdSessions(app string) bool  { return app != "pgbench" && app != benchAppName }
func pgbenchSessions(app string) bool { return app == "pgbench" }

func (b *bench) patchLevel(ctx context.Context, conns, rows int) (patchPhase, error) {
	if err := b.settle(ctx); err != nil {
		return patchPhase{}, err
	}
	b.progress("PATCH: %d connections over %d rows (%v warm-up, %v measured)", conns, rows, b.opt.warmup, b.opt.window)
	var s0, s1 snapshot
	p := patchPhase{conns: conns, rows: rows}
	var err error
	p.res, err = runPatchLoad(ctx, loadSpec{addr: b.srv.addr, conns: conns, rows: rows, warmup: b.opt.warmup, window: b.opt.window},
		func(start, end time.Time) { s0, s1, p.act = b.observe(ctx, start, end, graphdSessions) })
	if err != nil {
		return p, err
	}
	p.lat = summarize(p.res.latencies)
	p.res.latencies = nil
	p.rss, p.hwm = memory(b.srv.pid())
	p.cost = costOf(s0, s1, p.lat.n, 0)
	if p.res.errors > 0 {
		b.progress("  %d errors, the first: %s", p.res.errors, p.res.firstErr)
	}
	return p, nil
}

func (b *bench) pgbenchLevel(ctx context.Context, clients, rows int) (pgbenchPhase, error) {
	script, err := pgbenchScript(b.stmt, rows)
	if err != nil {
		return pgbenchPhase{}, err
	}
	path := filepath.Join(b.dir, fmt.Sprintf("patch-%d.pgbench", rows))
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return pgbenchPhase{}, err
	}
	defines, err := pgbenchDefines()
	if err != nil {
		return pgbenchPhase{}, err
	}
	if err := b.settle(ctx); err != nil {
		return pgbenchPhase{}, err
	}
	b.progress("pgbench: %d clients over %d rows (%v warm-up, %v measured)", clients, rows, b.opt.warmup, b.opt.window)
	if b.opt.warmup >= time.Second {
		// On a busy machine a short warm-up may spend its time connecting; only the measured run must succeed.
		_, err := runPgbench(ctx, b.pgbenchBin, path, defines, b.cl, clients, b.opt.warmup.Truncate(time.Second))
		if err != nil && !errors.Is(err, errNoTransactions) {
			return pgbenchPhase{}, err
		}
	}
	p := pgbenchPhase{rows: rows}
	s0 := b.probe.snapshot(ctx)
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan *activity)
	go func() { done <- sampleActivity(sctx, b.sampler, pgbenchSessions) }()
	p.run, err = runPgbench(ctx, b.pgbenchBin, path, defines, b.cl, clients, b.opt.window)
	cancel()
	p.act = <-done
	if err != nil {
		return p, err
	}
	p.cost = costOf(s0, b.probe.snapshot(ctx), p.run.txs, p.run.cpu)
	return p, nil
}

// collectionQueries times issue 3's collection cases, if this build serves the collection.
func (b *bench) collectionQueries(ctx context.Context) error {
	client := &http.Client{Timeout: 30 * time.Second}
	ok, status, err := collectionAvailable(ctx, client, b.srv.baseURL())
	if !ok {
		why := fmt.Sprintf("GET %s?$top=1 answered %d", collectionPath, status)
		if err != nil {
			why = err.Error()
		}
		b.collectionNote = "not available in this build (" + why + ")"
		fmt.Fprintf(b.out, "\ncollection queries: not available in this build (%s)\n", why)
		return nil
	}
	b.collectionRows = b.opt.rows
	if b.opt.scale {
		b.collectionRows = b.opt.scaleRows
	}
	b.progress("collection queries over %d rows", b.collectionRows)
	b.queries = []collectionQuery{
		{name: "a", query: "$filter=startswith(connectorName,'conn-0004')&$orderby=connectorName&$top=50"},
		{name: "b", query: "$filter=enrollmentDateTime ge 2020-01-01T00:00:00Z and enrollmentDateTime lt 2020-02-01T00:00:00Z&$orderby=enrollmentDateTime desc&$top=50"},
		// An ordering by a time property alone: the index must deliver the order, or every page sorts the table.
		{name: "d", query: "$orderby=lastCheckinDateTime&$top=50"},
	}
	for i := range b.queries {
		q := &b.queries[i]
		med, p, err := timeGet(ctx, client, b.srv.baseURL()+collectionPath+"?"+encodeQuery(q.query), nil, b.opt.repeat)
		if err != nil {
			q.note = "failed: " + err.Error()
			continue
		}
		q.median, q.rows = med, len(p.Value)
	}
	r, err := walkPages(ctx, client, b.srv.baseURL(), 100, 1000, b.opt.repeat)
	if err != nil {
		b.collectionNote = "paging failed: " + err.Error()
	} else {
		b.paging = &r
	}
	b.printCollection()
	return nil
}
