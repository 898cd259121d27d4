package store

import (
	"context"
	"strings"

	"github.com/graphd/graphd/odata"
	"github.com/jackc/pgx/v5"
)

// Export reads everything a tenant holds, every entity set (in key order) and the health-metric samples, in one
// snapshot (REPEATABLE READ), as an ImportSet that Import restores.
func (s *Store) Export(ctx context.Context, tenant string) (odata.ImportSet, error) {
	set := odata.ImportSet{Entities: make([][]odata.Entity, len(s.sets))}
	err := s.snapshot(ctx, func(tx pgx.Tx) error {
		for i, es := range s.sets {
			rows, err := tx.Query(ctx, "SELECT "+es.selectList+" FROM "+es.table+" WHERE tenant_id = $1 ORDER BY id", tenant)
			if err != nil {
				return err
			}
			for rows.Next() {
				var e odata.Entity
				if err := es.decodeRow(rows.FieldDescriptions(), rows.RawValues(), &e); err != nil {
					rows.Close()
					return err
				}
				set.Entities[i] = append(set.Entities[i], e)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `SELECT connector_id, metric_name, ticks, offset_min, success_count, failure_count
			FROM health_metric_samples WHERE tenant_id = $1 ORDER BY connector_id, metric_name, ticks`, tenant)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m odata.MetricSample
			var id [16]byte
			if err := rows.Scan(&id, &m.MetricName, &m.DateTime.Ticks, &m.DateTime.Offset, &m.SuccessCount, &m.FailureCount); err != nil {
				return err
			}
			m.ConnectorID = odata.FormatGUID(id)
			set.Samples = append(set.Samples, m)
		}
		return rows.Err()
	})
	if err != nil {
		return odata.ImportSet{}, err
	}
	return set, nil
}

// snapshot runs fn in a read-only REPEATABLE READ transaction, so several reads see one state.
func (s *Store) snapshot(ctx context.Context, fn func(pgx.Tx) error) error {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		return translate(fn(tx))
	}
	return translate(pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn))
}

// DeleteTenant removes everything a tenant holds, in one transaction; other tenants are untouched.
func (s *Store) DeleteTenant(ctx context.Context, tenant string) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		batch.Queue("DELETE FROM health_metric_samples WHERE tenant_id = $1", tenant)
		for _, es := range s.sets {
			batch.Queue("DELETE FROM "+es.table+" WHERE tenant_id = $1", tenant)
		}
		return tx.SendBatch(ctx, batch).Close()
	})
}

// DeleteAll removes every tenant's entities, samples and stored paging cursors; the server's secrets (signing and
// paging keys) stay, so tokens and links already issued keep their meaning.
func (s *Store) DeleteAll(ctx context.Context) error {
	tables := []string{"health_metric_samples", "skiptoken_payloads"}
	for _, es := range s.sets {
		tables = append(tables, es.table)
	}
	_, err := s.db(ctx).Exec(ctx, "TRUNCATE "+strings.Join(tables, ", "))
	return translate(err)
}
