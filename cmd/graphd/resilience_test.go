package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphd/graphd/store/embedded"
	"github.com/graphd/graphd/store/storetest"
)

// client has a bounded timeout: no request may hang, whatever the database does.
var client = &http.Client{Timeout: 20 * time.Second}

func request(tb testing.TB, method, url, body string, hdr ...string) (int, http.Header, string, error) {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, "", err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b), nil
}

func fixtureIDs(n int, prefix int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08d-0000-4000-8000-%012d", prefix, i)
	}
	return ids
}

func importIDs(tb testing.TB, getenv func(string) string, ids []string) {
	tb.Helper()
	var sb strings.Builder
	sb.WriteString("[")
	for i, id := range ids {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"id":%q,"connectorName":"start"}`, id)
	}
	sb.WriteString("]")
	if err := run(tb.Context(), []string{"import", writeFile(tb, sb.String())}, getenv, nil, io.Discard, io.Discard); err != nil {
		tb.Fatalf("import: %v", err)
	}
}

// TestRestartUnderLoad restarts PostgreSQL in place while clients write. Requests during the outage fail fast
// with 503 and Retry-After, /readyz reports it, graphd recovers by itself, and every write acknowledged with 2xx
// is in the database afterwards.
func TestRestartUnderLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dataDir := filepath.Join(dir, "pg")
	cluster, err := embedded.Start(t.Context(), embedded.Config{DataDir: dataDir})
	if err != nil {
		t.Skipf("no PostgreSQL to restart: %v", err)
	}
	t.Cleanup(func() { _ = cluster.Stop(context.WithoutCancel(t.Context())) })
	addr := freeAddr(t)
	getenv := env("DATABASE_URL", cluster.URL(), "GRAPHD_ADDR", addr, "GRAPHD_AUTH", "none", "GRAPHD_LOG_LEVEL", "error")
	const workers = 8
	ids := fixtureIDs(workers*5, 1)
	importIDs(t, getenv, ids)
	startServer(t, getenv, addr)
	base := "http://" + addr + "/beta/deviceManagement/certificateConnectorDetails/"

	type attempt struct {
		value string
		acked bool
	}
	var (
		mu       sync.Mutex
		attempts = map[string][]attempt{} // id → values written, in order, and whether each was acknowledged
		created  []string                 // ids of acknowledged creates
		outage   atomic.Int32
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := ids[w*5 : w*5+5]
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				id := mine[seq%len(mine)]
				value := fmt.Sprintf("w%d-%d", w, seq)
				status, hdr, body, err := request(t, http.MethodPatch, base+id, `{"connectorName":"`+value+`"}`)
				mu.Lock()
				attempts[id] = append(attempts[id], attempt{value, err == nil && status == http.StatusOK})
				mu.Unlock()
				switch {
				case err != nil:
					t.Errorf("PATCH failed without an answer: %v", err)
				case status == http.StatusServiceUnavailable:
					outage.Add(1)
					if hdr.Get("Retry-After") == "" || !strings.Contains(body, `"serviceNotAvailable"`) {
						t.Errorf("503 without Retry-After or envelope: %v %s", hdr, body)
					}
				case status != http.StatusOK:
					t.Errorf("PATCH = %d %s", status, body)
				}
				if seq%5 == 0 {
					status, _, body, err := request(t, http.MethodPost, strings.TrimSuffix(base, "/"), `{"connectorName":"created"}`)
					if err == nil && status == http.StatusCreated {
						var c struct{ ID string }
						_ = json.Unmarshal([]byte(body), &c)
						mu.Lock()
						created = append(created, c.ID)
						mu.Unlock()
					}
				}
			}
		}()
	}
	time.Sleep(time.Second)
	if err := cluster.Stop(t.Context()); err != nil {
		t.Fatalf("stop PostgreSQL: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for outage.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if status, _, _, _ := request(t, http.MethodGet, "http://"+addr+"/readyz", ""); status != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage = %d, want 503", status)
	}
	if cluster, err = embedded.Start(t.Context(), embedded.Config{DataDir: dataDir}); err != nil {
		t.Fatalf("restart PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = cluster.Stop(context.WithoutCancel(t.Context())) })
	// graphd recovers without a restart.
	deadline = time.Now().Add(30 * time.Second)
	for {
		if status, _, _, _ := request(t, http.MethodGet, "http://"+addr+"/readyz", ""); status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("graphd did not recover after PostgreSQL came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	if outage.Load() == 0 {
		t.Fatal("no request saw the outage")
	}

	// Every acknowledged write is there: each row holds its last acknowledged value or one written after it
	// whose answer was lost in the outage.
	for id, as := range attempts {
		_, _, body, err := request(t, http.MethodGet, base+id, "")
		if err != nil {
			t.Fatal(err)
		}
		var row struct{ ConnectorName string }
		_ = json.Unmarshal([]byte(body), &row)
		last := -1
		for i, a := range as {
			if a.acked {
				last = i
			}
		}
		ok := last == -1 && row.ConnectorName == "start"
		for i := max(last, 0); i < len(as); i++ {
			ok = ok || as[i].value == row.ConnectorName
		}
		if !ok {
			t.Errorf("row %s holds %q, but its last acknowledged write was %+v", id, row.ConnectorName, as[max(last, 0)])
		}
	}
	for _, id := range created {
		if status, _, _, _ := request(t, http.MethodGet, base+id, ""); status != http.StatusOK {
			t.Errorf("acknowledged create %s is missing: %d", id, status)
		}
	}
	total := 0
	for _, as := range attempts {
		total += len(as)
	}
	t.Logf("%d PATCHes to %d rows, %d answered 503 during the outage, %d creates acknowledged", total, len(attempts), outage.Load(), len(created))
}

// TestReplicas starts two graphd processes on one unmigrated database at the same moment, then runs concurrent
// PATCHes of different properties of the same rows through both: the migrations apply once, and no update is lost.
func TestReplicas(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	for range 4 {
		if err := run(t.Context(), []string{"migrate", "down"}, env("DATABASE_URL", url), nil, io.Discard, io.Discard); err != nil {
			t.Fatalf("migrate down: %v", err)
		}
	}
	addrs := []string{freeAddr(t), freeAddr(t)}
	var wg sync.WaitGroup
	for _, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			startServer(t, env("DATABASE_URL", url, "GRAPHD_ADDR", addr, "GRAPHD_AUTH", "none", "GRAPHD_LOG_LEVEL", "error"), addr)
		}()
	}
	wg.Wait()
	ids := fixtureIDs(4, 2)
	importIDs(t, env("DATABASE_URL", url), ids)
	// Open every pooled connection before the burst: a connection set up during it (SCRAM authentication
	// under the race detector, on a busy machine) can miss the 5 s connect timeout and answer 503, which is
	// graphd failing fast as designed, not the lost update this test looks for.
	for _, addr := range addrs {
		warmPool(t, "http://"+addr+"/beta/deviceManagement/certificateConnectorDetails/"+ids[0])
	}
	props := []string{"connectorName", "machineName", "connectorVersion"}
	const rounds = 40
	var failures atomic.Int32
	for _, id := range ids {
		for p, prop := range props {
			for i := range rounds {
				wg.Add(1)
				go func() {
					defer wg.Done()
					addr := addrs[(p+i)%2]
					url := "http://" + addr + "/beta/deviceManagement/certificateConnectorDetails/" + id
					status, _, body, err := request(t, http.MethodPatch, url, fmt.Sprintf(`{%q:"%s-%02d"}`, prop, prop, i))
					if err != nil || status != http.StatusOK {
						failures.Add(1)
						t.Errorf("PATCH = %d %v %s", status, err, body)
					}
				}()
			}
		}
	}
	wg.Wait()
	for _, id := range ids {
		_, hdr, body, _ := request(t, http.MethodGet, "http://"+addrs[0]+"/beta/deviceManagement/certificateConnectorDetails/"+id, "")
		var row map[string]any
		_ = json.Unmarshal([]byte(body), &row)
		for _, prop := range props {
			if v, _ := row[prop].(string); !strings.HasPrefix(v, prop+"-") {
				t.Errorf("%s: %s = %v, an update was lost", id, prop, row[prop])
			}
		}
		if want := fmt.Sprintf(`W/"%d"`, 1+rounds*len(props)); hdr.Get("ETag") != want {
			t.Errorf("%s: ETag %s, want %s: a version increment was lost", id, hdr.Get("ETag"), want)
		}
	}
}

// warmPool sends concurrent GETs to url until a round of them all succeeds, so that the server's database pool
// holds its full set of connections.
func warmPool(tb testing.TB, url string) {
	tb.Helper()
	const concurrent = 16 // more than the pool's connections, so that every one is opened
	deadline := time.Now().Add(60 * time.Second)
	for {
		var ok atomic.Int32
		var wg sync.WaitGroup
		for range concurrent {
			wg.Go(func() {
				if status, _, _, err := request(tb, http.MethodGet, url, ""); err == nil && status == http.StatusOK {
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		if ok.Load() == concurrent {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("GET %s: only %d of %d concurrent requests succeeded after 60 s", url, ok.Load(), concurrent)
		}
	}
}

// TestSameETagOneWinner sends PATCHes that all carry the row's current ETag at once: exactly one succeeds and
// the others get 412.
func TestSameETagOneWinner(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	getenv := env("DATABASE_URL", storetest.URL(t), "GRAPHD_ADDR", addr, "GRAPHD_AUTH", "none", "GRAPHD_LOG_LEVEL", "error")
	ids := fixtureIDs(1, 3)
	importIDs(t, getenv, ids)
	startServer(t, getenv, addr)
	url := "http://" + addr + "/beta/deviceManagement/certificateConnectorDetails/" + ids[0]
	_, hdr, _, err := request(t, http.MethodGet, url, "")
	if err != nil {
		t.Fatal(err)
	}
	tag := hdr.Get("ETag")
	var ok, stale atomic.Int32
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _, body, err := request(t, http.MethodPatch, url, fmt.Sprintf(`{"connectorName":"n%d"}`, i), "If-Match", tag)
			switch {
			case err != nil:
				t.Error(err)
			case status == http.StatusOK:
				ok.Add(1)
			case status == http.StatusPreconditionFailed && strings.Contains(body, `"PreconditionFailed"`):
				stale.Add(1)
			default:
				t.Errorf("PATCH = %d %s", status, body)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || stale.Load() != 31 {
		t.Fatalf("%d succeeded and %d got 412, want 1 and 31", ok.Load(), stale.Load())
	}
}
