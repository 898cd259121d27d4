package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/graphd/graphd/odata"
	"github.com/jackc/pgx/v5"
)

// knownUpdate is the statement store.Update sends for a PATCH of all five properties without If-Match
// (store/model.go, updateText). The bench prefers the text PostgreSQL saw from graphd itself
// (capturedStatement) and falls back to this one, saying so.
const knownUpdate = "UPDATE certificate_connector_details SET connector_name = $3, machine_name = $4, " +
	"enrollment_ticks = $5, enrollment_offset = $6, last_checkin_ticks = $7, last_checkin_offset = $8, " +
	"connector_version = $9, version = version + 1 WHERE tenant_id = $1 AND id = $2 RETURNING id, connector_name, " +
	"machine_name, enrollment_ticks, enrollment_offset, last_checkin_ticks, last_checkin_offset, connector_version, version"

// knownGet is the statement store.Get sends for GET by id (store/model.go, getSQL).
const knownGet = "SELECT id, connector_name, machine_name, enrollment_ticks, enrollment_offset, last_checkin_ticks, " +
	"last_checkin_offset, connector_version, version FROM certificate_connector_details WHERE tenant_id = $1 AND id = $2"

// The statements capturedStatement looks for: what the PATCH and the GET of the load generator send.
const (
	updatePattern = "UPDATE certificate_connector_details %"
	getPattern    = "SELECT % FROM certificate_connector_details WHERE tenant_id = $1 AND id = $2"
)

// capturedStatement returns the last statement like pattern (SQL LIKE) that a graphd session ran, as
// pg_stat_activity shows it: after a window of PATCH or GET, every one of graphd's pooled sessions shows it.
func capturedStatement(ctx context.Context, db *pgx.Conn, pattern string) (string, error) {
	var q string
	err := db.QueryRow(ctx, `SELECT query FROM pg_stat_activity
		WHERE datname = current_database() AND application_name NOT IN ('pgbench', $1)
		AND query LIKE $2 LIMIT 1`, benchAppName, pattern).Scan(&q)
	return strings.TrimSpace(q), err
}

// statementFor picks the statement pgbench runs: the captured one, else the one graphd is known to send, and
// says which.
func statementFor(captured string, err error, known string) (stmt, note string) {
	switch {
	case err != nil:
		return known, fmt.Sprintf("could not read graphd's statement from pg_stat_activity (%v); used the one the store is known to send", err)
	case captured == known:
		return captured, "graphd's statement as pg_stat_activity showed it (the same text as the store's)"
	}
	return captured, "graphd's statement as pg_stat_activity showed it; it differs from the text this bench knows:\n  " + captured
}

// pgbenchColumns maps each column to the pgbench expression of its value. Two are SQL expressions, because
// pgbench variables are numbers or fixed strings: the id computed from the row number, and the connectorName
// the PATCH sends ("conn-%07d.%07d" of the row and random digits). The rest are parameters, the same values
// the PATCH body carries, in the representation store.Update binds.
var pgbenchColumns = map[string]string{
	"tenant_id":           ":tenant",
	"id":                  "CAST('" + idPrefix + "' || lpad(CAST(:n AS text), 12, '0') AS uuid)",
	"connector_name":      "'conn-' || lpad(CAST(:n AS text), 7, '0') || '.' || lpad(CAST(:suffix AS text), 7, '0')",
	"machine_name":        ":machine",
	"enrollment_ticks":    ":enrollment_ticks",
	"enrollment_offset":   ":enrollment_offset",
	"last_checkin_ticks":  ":last_checkin_ticks",
	"last_checkin_offset": ":last_checkin_offset",
	"connector_version":   ":connector_version",
}

var (
	bindingRE     = regexp.MustCompile(`(\w+) = \$(\d+)`)
	placeholderRE = regexp.MustCompile(`\$(\d+)`)
)

// pgbenchScript turns graphd's UPDATE or SELECT into a pgbench script: each $n becomes the pgbench variable of
// the column it is compared with or assigned to. A parameter bound otherwise (If-Match's version = ANY($n)) is
// an error: the bench sends no If-Match.
func pgbenchScript(stmt string, rows int) (string, error) {
	params := map[string]string{}
	for _, m := range bindingRE.FindAllStringSubmatch(stmt, -1) {
		expr, ok := pgbenchColumns[m[1]]
		if !ok {
			return "", fmt.Errorf("no pgbench value for column %s", m[1])
		}
		params[m[2]] = expr
	}
	var missing []string
	script := placeholderRE.ReplaceAllStringFunc(stmt, func(p string) string {
		expr, ok := params[p[1:]]
		if !ok {
			missing = append(missing, p)
		}
		return expr
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("parameters %v of the statement are bound to no known column", missing)
	}
	return fmt.Sprintf("\\set n random(1, %d)\n\\set suffix random(0, 9999999)\n%s;\n", rows, script), nil
}

// pgbenchDefines are the constant variables (-D), the seed PATCH's values as graphd binds them.
func pgbenchDefines() ([]string, error) {
	enrollment, ok1 := odata.ParseDateTimeOffset(seedEnrollment)
	lastCheckin, ok2 := odata.ParseDateTimeOffset(seedLastCheckin)
	if !ok1 || !ok2 {
		return nil, errors.New("seed timestamps do not parse")
	}
	return []string{
		"tenant=" + odata.DevTenantID,
		"machine=" + seedMachineName,
		"enrollment_ticks=" + strconv.FormatInt(enrollment.Ticks, 10),
		"enrollment_offset=" + strconv.Itoa(int(enrollment.Offset)),
		"last_checkin_ticks=" + strconv.FormatInt(lastCheckin.Ticks, 10),
		"last_checkin_offset=" + strconv.Itoa(int(lastCheckin.Offset)),
		"connector_version=" + seedConnectorVersion,
	}, nil
}

// findPgbench returns the pgbench of the cluster's PostgreSQL version if there is one, else the newest.
func findPgbench(pgdata string) (string, error) {
	if v, err := os.ReadFile(filepath.Join(pgdata, "PG_VERSION")); err == nil {
		p := filepath.Join("/usr/lib/postgresql", strings.TrimSpace(string(v)), "bin", "pgbench")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	slices.SortFunc(found, func(a, b string) int { return versionOf(b) - versionOf(a) })
	if len(found) > 0 {
		return found[0], nil
	}
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p, nil
	}
	return "", errors.New("pgbench not found (Debian: apt-get install postgresql-contrib, or postgresql on 15+)")
}

func versionOf(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

// pgbenchRun is one pgbench invocation's result.
type pgbenchRun struct {
	clients int
	tps     float64
	meanLat time.Duration
	txs     int
	failed  int
	cpu     time.Duration // pgbench's own CPU
	// connTime is how long pgbench took to open its connections, on average per thread: -T counts it, tps
	// leaves it out. On a busy machine, 32 connections take a good part of a second.
	connTime time.Duration
	p99      time.Duration // of the transactions' latencies, when the run logged them (0 otherwise)
}

// ran is how long the run did transactions: -T less the connection time.
func (r pgbenchRun) ran(d time.Duration) time.Duration { return max(0, d-r.connTime) }

// errNoTransactions is pgbench completing no transaction in its time (it then prints no tps).
var errNoTransactions = errors.New("pgbench completed no transaction")

var (
	tpsRE    = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	latRE    = regexp.MustCompile(`latency average = ([0-9.]+) ms`)
	txsRE    = regexp.MustCompile(`number of transactions actually processed: (\d+)`)
	failedRE = regexp.MustCompile(`number of failed transactions: (\d+)`)
	connRE   = regexp.MustCompile(`initial connection time = ([0-9.]+) ms`)
)

// runPgbench runs the script with clients connections for d over the cluster's unix socket, in prepared mode
// (pgx prepares its statements too) and without pgbench's own VACUUM of its tables.
//
// With logDir set, pgbench logs every transaction's latency there (-l) and the run's p99 is read from the log:
// what the database itself gives that many sessions, for the PATCH p99 target. Only runs that no ratio rests
// on log, as logging costs pgbench some CPU.
func runPgbench(ctx context.Context, bin, script string, defines []string, c cluster, clients int, d time.Duration, logDir string) (pgbenchRun, error) {
	r := pgbenchRun{clients: clients}
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, 2)),
		"-T", strconv.Itoa(int(d.Seconds())), "-f", script, "-h", c.sockDir, "-p", c.port, "-U", "graphd"}
	prefix := ""
	if logDir != "" {
		dir, err := os.MkdirTemp(logDir, "pgbench-log-")
		if err != nil {
			return r, err
		}
		defer os.RemoveAll(dir)
		prefix = filepath.Join(dir, "tx")
		args = append(args, "-l", "--log-prefix", prefix)
	}
	for _, d := range defines {
		args = append(args, "-D", d)
	}
	args = append(args, "graphd")
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = withoutVars(os.Environ(), "PG")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return r, fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	cpu := r.cpu
	r, err = parsePgbench(string(out), clients)
	r.cpu = cpu
	if err == nil && prefix != "" {
		r.p99, err = pgbenchLogP99(prefix)
	}
	return r, err
}

// pgbenchLogP99 reads the transaction logs pgbench -l wrote under prefix (one file per thread:
// "client transaction latency_us script epoch_s epoch_us" per line) and returns their latencies' p99.
func pgbenchLogP99(prefix string) (time.Duration, error) {
	files, err := filepath.Glob(prefix + ".*")
	if err != nil || len(files) == 0 {
		return 0, fmt.Errorf("pgbench wrote no transaction log under %s", prefix)
	}
	var lat []time.Duration
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return 0, err
		}
		for line := range strings.Lines(string(data)) {
			fields := strings.Fields(line)
			if len(fields) < 3 {
				continue
			}
			v, err := strconv.ParseInt(fields[2], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("pgbench log %s: %q", f, line)
			}
			lat = append(lat, time.Duration(v)*time.Microsecond)
		}
	}
	if len(lat) == 0 {
		return 0, errors.New("pgbench logged no transaction")
	}
	return summarize(lat).p99, nil
}

// parsePgbench reads pgbench's report.
func parsePgbench(text string, clients int) (pgbenchRun, error) {
	r := pgbenchRun{clients: clients}
	millis := func(s string) time.Duration {
		v, _ := strconv.ParseFloat(s, 64)
		return time.Duration(v * float64(time.Millisecond))
	}
	if m := connRE.FindStringSubmatch(text); m != nil {
		r.connTime = millis(m[1])
	}
	m := tpsRE.FindStringSubmatch(text)
	if m == nil {
		return r, fmt.Errorf("%w:\n%s", errNoTransactions, text)
	}
	r.tps, _ = strconv.ParseFloat(m[1], 64)
	if m := latRE.FindStringSubmatch(text); m != nil {
		r.meanLat = millis(m[1])
	}
	if m := txsRE.FindStringSubmatch(text); m != nil {
		r.txs, _ = strconv.Atoi(m[1])
	}
	if m := failedRE.FindStringSubmatch(text); m != nil {
		r.failed, _ = strconv.Atoi(m[1])
	}
	return r, nil
}
