package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
	"github.com/graphd/graphd/store/embedded"
	"github.com/graphd/graphd/store/storetest"
)

// linDurationEnv sets how long TestLinearizability keeps injecting faults under load (`make soak SOAK=5m`); by
// default it runs one epoch per kind of fault: 8 s of load around the faults, which take 10-20 s themselves.
const linDurationEnv = "LINEARIZABILITY_DURATION"

const (
	linKeys    = 4  // keys per epoch
	linWorkers = 8  // clients sending GET, PATCH and DELETE at once
	linEpochs  = 4  // epochs at least: one per kind of fault
	linTimeout = 60 // seconds a client waits for an answer before calling the outcome unknown
	// linMaxUnknown bounds the writes of unknown outcome per key (then the key is only read): the checker tries
	// each of them at every later point of the key's history, so its work grows exponentially with their number.
	linMaxUnknown = 6
)

// TestLinearizability records a history of concurrent GET, PATCH and DELETE requests (with and without
// If-Match) and re-creations through `graphd import`, on a few keys, sent at random to two graphd processes on
// one PostgreSQL, while PostgreSQL restarts in place (fast and immediate shutdowns) and while a replica is
// killed with SIGKILL and started again; then it checks with porcupine that the history of every key is
// linearizable.
//
// The run is a series of epochs, each on fresh keys and with one fault in its middle: a request whose outcome
// is unknown stays a candidate for every later point of its key's history, so fresh keys keep the checker's
// search small however long a soak runs.
func TestLinearizability(t *testing.T) {
	t.Parallel()
	duration := time.Duration(0)
	if v := os.Getenv(linDurationEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s=%q: %v", linDurationEnv, v, err)
		}
		duration = d
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	db := &linDB{dataDir: filepath.Join(dir, "pg")}
	cluster, err := embedded.Start(t.Context(), embedded.Config{DataDir: db.dataDir})
	if err != nil {
		t.Skipf("no PostgreSQL to restart: %v", err)
	}
	db.cluster = cluster
	t.Cleanup(func() { _ = db.stop(context.WithoutCancel(t.Context())) })
	url := db.url()
	if err := run(t.Context(), []string{"migrate", "up"}, env("DATABASE_URL", url), nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	var replicas []*linReplica
	for i := range 2 {
		r := newLinReplica(t, fmt.Sprintf("replica %d", i), url) // after the previous one listens, so not on its port
		t.Cleanup(r.stop)
		if err := r.start(t.Context()); err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, r)
	}

	l := &linLoad{h: newLinHistory(), replicas: replicas, importEnv: env("DATABASE_URL", url, "GRAPHD_LOG_LEVEL", "error"),
		importDir: t.TempDir(), client: linHTTPClient()}
	faults := []struct {
		name   string
		inject func(ctx context.Context) error
	}{
		{"PostgreSQL restart (fast shutdown)", func(ctx context.Context) error { return db.restart(ctx, false) }},
		{"SIGKILL replica 0, start it again", func(ctx context.Context) error { replicas[0].kill(); return replicas[0].start(ctx) }},
		{"PostgreSQL restart (immediate shutdown, crash recovery)", func(ctx context.Context) error { return db.restart(ctx, true) }},
		{"SIGKILL replica 1, start it again", func(ctx context.Context) error { replicas[1].kill(); return replicas[1].start(ctx) }},
	}
	began := time.Now()
	epochs := 0
	for ; epochs < linEpochs || time.Since(began) < duration; epochs++ {
		f := faults[epochs%len(faults)]
		took, err := l.epoch(t, epochs, func(ctx context.Context) error {
			if err := f.inject(ctx); err != nil {
				return err
			}
			// Recovered once both replicas answer with the database again.
			for _, r := range replicas {
				if err := r.waitReady(ctx, nil, 90*time.Second); err != nil {
					return err
				}
			}
			return nil
		}, f.name)
		if err != nil {
			t.Fatalf("epoch %d, %s: %v", epochs, f.name, err)
		}
		if testing.Verbose() {
			t.Logf("epoch %d: %s, recovered in %s", epochs, f.name, took.Round(time.Millisecond))
		}
	}
	load := time.Since(began)
	for _, r := range replicas {
		r.check(t)
	}
	if l.h.checkAnswers(t) || t.Failed() {
		for _, r := range replicas {
			t.Logf("%s's log:\n%s", r.name, r.logs.String())
		}
	}

	unknown := map[string]int{}
	for _, op := range l.h.ops {
		if op.Output.(linOutput).unknown {
			unknown[op.Input.(linInput).key]++
		}
	}
	checkStart := time.Now()
	result, path, err := linCheck(l.h, 10*time.Minute, func() string { return linArtifactDir(t) })
	t.Logf("%d operations on %d keys in %d epochs (%s with the faults), %d faults, at most %d writes of unknown outcome on a key; porcupine: %s in %s; outcomes:%s",
		len(l.h.ops), epochs*linKeys, epochs, load.Round(time.Second), epochs, maxOf(unknown), result,
		time.Since(checkStart).Round(time.Millisecond), l.h.summary())
	switch {
	case err != nil:
		t.Fatalf("visualization: %v", err)
	case result == porcupine.Illegal:
		t.Fatalf("the history is not linearizable; porcupine's visualization: %s", path)
	case result != porcupine.Ok:
		t.Fatalf("porcupine could not decide within its time limit")
	}
}

func maxOf(m map[string]int) int {
	n := 0
	for _, v := range m {
		n = max(n, v)
	}
	return n
}

// linLoad sends the requests of a history.
type linLoad struct {
	h         *linHistory
	replicas  []*linReplica
	importEnv func(string) string
	importDir string
	imports   atomic.Int64
	client    *http.Client
}

func linHTTPClient() *http.Client {
	return &http.Client{
		Timeout:   linTimeout * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 2 * linWorkers, IdleConnTimeout: time.Minute},
	}
}

// epoch imports fresh keys, puts them under load from every worker and the importer, injects the fault after a
// while and, once it has recovered, keeps the load on a while longer. It returns how long the fault took.
func (l *linLoad) epoch(t *testing.T, n int, fault func(context.Context) error, faultName string) (time.Duration, error) {
	keys := make([]string, linKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("%08x-0000-4000-8000-%012x", n, i)
	}
	for _, k := range keys {
		// The previous fault is over, but a slow machine may still time an import out: try again then.
		for try := 0; l.importKey(t, linWorkers, k, fmt.Sprintf("e%d-start%d", n, try)).unknown; try++ {
			if try == 4 {
				return 0, fmt.Errorf("importing the epoch's keys failed %d times", try+1)
			}
			time.Sleep(time.Second)
		}
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	e := &linEpoch{n: n, keys: keys, gone: make([]atomic.Bool, len(keys)), unknown: make([]atomic.Int32, len(keys))}
	var wg sync.WaitGroup
	for w := range linWorkers {
		wg.Go(func() { l.worker(ctx, e, w) })
	}
	wg.Go(func() { l.importer(ctx, t, e) })

	time.Sleep(time.Second)
	start := l.h.now()
	err := fault(context.WithoutCancel(t.Context()))
	end := l.h.now()
	l.h.fault(faultName, start, end)
	if err == nil {
		time.Sleep(time.Second)
	}
	cancel()
	wg.Wait()
	if err != nil {
		return 0, err
	}
	// The last word on each key, from both replicas.
	for _, k := range keys {
		for r := range l.replicas {
			if _, delivered := l.send(linWorkers+1, linInput{kind: linGet, key: k}, r); !delivered {
				return 0, fmt.Errorf("replica %d refused a connection after the epoch", r)
			}
		}
	}
	return time.Duration(end - start), nil
}

// linEpoch is what the clients of an epoch share.
type linEpoch struct {
	n       int
	keys    []string
	gone    []atomic.Bool  // by key: a client saw it missing since the last import
	unknown []atomic.Int32 // by key: writes of unknown outcome
}

// writable says whether a key may take more writes (see linMaxUnknown).
func (e *linEpoch) writable(k int) bool { return e.unknown[k].Load() < linMaxUnknown }

// worker sends random requests to random replicas until ctx is done. Its conditional requests carry the
// version it last saw of the key, read just before or earlier, so some are current and some stale.
func (l *linLoad) worker(ctx context.Context, e *linEpoch, id int) {
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	seen := map[string]int64{}
	for seq := 0; ctx.Err() == nil; seq++ {
		k := rng.IntN(len(e.keys))
		in := linInput{key: e.keys[k]}
		p := rng.IntN(100)
		switch {
		case p < 40 || !e.writable(k):
			in.kind = linGet
		case p < 98:
			in.kind = linPatch
			in.name = fmt.Sprintf("e%d-w%d-%d", e.n, id, seq)
		default:
			in.kind = linDelete
		}
		if in.kind != linGet && rng.IntN(2) == 0 {
			if rng.IntN(2) == 0 {
				// Read, then write conditionally on what was read.
				if out, _ := l.send(id, linInput{kind: linGet, key: in.key}, rng.IntN(len(l.replicas))); out.status == http.StatusOK {
					seen[in.key] = out.version
				}
			}
			in.ifMatch = seen[in.key]
			if rng.IntN(10) == 0 {
				in.ifMatch = linAnyVersion
			}
		}
		replica := rng.IntN(len(l.replicas))
		out, delivered := l.send(id, in, replica)
		switch {
		case !delivered:
			time.Sleep(10 * time.Millisecond)
		case out.unknown:
			if in.kind != linGet {
				e.unknown[k].Add(1)
			}
			// Wait out the fault rather than pile up requests of unknown outcome.
			l.replicas[replica].waitServing(ctx)
		case out.status == http.StatusOK:
			seen[in.key] = out.version
		case out.status == http.StatusNotFound, out.status == http.StatusNoContent:
			delete(seen, in.key)
			e.gone[k].Store(true)
		}
	}
}

// importer re-creates deleted keys with `graphd import` (and now and then replaces a key that exists) until ctx
// is done.
func (l *linLoad) importer(ctx context.Context, t *testing.T, e *linEpoch) {
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for ctx.Err() == nil {
		var candidates []int
		for k := range e.gone {
			if e.gone[k].Load() && e.writable(k) {
				candidates = append(candidates, k)
			}
		}
		if len(candidates) == 0 {
			time.Sleep(time.Duration(20+rng.IntN(30)) * time.Millisecond)
			if k := rng.IntN(len(e.keys)); rng.IntN(5) == 0 && e.writable(k) {
				candidates = []int{k}
			} else {
				continue
			}
		}
		k := candidates[rng.IntN(len(candidates))]
		e.gone[k].Store(false)
		if out := l.importKey(t, linWorkers, e.keys[k], fmt.Sprintf("e%d-i%d", e.n, l.imports.Add(1))); out.unknown {
			e.unknown[k].Add(1)
			for _, r := range l.replicas {
				r.waitServing(ctx)
			}
		}
	}
}

// importKey runs `graphd import` of one connector and records it.
func (l *linLoad) importKey(t *testing.T, client int, key, name string) linOutput {
	path := filepath.Join(l.importDir, name+".json")
	if err := os.WriteFile(path, fmt.Appendf(nil, `[{"id":%q,"connectorName":%q}]`, key, name), 0o644); err != nil {
		t.Error(err)
		return linOutput{unknown: true}
	}
	in := linInput{kind: linImport, key: key, name: name}
	call := l.h.now()
	err := run(context.Background(), []string{"import", path}, l.importEnv, nil, io.Discard, io.Discard)
	ret := l.h.now()
	out := linOutput{status: http.StatusOK}
	if err != nil {
		out = linOutput{unknown: true}
	}
	l.h.add(client, in, out, call, ret)
	return out
}

// send makes one request to a replica and records it. A request refused at connect never reached graphd and
// is not recorded (delivered is false); neither is a GET whose outcome is unknown, since a read changes nothing.
func (l *linLoad) send(client int, in linInput, replica int) (linOutput, bool) {
	r, delivered := linRequest(l.client, l.replicas[replica].base(), in, l.h.now)
	return l.record(client, in, r, delivered)
}

// record adds a request's outcome to the history, as send describes.
func (l *linLoad) record(client int, in linInput, r linResult, delivered bool) (linOutput, bool) {
	if !delivered {
		l.h.count("refused at connect")
		return linOutput{}, false
	}
	if r.out.unknown && r.detail != "" {
		l.h.count(r.detail)
	}
	if r.unexpected != "" {
		l.h.note(&l.h.unexpected, r.unexpected)
	}
	if r.serverError != "" {
		l.h.note(&l.h.serverErrors, r.serverError)
	}
	if r.out.unknown && in.kind == linGet {
		l.h.count("GET unknown (dropped)")
		return r.out, true
	}
	l.h.add(client, in, r.out, r.call, r.ret)
	return r.out, true
}

// linResult is a request's outcome with its times.
type linResult struct {
	out         linOutput
	call, ret   int64
	detail      string // why the outcome is unknown, for the counts
	unexpected  string // an answer no correct graphd gives to these requests
	serverError string // a 5xx other than 503
}

// linRequest sends in to the graphd at base.
func linRequest(c *http.Client, base string, in linInput, now func() int64) (linResult, bool) {
	url := base + "/beta/deviceManagement/certificateConnectorDetails/" + in.key
	var req *http.Request
	var err error
	switch in.kind {
	case linGet:
		req, err = http.NewRequest(http.MethodGet, url, nil)
	case linPatch:
		req, err = http.NewRequest(http.MethodPatch, url, strings.NewReader(fmt.Sprintf(`{"connectorName":%q}`, in.name)))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	case linDelete:
		req, err = http.NewRequest(http.MethodDelete, url, nil)
	}
	if err != nil {
		panic(err)
	}
	switch in.ifMatch {
	case linNoCondition:
	case linAnyVersion:
		req.Header.Set("If-Match", "*")
	default:
		req.Header.Set("If-Match", odata.ETag(in.ifMatch))
	}
	r := linResult{call: now()}
	res, err := c.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(res.Body)
		res.Body.Close()
	}
	r.ret = now()
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return r, false
	case err != nil:
		r.out, r.detail = linOutput{unknown: true}, "no answer (unknown)"
		return r, true
	}
	st := res.StatusCode
	switch {
	case st == http.StatusServiceUnavailable:
		r.out, r.detail = linOutput{unknown: true}, "503 (unknown)"
	case st >= 500:
		r.out, r.detail = linOutput{unknown: true}, fmt.Sprintf("%d (unknown)", st)
		r.serverError = fmt.Sprintf("%s %s → %d %s", req.Method, in.key, st, body)
	case st == http.StatusOK && in.kind != linDelete:
		var e struct {
			ConnectorName string `json:"connectorName"`
		}
		v, ok := linParseETag(res.Header.Get("ETag"))
		if jerr := json.Unmarshal(body, &e); jerr != nil || !ok {
			r.out, r.unexpected = linOutput{unknown: true}, fmt.Sprintf("%s %s → 200 with ETag %q and body %s", req.Method, in.key, res.Header.Get("ETag"), body)
			break
		}
		r.out = linOutput{status: st, name: e.ConnectorName, version: v}
	case st == http.StatusNoContent && in.kind == linDelete,
		st == http.StatusNotFound,
		st == http.StatusPreconditionFailed && in.kind != linGet && in.ifMatch != linNoCondition:
		r.out = linOutput{status: st}
	default:
		r.out, r.unexpected = linOutput{unknown: true}, fmt.Sprintf("%s %s → %d %s", req.Method, in.key, st, body)
	}
	return r, true
}

// linParseETag reads W/"n".
func linParseETag(tag string) (int64, bool) {
	s, ok := strings.CutPrefix(tag, `W/"`)
	if !ok || !strings.HasSuffix(s, `"`) {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSuffix(s, `"`), 10, 64)
	return v, err == nil && v > 0
}

// TestLinearizabilityCatchesBrokenStore shows that the check finds what it is for: graphd served over stores
// that implement If-Match wrongly gives histories porcupine rejects, under a workload of rounds of concurrent
// PATCHes that all carry the ETag just read; the real store, under the same workload, passes.
func TestLinearizabilityCatchesBrokenStore(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	st, err := store.Open(t.Context(), url, store.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	for i, tc := range []struct {
		name  string
		store httpapi.Store
		want  porcupine.CheckResult
	}{
		{"RealStore", st, porcupine.Ok},
		// Reads the version, compares it, then updates without the condition: two requests with the same ETag
		// can both pass the comparison before either writes.
		{"CheckThenAct", linCheckThenAct{Store: st, window: 20 * time.Millisecond}, porcupine.Illegal},
		// Ignores If-Match altogether.
		{"ConditionDropped", linConditionDropped{st}, porcupine.Illegal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(httpapi.NewServer(httpapi.Config{}, tc.store))
			t.Cleanup(srv.Close)
			l := &linLoad{h: newLinHistory(), importEnv: env("DATABASE_URL", url, "GRAPHD_LOG_LEVEL", "error"),
				importDir: t.TempDir(), client: linHTTPClient()}
			const clients, rounds = 8, 20
			key := fmt.Sprintf("0000ffff-0000-4000-8000-%012x", i)
			if l.importKey(t, clients, key, "start").unknown {
				t.Fatal("import failed")
			}
			send := func(client int, in linInput) linOutput {
				r, _ := linRequest(l.client, srv.URL, in, l.h.now)
				out, _ := l.record(client, in, r, true)
				if out.unknown {
					t.Errorf("%v: no definite answer", in)
				}
				return out
			}
			for round := range rounds {
				cur := send(clients, linInput{kind: linGet, key: key})
				var wg sync.WaitGroup
				start := make(chan struct{})
				for c := range clients {
					wg.Go(func() {
						<-start
						send(c, linInput{kind: linPatch, key: key, name: fmt.Sprintf("r%d-c%d", round, c), ifMatch: cur.version})
					})
				}
				close(start)
				wg.Wait()
			}
			l.h.checkAnswers(t)
			result, path, err := linCheck(l.h, 5*time.Minute, t.ArtifactDir)
			if err != nil {
				t.Fatal(err)
			}
			if result != tc.want {
				t.Fatalf("porcupine says %s, want %s; outcomes:%s", result, tc.want, l.h.summary())
			}
			if path != "" {
				t.Logf("porcupine rejects the history as it should: %d operations; outcomes:%s\nvisualization (kept with go test -artifacts): %s",
					len(l.h.ops), l.h.summary(), path)
			}
		})
	}
}

// linCheckThenAct is a store whose conditional writes are not atomic.
type linCheckThenAct struct {
	httpapi.Store
	window time.Duration // between the comparison and the write
}

func (s linCheckThenAct) check(ctx context.Context, set *odata.EntitySet, tenant, key string, cond store.Precondition) error {
	if !cond.Set {
		return nil
	}
	e, err := s.Store.Get(ctx, set, tenant, key)
	if err != nil {
		return err
	}
	if !slices.Contains(cond.Versions, e.Version) {
		return odata.ErrPreconditionFailed
	}
	time.Sleep(s.window)
	return nil
}

func (s linCheckThenAct) Update(ctx context.Context, set *odata.EntitySet, tenant, key string, p *odata.Patch, cond store.Precondition, now odata.DateTimeOffset) (odata.Entity, error) {
	if err := s.check(ctx, set, tenant, key, cond); err != nil {
		return odata.Entity{}, err
	}
	return s.Store.Update(ctx, set, tenant, key, p, store.Precondition{}, now)
}

func (s linCheckThenAct) Delete(ctx context.Context, set *odata.EntitySet, tenant, key string, cond store.Precondition) error {
	if err := s.check(ctx, set, tenant, key, cond); err != nil {
		return err
	}
	return s.Store.Delete(ctx, set, tenant, key, store.Precondition{})
}

// linConditionDropped is a store that ignores If-Match.
type linConditionDropped struct{ httpapi.Store }

func (s linConditionDropped) Update(ctx context.Context, set *odata.EntitySet, tenant, key string, p *odata.Patch, _ store.Precondition, now odata.DateTimeOffset) (odata.Entity, error) {
	return s.Store.Update(ctx, set, tenant, key, p, store.Precondition{}, now)
}

func (s linConditionDropped) Delete(ctx context.Context, set *odata.EntitySet, tenant, key string, _ store.Precondition) error {
	return s.Store.Delete(ctx, set, tenant, key, store.Precondition{})
}
