package store

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/graphd/graphd/odata"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// column is the whitelist that maps the model to SQL: the only identifiers any statement is built from.
type column struct {
	name   string // Edm.String, or the ticks of an Edm.DateTimeOffset
	offset string // the offset column of an Edm.DateTimeOffset
}

var columns = [odata.NumProperties]column{
	odata.PropID:                  {name: "id"},
	odata.PropConnectorName:       {name: "connector_name"},
	odata.PropMachineName:         {name: "machine_name"},
	odata.PropEnrollmentDateTime:  {name: "enrollment_ticks", offset: "enrollment_offset"},
	odata.PropLastCheckinDateTime: {name: "last_checkin_ticks", offset: "last_checkin_offset"},
	odata.PropConnectorVersion:    {name: "connector_version"},
}

const (
	table      = "certificate_connector_details"
	selectList = "id, connector_name, machine_name, enrollment_ticks, enrollment_offset, last_checkin_ticks, last_checkin_offset, connector_version, version"
)

// Precondition is an If-Match condition. The zero value imposes none; If-Match: * is also none, since every
// operation here already requires the entity to exist.
type Precondition struct {
	// Versions lists the versions the client's entity tags name; the operation proceeds only if the row has one.
	Versions []int64
	// Set says the header was present with tags (Versions may still be empty when none of them could be ours).
	Set bool
}

// Get reads one connector of the tenant.
func (s *Store) Get(ctx context.Context, tenant, id string) (odata.Connector, error) {
	var c odata.Connector
	err := scanConnector(s.pool.QueryRow(ctx, "SELECT "+selectList+" FROM "+table+" WHERE tenant_id = $1 AND id = $2", tenant, id), &c)
	return c, translate(err)
}

// Create inserts a connector with a new server-generated id.
func (s *Store) Create(ctx context.Context, tenant string, p *odata.Patch) (odata.Connector, error) {
	c := odata.NewConnector(odata.NewGUID(), p)
	err := s.pool.QueryRow(ctx, "INSERT INTO "+table+" (tenant_id, "+insertList+") VALUES ($1, "+insertParams+") RETURNING version",
		insertArgs(tenant, &c)...).Scan(&c.Version)
	return c, translate(err)
}

// Update applies a partial update in one statement, so it is one round trip and one transaction: only the
// columns the patch names are written and the version increments atomically, so concurrent updates of
// different properties never lose one another.
func (s *Store) Update(ctx context.Context, tenant, id string, p *odata.Patch, cond Precondition) (odata.Connector, error) {
	if p.Len() == 0 {
		c, err := s.Get(ctx, tenant, id)
		if err == nil && cond.Set && !matches(cond, c.Version) {
			return odata.Connector{}, odata.ErrPreconditionFailed
		}
		return c, err
	}
	sql, args := buildUpdate(tenant, id, p, cond)
	var c odata.Connector
	err := scanConnector(s.pool.QueryRow(ctx, sql, args...), &c)
	if errors.Is(err, pgx.ErrNoRows) && cond.Set {
		return odata.Connector{}, s.missingOrStale(ctx, tenant, id)
	}
	return c, translate(err)
}

// Delete removes a connector.
func (s *Store) Delete(ctx context.Context, tenant, id string, cond Precondition) error {
	sql := "DELETE FROM " + table + " WHERE tenant_id = $1 AND id = $2"
	args := []any{tenant, id}
	if cond.Set {
		sql += " AND version = ANY($3)"
		args = append(args, cond.Versions)
	}
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() == 0 {
		if cond.Set {
			return s.missingOrStale(ctx, tenant, id)
		}
		return odata.ErrNotFound
	}
	return nil
}

// Import upserts connectors with their ids in one transaction: a row that exists is replaced as the file
// states it (its version still increments, so ETags held by clients go stale), and a failure changes nothing.
// Samples are upserted by (connector, metric, time) after the connectors, so they may refer to connectors of
// the same file; one that refers to no connector of the tenant fails the whole import.
func (s *Store) Import(ctx context.Context, tenant string, conns []odata.Connector, samples ...odata.MetricSample) (int, error) {
	err := s.transact(ctx, func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		sql := "INSERT INTO " + table + " (tenant_id, " + insertList + ") VALUES ($1, " + insertParams + ") " +
			"ON CONFLICT (tenant_id, id) DO UPDATE SET " + upsertSet + ", version = " + table + ".version + 1"
		for i := range conns {
			batch.Queue(sql, insertArgs(tenant, &conns[i])...)
		}
		importSamples(batch, tenant, samples)
		return tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		return 0, err
	}
	return len(conns), nil
}

// missingOrStale tells a 404 from a 412 after a conditional statement touched no row; it runs only on that
// failure path, so the success path stays one round trip.
func (s *Store) missingOrStale(ctx context.Context, tenant, id string) error {
	var one int
	err := s.pool.QueryRow(ctx, "SELECT 1 FROM "+table+" WHERE tenant_id = $1 AND id = $2", tenant, id).Scan(&one)
	if err == nil {
		return odata.ErrPreconditionFailed
	}
	return translate(err)
}

func matches(cond Precondition, version int64) bool {
	for _, v := range cond.Versions {
		if v == version {
			return true
		}
	}
	return false
}

// updateSQL caches the statement text per set of properties and condition: there are few shapes, and the same
// text lets pgx reuse its prepared statement.
var updateSQL [1 << odata.NumProperties][2]string

func init() {
	for mask := range updateSQL {
		for cond := range 2 {
			updateSQL[mask][cond] = updateText(uint16(mask), cond == 1)
		}
	}
}

func updateText(mask uint16, cond bool) string {
	var sb strings.Builder
	sb.WriteString("UPDATE " + table + " SET ")
	n := 3 // $1 tenant, $2 id
	for id := odata.PropID + 1; id < odata.NumProperties; id++ {
		if mask&(1<<id) == 0 {
			continue
		}
		col := columns[id]
		sb.WriteString(col.name + " = $" + strconv.Itoa(n) + ", ")
		n++
		if col.offset != "" {
			sb.WriteString(col.offset + " = $" + strconv.Itoa(n) + ", ")
			n++
		}
	}
	sb.WriteString("version = version + 1 WHERE tenant_id = $1 AND id = $2")
	if cond {
		sb.WriteString(" AND version = ANY($" + strconv.Itoa(n) + ")")
	}
	sb.WriteString(" RETURNING " + selectList)
	return sb.String()
}

func buildUpdate(tenant, id string, p *odata.Patch, cond Precondition) (string, []any) {
	var mask uint16
	args := make([]any, 2, 2+2*odata.NumProperties+1)
	args[0], args[1] = tenant, id
	for pid := odata.PropID + 1; pid < odata.NumProperties; pid++ {
		if !p.Has(pid) {
			continue
		}
		mask |= 1 << pid
		v := p.Get(pid)
		if columns[pid].offset != "" {
			args = append(args, v.Time.Ticks, v.Time.Offset)
		} else {
			args = append(args, pgtype.Text{String: v.Str, Valid: !v.Null})
		}
	}
	c := 0
	if cond.Set {
		c = 1
		args = append(args, cond.Versions)
	}
	return updateSQL[mask][c], args
}

var (
	insertList   = "id, connector_name, machine_name, enrollment_ticks, enrollment_offset, last_checkin_ticks, last_checkin_offset, connector_version"
	insertParams = "$2, $3, $4, $5, $6, $7, $8, $9"
	upsertSet    = "connector_name = EXCLUDED.connector_name, machine_name = EXCLUDED.machine_name, " +
		"enrollment_ticks = EXCLUDED.enrollment_ticks, enrollment_offset = EXCLUDED.enrollment_offset, " +
		"last_checkin_ticks = EXCLUDED.last_checkin_ticks, last_checkin_offset = EXCLUDED.last_checkin_offset, " +
		"connector_version = EXCLUDED.connector_version"
)

func insertArgs(tenant string, c *odata.Connector) []any {
	return []any{tenant, c.ID, text(c.ConnectorName), text(c.MachineName),
		c.EnrollmentDateTime.Ticks, c.EnrollmentDateTime.Offset,
		c.LastCheckinDateTime.Ticks, c.LastCheckinDateTime.Offset, text(c.ConnectorVersion)}
}

func text(s odata.NullString) pgtype.Text { return pgtype.Text{String: s.Value, Valid: s.Valid} }

func scanConnector(row pgx.Row, c *odata.Connector) error {
	var id pgtype.UUID
	var name, machine, version pgtype.Text
	err := row.Scan(&id, &name, &machine, &c.EnrollmentDateTime.Ticks, &c.EnrollmentDateTime.Offset,
		&c.LastCheckinDateTime.Ticks, &c.LastCheckinDateTime.Offset, &version, &c.Version)
	if err != nil {
		return err
	}
	c.ID = odata.FormatGUID(id.Bytes)
	c.ConnectorName = odata.NullString{Value: name.String, Valid: name.Valid}
	c.MachineName = odata.NullString{Value: machine.String, Valid: machine.Valid}
	c.ConnectorVersion = odata.NullString{Value: version.String, Valid: version.Valid}
	return nil
}
