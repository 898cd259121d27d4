package store

import (
	"context"
	"strconv"

	"github.com/graphd/graphd/odata"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Cursor is the position after the last row of a page: that row's order-by values and id. With the remaining
// $top it is all a next page needs, so deep pages cost what the first does (keyset paging, no OFFSET).
type Cursor struct {
	Keys      []any // per order-by item: string or nil for strings, int64 ticks for DateTimeOffsets
	ID        string
	Remaining int64 // rows still to serve under $top; -1 without $top
}

// ListRequest is one page of the collection.
type ListRequest struct {
	Query    odata.Query // Filter, OrderBy, Top, Skip and Count are used
	PageSize int
	After    *Cursor // nil: the first page
	Now      odata.DateTimeOffset
}

// ListResult is a page and, when there are more rows, the cursor of the next one.
type ListResult struct {
	Items []odata.Connector
	Next  *Cursor
	Count int64 // with Query.Count: rows matching the filter, ignoring paging
}

// List reads one page in one round trip (the count, when asked for, rides in the same batch).
func (s *Store) List(ctx context.Context, tenant string, req ListRequest) (ListResult, error) {
	remaining := req.Query.Top
	if req.After != nil {
		remaining = req.After.Remaining
	}
	limit := int64(req.PageSize)
	if remaining >= 0 && remaining < limit {
		limit = remaining
	}
	var res ListResult
	if limit == 0 && !req.Query.Count {
		return res, nil
	}

	b := &sqlBuilder{now: req.Now}
	b.w("SELECT " + selectList + " FROM " + table + " WHERE tenant_id = " + b.arg(tenant))
	if req.Query.Filter != nil {
		b.w(" AND ")
		b.filter(req.Query.Filter, false)
	}
	where := b.sb.String()
	whereArgs := len(b.args)
	if req.After != nil {
		b.w(" AND ")
		b.after(req.Query.OrderBy, req.After)
	}
	b.orderBy(req.Query.OrderBy)
	b.w(" LIMIT " + strconv.FormatInt(limit+1, 10))
	if req.After == nil && req.Query.Skip > 0 {
		b.w(" OFFSET " + b.arg(req.Query.Skip))
	}

	batch := &pgx.Batch{}
	var items []odata.Connector
	if limit > 0 {
		batch.Queue(b.sb.String(), b.args...).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var c odata.Connector
				if err := scanConnector(rows, &c); err != nil {
					return err
				}
				items = append(items, c)
			}
			return rows.Err()
		})
	}
	if req.Query.Count {
		countSQL := "SELECT count(*) FROM " + table + where[len("SELECT "+selectList+" FROM "+table):]
		batch.Queue(countSQL, b.args[:whereArgs]...).QueryRow(func(row pgx.Row) error {
			return row.Scan(&res.Count)
		})
	}
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return ListResult{}, translate(err)
	}
	if int64(len(items)) > limit {
		items = items[:limit]
		last := &items[len(items)-1]
		next := &Cursor{ID: last.ID, Remaining: -1, Keys: make([]any, len(req.Query.OrderBy))}
		for i, o := range req.Query.OrderBy {
			next.Keys[i] = sortKey(last, o.Prop)
		}
		if remaining >= 0 {
			next.Remaining = remaining - limit
		}
		res.Next = next
	}
	res.Items = items
	return res, nil
}

// sortKey is the value a row sorts by for property p.
func sortKey(c *odata.Connector, p odata.PropertyID) any {
	var s odata.NullString
	switch p {
	case odata.PropEnrollmentDateTime:
		return c.EnrollmentDateTime.Ticks
	case odata.PropLastCheckinDateTime:
		return c.LastCheckinDateTime.Ticks
	case odata.PropID:
		return c.ID
	case odata.PropConnectorName:
		s = c.ConnectorName
	case odata.PropMachineName:
		s = c.MachineName
	case odata.PropConnectorVersion:
		s = c.ConnectorVersion
	}
	if !s.Valid {
		return nil
	}
	return s.Value
}

// direction of the id tiebreak: that of the last order-by item, so that a single-key order and its tiebreak
// run one way and a row comparison can use the (tenant, key, id) index.
func idDesc(order []odata.OrderBy) bool {
	return len(order) > 0 && order[len(order)-1].Desc
}

// orderBy writes OData's ordering: nulls first ascending and last descending (PostgreSQL's defaults are the
// opposite), then id.
func (b *sqlBuilder) orderBy(order []odata.OrderBy) {
	b.w(" ORDER BY ")
	for _, o := range order {
		b.w(columns[o.Prop].name)
		switch {
		case !odata.Properties[o.Prop].Nullable && o.Desc:
			// No NULLS clause on columns that cannot be null: the planner would not match it to the index.
			b.w(" DESC, ")
		case !odata.Properties[o.Prop].Nullable:
			b.w(" ASC, ")
		case o.Desc:
			b.w(" DESC NULLS LAST, ")
		default:
			b.w(" ASC NULLS FIRST, ")
		}
	}
	if idDesc(order) {
		b.w("id DESC")
	} else {
		b.w("id ASC")
	}
}

// after writes the keyset condition "sorts after the cursor's row". For keys that cannot be null it is a row
// comparison, which PostgreSQL answers with an index range; nullable keys expand into OR-ed prefixes that
// follow OData's null ordering, with a leading bound on the first key so the range still starts at the cursor.
func (b *sqlBuilder) after(order []odata.OrderBy, c *Cursor) {
	allNonNull := true
	sameDir := true
	for _, o := range order {
		if odata.Properties[o.Prop].Nullable {
			allNonNull = false
		}
		if o.Desc != idDesc(order) {
			sameDir = false
		}
	}
	idArg := b.arg(uuidArg(c.ID))
	if allNonNull && sameDir {
		b.w("(")
		for _, o := range order {
			b.w(columns[o.Prop].name + ", ")
		}
		b.w("id)")
		if idDesc(order) {
			b.w(" < (")
		} else {
			b.w(" > (")
		}
		for i := range order {
			b.w(b.arg(c.Keys[i]) + ", ")
		}
		b.w(idArg + "::uuid)")
		return
	}
	if len(order) > 0 && c.Keys[0] != nil {
		// Index-friendly start of the range on the first key.
		col := columns[order[0].Prop].name
		if order[0].Desc {
			b.w("(" + col + " <= " + b.arg(c.Keys[0]) + " OR " + col + " IS NULL) AND ")
		} else {
			b.w(col + " >= " + b.arg(c.Keys[0]) + " AND ")
		}
	}
	b.w("(")
	for i := 0; i <= len(order); i++ {
		if i > 0 {
			b.w(" OR ")
		}
		b.w("(")
		for j := 0; j < i; j++ {
			b.equalKey(order[j], c.Keys[j])
			b.w(" AND ")
		}
		if i == len(order) {
			if idDesc(order) {
				b.w("id < " + idArg + "::uuid")
			} else {
				b.w("id > " + idArg + "::uuid")
			}
		} else {
			b.greaterKey(order[i], c.Keys[i])
		}
		b.w(")")
	}
	b.w(")")
}

func (b *sqlBuilder) equalKey(o odata.OrderBy, v any) {
	col := columns[o.Prop].name
	if v == nil {
		b.w(col + " IS NULL")
		return
	}
	b.w(col + " = " + b.arg(v))
}

// greaterKey: the column sorts strictly after v in o's direction, nulls first ascending, last descending.
func (b *sqlBuilder) greaterKey(o odata.OrderBy, v any) {
	col := columns[o.Prop].name
	switch {
	case !o.Desc && v == nil:
		b.w(col + " IS NOT NULL")
	case !o.Desc:
		b.w(col + " > " + b.arg(v))
	case v == nil:
		b.w("FALSE")
	default:
		b.w("(" + col + " < " + b.arg(v) + " OR " + col + " IS NULL)")
	}
}

// uuidArg passes an id as text, which the ::uuid casts read.
func uuidArg(id string) pgtype.Text { return pgtype.Text{String: id, Valid: true} }
