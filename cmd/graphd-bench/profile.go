package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// profile is a system-wide CPU profile (perf record -a -g) of a PATCH run, summarized by perf report.
type profile struct {
	byCommand    []string // share of all samples per command (graphd, postgres, graphd-bench, others)
	graphdParts  []string // the stages of a PATCH in graphd, including callees, as shares of graphd's samples
	graphdSelf   []string // graphd's hottest functions by their own samples, as shares of graphd's samples
	postgresSelf []string // postgres's hottest functions, as shares of postgres's samples
}

// graphdParts are the stages a PATCH goes through in graphd, each found in the profile by a function that
// contains it (the first, most expensive, symbol containing pattern), with its callees.
var graphdParts = []struct{ label, pattern string }{
	{"net/http: read and parse the request line and headers", "net/http.(*conn).readRequest"},
	{"httpapi middleware, routing and the PATCH handler", "net/http.serverHandler.ServeHTTP"},
	{"  gorilla/mux route matching", "mux.(*Router).Match"},
	{"  PATCH handler", "handleUpdateConnector"},
	{"    read the body", "readJSONBody"},
	{"    odata.ParsePatch", "odata.ParsePatch"},
	{"    store.Update (pgx, one round trip)", "store.(*Store).Update"},
	{"      pool acquire", "pgxpool.(*Pool).Acquire"},
	{"      send to PostgreSQL", "pgproto3.(*Frontend).Flush"},
	{"      receive from PostgreSQL", "pgconn.(*PgConn).receiveMessage"},
	{"      scan the row", "store.scanConnector"},
	{"    encode the entity", "writeEntity"},
	{"net/http: write the response (syscall)", "net/http.(*response).finishRequest"},
	{"Go scheduler (park, find work, wake threads)", "runtime.mcall"},
	{"Go sysmon", "runtime.sysmon"},
	{"garbage collection (background mark)", "runtime.gcBgMarkWorker"},
	{"memory allocation (all callers)", "runtime.mallocgc"},
	{"system calls (all callers)", "internal/runtime/syscall/linux.Syscall6"},
}

// profileHz is the sampling frequency: about 2,000 samples per CPU over the profile, enough for shares of a
// few percent, and few enough that perf report stays quick on a busy machine.
const profileHz = 399

// recordProfile samples every CPU for d into file. It needs perf (Debian: linux-perf) and the right to profile
// other processes (root, or kernel.perf_event_paranoid ≤ 0). Build ids are not collected: the binaries stay
// where they are until the report.
func recordProfile(ctx context.Context, perf, file string, d time.Duration) error {
	cmd := exec.CommandContext(ctx, perf, "record", "-a", "-g", "--no-buildid", "-F", strconv.Itoa(profileHz), "-o", file,
		"--", "sleep", strconv.Itoa(int(d.Seconds())))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("perf record: %w\n%s", err, out)
	}
	return nil
}

func summarizeProfile(ctx context.Context, perf, file string) (profile, error) {
	var p profile
	report := func(limit int, userOnly bool, args ...string) ([]string, error) {
		base := []string{"report", "-i", file, "--stdio", "-g", "none", "--percent-limit", "0.3"}
		out, err := exec.CommandContext(ctx, perf, append(base, args...)...).Output()
		if err != nil {
			return nil, fmt.Errorf("perf report %s: %w", strings.Join(args, " "), err)
		}
		var lines []string
		for line := range strings.Lines(string(out)) {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") || userOnly && strings.Contains(line, "[k]") {
				continue
			}
			lines = append(lines, strings.Join(strings.Fields(line), " "))
			if len(lines) == limit {
				break
			}
		}
		return lines, nil
	}
	var err error
	if p.byCommand, err = report(8, false, "--no-children", "--sort", "comm"); err != nil {
		return p, err
	}
	inclusive, err := report(0, true, "--children", "--comms", "graphd", "--percentage", "relative", "--sort", "sym")
	if err != nil {
		return p, err
	}
	p.graphdParts = pickParts(inclusive)
	if p.graphdSelf, err = report(15, false, "--no-children", "--comms", "graphd", "--percentage", "relative", "--sort", "dso,sym"); err != nil {
		return p, err
	}
	if p.postgresSelf, err = report(12, false, "--no-children", "--comms", "postgres", "--percentage", "relative", "--sort", "dso,sym"); err != nil {
		return p, err
	}
	return p, nil
}

// pickParts finds graphdParts in perf report --children lines ("CHILDREN% SELF% [.] SYMBOL"), which come
// sorted by CHILDREN.
func pickParts(lines []string) []string {
	var out []string
	for _, part := range graphdParts {
		for _, line := range lines {
			f := strings.Fields(line)
			if len(f) < 4 || !strings.Contains(strings.Join(f[3:], " "), part.pattern) {
				continue
			}
			out = append(out, fmt.Sprintf("%6s  %s", f[0], part.label))
			break
		}
	}
	return out
}
