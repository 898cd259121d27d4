package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPgbenchScript(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		script, err := pgbenchScript(knownUpdate, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			`\set n random(1, 10000)`,
			"SET connector_name = 'conn-' || lpad(CAST(:n AS text), 7, '0') || '.' || lpad(CAST(:suffix AS text), 7, '0'), machine_name = :machine,",
			"WHERE tenant_id = :tenant AND id = CAST('00000000-0000-4000-8000-' || lpad(CAST(:n AS text), 12, '0') AS uuid) RETURNING id,",
		} {
			if !strings.Contains(script, want) {
				t.Errorf("script lacks %q:\n%s", want, script)
			}
		}
		if strings.Contains(script, "$") {
			t.Errorf("script keeps a $n placeholder:\n%s", script)
		}
	})
	t.Run("ErrIfMatch", func(t *testing.T) {
		t.Parallel()
		stmt := strings.Replace(knownUpdate, " RETURNING", " AND version = ANY($10) RETURNING", 1)
		if _, err := pgbenchScript(stmt, 10); err == nil {
			t.Error("a statement with an If-Match parameter gave a script")
		}
	})
	t.Run("ErrUnknownColumn", func(t *testing.T) {
		t.Parallel()
		if _, err := pgbenchScript("UPDATE certificate_connector_details SET color = $3 WHERE tenant_id = $1 AND id = $2", 10); err == nil {
			t.Error("a statement with an unknown column gave a script")
		}
	})
}

func TestFixtureRowIsValid(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 3, 4, 9_999, 10_000, 999_999, 1_000_000} {
		r := newFixtureRow(n)
		if !r.enrollment.Valid() || !r.lastCheckin.Valid() {
			t.Errorf("row %d: invalid timestamps %s, %s", n, r.EnrollmentDateTime, r.LastCheckinDateTime)
		}
		if r.enrollment.Ticks < spreadStart.Ticks || r.enrollment.Ticks >= spreadEnd.Ticks {
			t.Errorf("row %d: enrollment %s outside 2015-2024", n, r.EnrollmentDateTime)
		}
		if _, err := parseUUID(r.ID); err != nil {
			t.Errorf("row %d: %v", n, err)
		}
	}
}

func TestParsePgbench(t *testing.T) {
	t.Parallel()
	const report = `pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: /tmp/graphd-bench-1/update-10000.pgbench
scaling factor: 1
query mode: prepared
number of clients: 32
number of threads: 2
maximum number of tries: 1
duration: 10 s
number of transactions actually processed: 12345
number of failed transactions: 2 (0.016%)
latency average = 25.125 ms
initial connection time = 412.500 ms
tps = 1273.456789 (without initial connection time)
`
	tests := []struct {
		name    string
		text    string
		want    pgbenchRun
		wantErr bool
	}{
		{"OK", report, pgbenchRun{clients: 32, tps: 1273.456789, meanLat: 25125 * time.Microsecond, txs: 12345, failed: 2, connTime: 412500 * time.Microsecond}, false},
		{"ErrNoTransactions", strings.Replace(report, "tps = 1273.456789 (without initial connection time)\n", "", 1), pgbenchRun{clients: 32, connTime: 412500 * time.Microsecond}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parsePgbench(tt.text, 32)
			if (err != nil) != tt.wantErr || tt.wantErr && !errors.Is(err, errNoTransactions) {
				t.Fatalf("parsePgbench: %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("parsePgbench = %+v, want %+v", got, tt.want)
			}
			if ran := got.ran(10 * time.Second); ran != 10*time.Second-tt.want.connTime {
				t.Errorf("ran = %v", ran)
			}
		})
	}
}

func TestPgbenchTime(t *testing.T) {
	t.Parallel()
	b := &bench{}
	b.noteConnTime(32, pgbenchRun{connTime: 1700 * time.Millisecond})
	b.noteConnTime(8, pgbenchRun{connTime: 400 * time.Millisecond})
	b.noteConnTime(8, pgbenchRun{}) // a run that printed no connection time keeps the last one
	tests := []struct {
		name    string
		clients int
		d       time.Duration
		want    time.Duration
	}{
		{"NothingKnown", 16, 2 * time.Second, 2 * time.Second},
		{"NothingKnownRoundsUp", 16, 1500 * time.Millisecond, 2 * time.Second},
		{"AllowsForConnecting", 32, 2 * time.Second, 4 * time.Second},
		{"Window", 8, 10 * time.Second, 11 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := b.pgbenchTime(tt.clients, tt.d); got != tt.want {
				t.Errorf("pgbenchTime(%d, %v) = %v, want %v", tt.clients, tt.d, got, tt.want)
			}
		})
	}
}
