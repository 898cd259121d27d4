package store_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

// planNow is now() for the plan tests: an instant of the loaded rows' range.
var planNow = odata.DateTimeOffset{Ticks: 636188086793726057, Offset: -480}

// The common filters and orderings must be index scans on the (tenant_id, left(column, 256), id) indexes of
// migrations 00003 and 00005 (00007 for userPfxCertificates), or the primary key for id, on a table big enough for
// the planner to care: both in the custom plans PostgreSQL makes for a statement's first executions and in the
// generic plan it may switch to for a statement pgx has prepared and reuses, where the parameters are unknown
// (so starts_with(column, $n) could not use an index there). A keyset page (with a cursor) must start with an
// index range at the cursor, not read and discard the rows before it.
func TestFilterPlansUseIndexes(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("loads 130,000 rows")
	}
	// Loading the rows takes longer than a request may on a loaded machine.
	s := openStore(t, store.Options{StatementTimeout: 5 * time.Minute})
	ctx := t.Context()
	for _, tenant := range []string{tenantA, tenantB} {
		_, err := s.Pool().Exec(ctx, `INSERT INTO certificate_connector_details (tenant_id, id, connector_name, machine_name,
			enrollment_ticks, enrollment_offset, last_checkin_ticks, last_checkin_offset, connector_version)
			SELECT $1::uuid, gen_random_uuid(),
				CASE WHEN g % 100 = 0 THEN NULL ELSE 'name-' || lpad(g::text, 5, '0') END,
				CASE WHEN g % 97 = 0 THEN NULL ELSE 'machine-' || (g % 1000) END,
				630000000000000000 + g::bigint * 100000000000, (g % 3 - 1) * 60, 638000000000000000 + g::bigint, 0, '1.' || (g % 7)
			FROM generate_series(1, 50000) AS g`, tenant)
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.Pool().Exec(ctx, `INSERT INTO user_pfx_certificates (tenant_id, id, thumbprint, intended_purpose,
		user_principal_name, start_ticks, start_offset, expiration_ticks, expiration_offset, provider_name, key_name,
		padding_scheme, encrypted_pfx_blob, encrypted_pfx_password, created_ticks, created_offset, last_modified_ticks, last_modified_offset)
		SELECT $1::uuid, md5(g::text) || '-' || lpad(to_hex(g), 40, '0'), upper(lpad(to_hex(g), 40, '0')), (g % 3) * 2,
			'user' || (g % 5000) || '@contoso.com', 0, 0, 630000000000000000 + g::bigint * 100000000000, 0, 'p', 'k',
			g % 6, '\x00', 'pw', 0, 0, 0, 0
		FROM generate_series(1, 30000) AS g`, tenantA)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, "ANALYZE certificate_connector_details; ANALYZE user_pfx_certificates"); err != nil {
		t.Fatal(err)
	}
	var someID string
	if err := s.Pool().QueryRow(ctx, "SELECT id::text FROM certificate_connector_details WHERE tenant_id = $1 LIMIT 1", tenantA).Scan(&someID); err != nil {
		t.Fatal(err)
	}
	var somePfx string
	if err := s.Pool().QueryRow(ctx, "SELECT id FROM user_pfx_certificates WHERE tenant_id = $1 LIMIT 1", tenantA).Scan(&somePfx); err != nil {
		t.Fatal(err)
	}
	late := odata.DateTimeOffset{Ticks: 630000000000000000 + 49900*100000000000, Offset: -480}.String()
	str := func(s string) *string { return &s }
	ticks := func(n int64) *string { return str(strconv.FormatInt(n, 10)) }
	// Cursors of the middle of the tenant's rows, as List makes them.
	midName := &store.Cursor{Values: []*string{str("name-25000")}, Key: someID}
	midMachine := &store.Cursor{Values: []*string{str("machine-500")}, Key: someID}
	midEnrollment := &store.Cursor{Values: []*string{ticks(630000000000000000 + 25000*100000000000)}, Key: someID}
	midUPN := &store.Cursor{Values: []*string{str("user2500@contoso.com")}, Key: somePfx}
	midExpiration := &store.Cursor{Values: []*string{ticks(630000000000000000 + 15000*100000000000)}, Key: somePfx}
	const pageSize = 1000
	for _, tc := range []struct {
		set   *odata.EntitySet
		query string
		after *store.Cursor
		index string
		// rangeOn is what the index condition must bound for a keyset page: the scan starts at the cursor.
		rangeOn string
		// A generic plan may serve an unselective-looking range by walking the primary key in id order and
		// stopping at the page size; PostgreSQL keeps the custom plan when that costs more.
		customOnly bool
	}{
		{connectors, "$filter=connectorName eq 'name-00042'", nil, "ccd_connector_name", "", false},
		{connectors, "$filter=connectorName eq 'name-00042'&$orderby=connectorName", nil, "ccd_connector_name", "", false},
		{connectors, "$filter=not (connectorName ne 'name-00042')", nil, "ccd_connector_name", "", false},
		{connectors, "$filter=connectorName in ('name-00042', 'name-00043', null)", nil, "ccd_connector_name", "", false},
		{connectors, "$filter=startswith(connectorName, 'name-0004')", nil, "ccd_connector_name", "", false},
		{connectors, "$filter=startswith(connectorName, 'name-0004')&$orderby=connectorName", nil, "ccd_connector_name", "", false},
		{connectors, "$filter=startswith(connectorName, 'name-0004') eq true", nil, "ccd_connector_name", "", false},
		{connectors, "$filter=startswith(connectorName, 'name-0004') and machineName ne 'x'", nil, "ccd_connector_name", "", false},
		{connectors, "$filter=machineName eq 'machine-7' and startswith(connectorName, 'name-0004')", nil, "ccd_", "", false},
		{connectors, "$filter=enrollmentDateTime ge " + late, nil, "ccd_enrollment", "", true},
		{connectors, "$filter=enrollmentDateTime ge " + late + "&$orderby=enrollmentDateTime desc", nil, "ccd_enrollment", "", false},
		{connectors, "$filter=enrollmentDateTime gt " + late + " and enrollmentDateTime lt now()&$orderby=enrollmentDateTime desc", nil, "ccd_enrollment", "", false},
		{connectors, "$filter=enrollmentDateTime ge 2024-06-15", nil, "ccd_enrollment", "", true},
		{connectors, "$filter=id eq '" + someID + "'", nil, "certificate_connector_details_pkey", "", false},
		{connectors, "$filter=id in ('" + someID + "', 'not-a-guid')", nil, "certificate_connector_details_pkey", "", false},
		// Long literals: the indexed prefix narrows, the column decides.
		{connectors, "$filter=connectorName eq '" + strings.Repeat("name-00042", 40) + "'", nil, "ccd_connector_name", "", false},
		{connectors, "$filter=startswith(connectorName, '" + strings.Repeat("name-00042", 40) + "')", nil, "ccd_connector_name", "", false},
		{connectors, "$filter=startswith(machineName, 'machine-99')", nil, "ccd_machine_name", "", false},
		{connectors, "$filter=machineName eq null", nil, "ccd_machine_name", "", false},
		{connectors, "$filter=connectorName eq null&$orderby=connectorName desc", nil, "ccd_connector_name", "", false},
		{connectors, "$filter=connectorName in ('name-00042', null)&$orderby=connectorName", nil, "ccd_connector_name", "", false},
		{connectors, "$filter=machineName eq 'machine-99'", nil, "ccd_machine_name", "", false},
		// Orderings, first pages and keyset pages, in both directions.
		{connectors, "$orderby=connectorName", nil, "ccd_connector_name", "", false},
		{connectors, "$orderby=connectorName desc", nil, "ccd_connector_name", "", false},
		{connectors, "$orderby=machineName", nil, "ccd_machine_name", "", false},
		{connectors, "$orderby=machineName desc", nil, "ccd_machine_name", "", false},
		{connectors, "$orderby=connectorName", midName, "ccd_connector_name", "left(connector_name, 256) >=", false},
		{connectors, "$orderby=connectorName desc", midName, "ccd_connector_name", "left(connector_name, 256) <=", false},
		// After a null: the nulls are a range of the index, and the values after them another.
		{connectors, "$orderby=connectorName", &store.Cursor{Values: []*string{nil}, Key: someID}, "ccd_connector_name", "left(connector_name, 256) IS NULL", false},
		{connectors, "$orderby=connectorName desc", &store.Cursor{Values: []*string{nil}, Key: someID}, "ccd_connector_name", "left(connector_name, 256) IS NULL", false},
		{connectors, "$orderby=machineName", midMachine, "ccd_machine_name", "left(machine_name, 256) >=", false},
		{connectors, "$orderby=machineName desc", midMachine, "ccd_machine_name", "left(machine_name, 256) <=", false},
		{connectors, "$filter=startswith(connectorName, 'name-2')&$orderby=connectorName", midName, "ccd_connector_name", "left(connector_name, 256) >=", false},
		{connectors, "$filter=startswith(connectorName, 'name-2')&$orderby=connectorName desc", midName, "ccd_connector_name", "left(connector_name, 256) <=", false},
		{connectors, "$orderby=enrollmentDateTime", midEnrollment, "ccd_enrollment", "enrollment_ticks >=", false},
		{connectors, "$orderby=enrollmentDateTime desc", midEnrollment, "ccd_enrollment", "enrollment_ticks <=", false},
		{connectors, "$orderby=id", &store.Cursor{Values: []*string{str(someID)}, Key: someID}, "certificate_connector_details_pkey", "id >=", false},
		{connectors, "", &store.Cursor{Key: someID}, "certificate_connector_details_pkey", "id >", false},
		// userPfxCertificates: its indexes, and the key.
		{userPfx, "$filter=userPrincipalName eq 'user42@contoso.com'", nil, "upc_user_principal_name", "", false},
		{userPfx, "$orderby=userPrincipalName", midUPN, "upc_user_principal_name", "left(user_principal_name, 256) >=", false},
		{userPfx, "$orderby=userPrincipalName desc", midUPN, "upc_user_principal_name", "left(user_principal_name, 256) <=", false},
		{userPfx, "$orderby=expirationDateTime desc", midExpiration, "upc_expiration", "expiration_ticks <=", false},
		{userPfx, "$filter=id eq '" + somePfx + "'", nil, "user_pfx_certificates_pkey", "", false},
		{userPfx, "", &store.Cursor{Key: somePfx}, "user_pfx_certificates_pkey", "id >", false},
	} {
		q := parseQuery(t, tc.set, tc.query)
		sql, args := s.ListSQL(ctx, tc.set, tenantA, store.ListRequest{Query: q, PageSize: pageSize, After: tc.after, Now: planNow})
		for _, generic := range []bool{false, true} {
			if generic && tc.customOnly {
				continue
			}
			name := fmt.Sprintf("%s?%.100s (cursor %v, generic plan %v)", tc.set.Name, tc.query, tc.after != nil, generic)
			plan := explain(t, s, sql, args, generic)
			if os.Getenv("FILTER_PLANS") != "" {
				t.Logf("%s:\n%s", name, plan)
			}
			if !strings.Contains(plan, tc.index) || strings.Contains(plan, "Seq Scan") {
				t.Errorf("%s: want an index scan on %s, got\n%s\nfor %s", name, tc.index, plan, sql)
			}
			// The index gives the order: at most an incremental sort among equal prefixes, or a sort of the
			// pages of two index ranges, never a sort of every row a scan finds.
			if q.OrderBy != nil && sortsScan(plan, 2*pageSize) {
				t.Errorf("%s: the ordering is not index-served:\n%s", name, plan)
			}
			if tc.rangeOn != "" && !indexCondHas(plan, tc.rangeOn) {
				t.Errorf("%s: want an index range %q…, got\n%s\nfor %s", name, tc.rangeOn, plan, sql)
			}
		}
	}
}

// sortsScan reports whether a (non-incremental) Sort node of plan sorts the output of a scan expected to give
// more than limit rows: an ordering the index does not serve sorts every row the filter selects.
func sortsScan(plan string, limit int) bool {
	lines := strings.Split(plan, "\n")
	rows := regexp.MustCompile(`rows=(\d+)`)
	for i, line := range lines {
		if !regexp.MustCompile(`^\s*(->\s+)?Sort\s+\(`).MatchString(line) {
			continue
		}
		for _, child := range lines[i+1:] {
			if strings.Contains(child, "->") {
				if m := rows.FindStringSubmatch(child); strings.Contains(child, "Scan") && m != nil {
					n, _ := strconv.Atoi(m[1])
					return n > limit
				}
				break
			}
		}
	}
	return false
}

// indexCondHas reports whether an Index Cond of plan holds cond.
func indexCondHas(plan, cond string) bool {
	for line := range strings.SplitSeq(plan, "\n") {
		if strings.Contains(line, "Index Cond:") && strings.Contains(strings.ReplaceAll(line, `"left"`, "left"), cond) {
			return true
		}
	}
	return false
}

// explain returns the plan of sql: the custom plan for args, or with generic, the generic plan of the
// statement prepared on one connection.
func explain(t *testing.T, s *store.Store, sql string, args []any, generic bool) string {
	t.Helper()
	ctx := t.Context()
	conn, err := s.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	query := "EXPLAIN " + sql
	if generic {
		if _, err := conn.Exec(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
			t.Fatal(err)
		}
		defer conn.Exec(context.WithoutCancel(ctx), "RESET plan_cache_mode; DEALLOCATE filter_plan")
		if _, err := conn.Exec(ctx, "PREPARE filter_plan AS "+sql); err != nil {
			t.Fatalf("prepare %s: %v", sql, err)
		}
		// EXECUTE takes no bind parameters: pass each argument as a literal of the type the SQL casts it to,
		// rendered by the server.
		params := make([]string, len(args))
		for i, a := range args {
			typ := "uuid" // the tenant, $1, is the one argument without a cast
			if m := regexp.MustCompile(`\$` + strconv.Itoa(i+1) + `::([a-z]+(\[\])?)`).FindStringSubmatch(sql); m != nil {
				typ = m[1]
			}
			var lit string
			if err := conn.QueryRow(ctx, "SELECT quote_literal(($1::"+typ+")::text)", a).Scan(&lit); err != nil {
				t.Fatal(err)
			}
			params[i] = lit + "::" + typ
		}
		query = "EXPLAIN EXECUTE filter_plan(" + strings.Join(params, ", ") + ")"
		args = nil
	}
	rows, err := conn.Query(ctx, query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return strings.Join(lines, "\n")
}
