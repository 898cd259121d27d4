package store

import (
	"cmp"
	"context"
	"slices"

	"github.com/graphd/graphd/odata"
	"github.com/jackc/pgx/v5"
)

// The health-metric samples belong to certificateConnectorDetails (odata.ConnectorsSet), whose table the
// samples' foreign key names; the actions reading them are that set's.

// HealthMetrics returns, for each name, the sum of successCount + failureCount over the connector's samples of
// that metric (0 without samples), in the order asked. One round trip; an unknown connector is ErrNotFound.
func (s *Store) HealthMetrics(ctx context.Context, tenant, id string, names []string) ([]int64, error) {
	var exists bool
	var sums []int64
	err := s.db(ctx).QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM certificate_connector_details WHERE tenant_id = $1 AND id = $2),
		       coalesce((SELECT array_agg(coalesce(t.total, 0) ORDER BY n.ord)
		                 FROM unnest($3::text[]) WITH ORDINALITY AS n(name, ord)
		                 LEFT JOIN LATERAL (SELECT sum(success_count + failure_count)::bigint AS total
		                                    FROM health_metric_samples
		                                    WHERE tenant_id = $1 AND connector_id = $2 AND metric_name = n.name) t ON TRUE),
		                '{}')`,
		tenant, id, names).Scan(&exists, &sums)
	if err != nil {
		return nil, translate(err)
	}
	if !exists {
		return nil, odata.ErrNotFound
	}
	return sums, nil
}

// HealthMetricTimeSeries returns the samples of one metric with start <= dateTime <= end, in time order.
func (s *Store) HealthMetricTimeSeries(ctx context.Context, tenant, id, metric string, start, end odata.DateTimeOffset) ([]odata.MetricSample, error) {
	rows, err := s.db(ctx).Query(ctx, `
		SELECT NULL::bigint, NULL::smallint, NULL::bigint, NULL::bigint
		WHERE EXISTS (SELECT 1 FROM certificate_connector_details WHERE tenant_id = $1 AND id = $2)
		UNION ALL
		(SELECT ticks, offset_min, success_count, failure_count FROM health_metric_samples
		 WHERE tenant_id = $1 AND connector_id = $2 AND metric_name = $3 AND ticks BETWEEN $4 AND $5
		 ORDER BY ticks)`,
		tenant, id, metric, start.Ticks, end.Ticks)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	found := false
	var out []odata.MetricSample
	for rows.Next() {
		var ticks, success, failure *int64
		var offset *int16
		if err := rows.Scan(&ticks, &offset, &success, &failure); err != nil {
			return nil, translate(err)
		}
		if ticks == nil {
			found = true // the existence marker row comes first
			continue
		}
		out = append(out, odata.MetricSample{ConnectorID: id, MetricName: metric,
			DateTime: odata.DateTimeOffset{Ticks: *ticks, Offset: *offset}, SuccessCount: *success, FailureCount: *failure})
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	if !found {
		return nil, odata.ErrNotFound
	}
	// UNION ALL does not promise to keep the branch's order.
	slices.SortFunc(out, func(a, b odata.MetricSample) int { return cmp.Compare(a.DateTime.Ticks, b.DateTime.Ticks) })
	return out, nil
}

// importSamples queues upserts of samples into a batch of an import transaction.
func importSamples(batch *pgx.Batch, tenant string, samples []odata.MetricSample) {
	for _, m := range samples {
		batch.Queue(`INSERT INTO health_metric_samples
			(tenant_id, connector_id, metric_name, ticks, offset_min, success_count, failure_count)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (tenant_id, connector_id, metric_name, ticks)
			DO UPDATE SET offset_min = EXCLUDED.offset_min, success_count = EXCLUDED.success_count, failure_count = EXCLUDED.failure_count`,
			tenant, m.ConnectorID, m.MetricName, m.DateTime.Ticks, m.DateTime.Offset, m.SuccessCount, m.FailureCount)
	}
}
