package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/graphd/graphd/odata"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Row n of the benchmark table has id idPrefix + n as 12 decimal digits: pgbench can compute the same id from
// an integer, and the load generator can patch the digits into a request in place.
const (
	idPrefix = "00000000-0000-4000-8000-"
	idDigits = 12
	table    = "certificate_connector_details"
)

func entityID(n int) string { return fmt.Sprintf("%s%0*d", idPrefix, idDigits, n) }

// fixtureRow is row n of the benchmark data. The rows imported through graphd and the ones copied in for the
// scale test come from this one definition, so a collection filter selects the same share at any size:
// connectorName "conn-%07d" (startswith(…,'conn-0004') picks 1,000 of 1,000,000), machineName "m-%03d",
// enrollment scattered over 2015-2024 (one month holds about 1/120 of the rows) in four offsets.
type fixtureRow struct {
	ID                  string `json:"id"`
	ConnectorName       string `json:"connectorName"`
	MachineName         string `json:"machineName"`
	EnrollmentDateTime  string `json:"enrollmentDateTime"`
	LastCheckinDateTime string `json:"lastCheckinDateTime"`
	ConnectorVersion    string `json:"connectorVersion"`

	enrollment, lastCheckin odata.DateTimeOffset
}

var (
	spreadStart, _ = odata.ParseDateTimeOffset("2015-01-01T00:00:00Z")
	spreadEnd, _   = odata.ParseDateTimeOffset("2025-01-01T00:00:00Z")
	offsets        = [...]int16{0, -480, 60, 330}
)

func newFixtureRow(n int) fixtureRow {
	spanSeconds := (spreadEnd.Ticks - spreadStart.Ticks) / odata.TicksPerSecond
	// 7919 and 104729 are primes: consecutive rows land far apart, with no visible period.
	enrollment := odata.DateTimeOffset{
		Ticks:  spreadStart.Ticks + int64(n)*7919%spanSeconds*odata.TicksPerSecond + int64(n)*1237%odata.TicksPerSecond,
		Offset: offsets[n%len(offsets)],
	}
	lastCheckin := enrollment
	lastCheckin.Ticks += int64(n) * 104729 % (365 * 86400) * odata.TicksPerSecond
	return fixtureRow{
		ID:                  entityID(n),
		ConnectorName:       fmt.Sprintf("conn-%07d", n),
		MachineName:         fmt.Sprintf("m-%03d", n%1000),
		EnrollmentDateTime:  enrollment.String(),
		LastCheckinDateTime: lastCheckin.String(),
		ConnectorVersion:    fmt.Sprintf("6.23%02d.%d.0", n%12+1, n%3),
		enrollment:          enrollment,
		lastCheckin:         lastCheckin,
	}
}

// writeFixture writes rows 1…n as a JSON array that `graphd import` loads.
func writeFixture(path string, n int) error {
	rows := make([]fixtureRow, n)
	for i := range rows {
		rows[i] = newFixtureRow(i + 1)
	}
	data, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// copyRows inserts rows from…to (inclusive) with COPY, the fastest way in; each call is one transaction.
func copyRows(ctx context.Context, conn *pgx.Conn, from, to int) error {
	tenant, err := parseUUID(odata.DevTenantID)
	if err != nil {
		return err
	}
	n := from
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if n > to {
			return nil, nil
		}
		r := newFixtureRow(n)
		n++
		id, err := parseUUID(r.ID)
		if err != nil {
			return nil, err
		}
		return []any{tenant, id, r.ConnectorName, r.MachineName, r.enrollment.Ticks, r.enrollment.Offset,
			r.lastCheckin.Ticks, r.lastCheckin.Offset, r.ConnectorVersion}, nil
	})
	_, err = conn.CopyFrom(ctx, pgx.Identifier{table}, []string{"tenant_id", "id", "connector_name", "machine_name",
		"enrollment_ticks", "enrollment_offset", "last_checkin_ticks", "last_checkin_offset", "connector_version"}, src)
	return err
}

func parseUUID(s string) (pgtype.UUID, error) {
	var u pgtype.UUID
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != len(u.Bytes) {
		return u, fmt.Errorf("bad uuid %q", s)
	}
	copy(u.Bytes[:], b)
	u.Valid = true
	return u, nil
}
