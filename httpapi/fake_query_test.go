package httpapi_test

import (
	"context"
	"slices"
	"strings"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

// List filters and orders with odata's reference evaluator (ties broken as store.List breaks them) and pages by position after the cursor's id, which
// is what the keyset query returns for rows that do not change between pages.
func (f *fakeStore) List(ctx context.Context, tenant string, req store.ListRequest) (store.ListResult, error) {
	if err := f.enter(ctx); err != nil {
		return store.ListResult{}, err
	}
	defer f.mu.Unlock()
	var rows []odata.Connector
	for _, c := range f.rows[tenant] {
		if odata.Match(req.Query.Filter, &c, req.Now) {
			rows = append(rows, c)
		}
	}
	slices.SortFunc(rows, func(a, b odata.Connector) int { return referenceCompare(&a, &b, req.Query.OrderBy) })
	res := store.ListResult{Count: int64(len(rows))}
	remaining := req.Query.Top
	start := 0
	if req.After != nil {
		remaining = req.After.Remaining
		start = slices.IndexFunc(rows, func(c odata.Connector) bool { return c.ID == req.After.ID }) + 1
	} else {
		start = int(min(req.Query.Skip, int64(len(rows))))
	}
	limit := req.PageSize
	if remaining >= 0 && remaining < int64(limit) {
		limit = int(remaining)
	}
	end := min(start+limit, len(rows))
	res.Items = rows[start:end]
	if end < len(rows) && limit > 0 {
		last := rows[end-1]
		next := &store.Cursor{ID: last.ID, Remaining: -1, Keys: make([]any, len(req.Query.OrderBy))}
		for i, o := range req.Query.OrderBy {
			switch v := sortValue(&last, o.Prop).(type) {
			case odata.NullString:
				if v.Valid {
					next.Keys[i] = v.Value
				}
			default:
				next.Keys[i] = v
			}
		}
		if remaining >= 0 {
			next.Remaining = remaining - int64(limit)
		}
		res.Next = next
	}
	return res, nil
}

// referenceCompare is odata.CompareOrder on the order's keys, then id in the direction of the last key, which
// is how store.List breaks ties (so that one index serves a single-key order and its tiebreak). CompareOrder
// itself says it breaks ties by ascending id "as the store does"; for orders ending in desc the two disagree.
func referenceCompare(a, b *odata.Connector, order []odata.OrderBy) int {
	if slices.ContainsFunc(order, func(o odata.OrderBy) bool { return o.Prop == odata.PropID }) {
		return odata.CompareOrder(a, b, order) // the keys never tie
	}
	sameID := *b
	sameID.ID = a.ID
	if c := odata.CompareOrder(a, &sameID, order); c != 0 {
		return c
	}
	c := strings.Compare(a.ID, b.ID)
	if len(order) > 0 && order[len(order)-1].Desc {
		c = -c
	}
	return c
}

func sortValue(c *odata.Connector, p odata.PropertyID) any {
	switch p {
	case odata.PropConnectorName:
		return c.ConnectorName
	case odata.PropMachineName:
		return c.MachineName
	case odata.PropConnectorVersion:
		return c.ConnectorVersion
	case odata.PropEnrollmentDateTime:
		return c.EnrollmentDateTime.Ticks
	case odata.PropLastCheckinDateTime:
		return c.LastCheckinDateTime.Ticks
	}
	return c.ID
}

// HealthMetrics and HealthMetricTimeSeries answer from samples kept per tenant and connector.
func (f *fakeStore) HealthMetrics(ctx context.Context, tenant, id string, names []string) ([]int64, error) {
	if err := f.enter(ctx); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	if _, ok := f.rows[tenant][id]; !ok {
		return nil, odata.ErrNotFound
	}
	sums := make([]int64, len(names))
	for i, name := range names {
		for _, m := range f.samples[tenant] {
			if m.ConnectorID == id && m.MetricName == name {
				sums[i] += m.SuccessCount + m.FailureCount
			}
		}
	}
	return sums, nil
}

func (f *fakeStore) HealthMetricTimeSeries(ctx context.Context, tenant, id, metric string, start, end odata.DateTimeOffset) ([]odata.MetricSample, error) {
	if err := f.enter(ctx); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	if _, ok := f.rows[tenant][id]; !ok {
		return nil, odata.ErrNotFound
	}
	var out []odata.MetricSample
	for _, m := range f.samples[tenant] {
		if m.ConnectorID == id && m.MetricName == metric && m.DateTime.Ticks >= start.Ticks && m.DateTime.Ticks <= end.Ticks {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b odata.MetricSample) int { return int(a.DateTime.Ticks - b.DateTime.Ticks) })
	return out, nil
}
