package store

import (
	"context"
	"strconv"

	"github.com/graphd/graphd/odata"
	"github.com/jackc/pgx/v5"
)

// Cursor is the position after the last row of a page: that row's value of each $orderby item, as text (nil for
// null), and its key. It is all a next page needs, so deep pages cost what the first does (keyset paging, no
// OFFSET), and a page stays correct when the row it points at has since been changed or deleted: the next page
// starts after the values, not at the row.
type Cursor struct {
	Values []*string
	Key    string
}

// ListRequest is one page of a collection.
type ListRequest struct {
	Query    odata.Query // Filter, OrderBy, Skip and Count are used; Top is the caller's to turn into PageSize
	PageSize int         // rows on the page; 0 reads only the count
	After    *Cursor     // nil: the first page, where $skip applies
	Now      odata.DateTimeOffset
}

// ListResult is a page and, when more rows match, the cursor of the next one.
type ListResult struct {
	Items []odata.Entity
	Next  *Cursor
	Count int64 // with Query.Count: rows matching the filter, ignoring paging
}

// sortTerm is one SQL sort key. A $orderby item is one term, or two for a string property: left(column,
// PrefixChars), which its index holds, then the column.
type sortTerm struct {
	sql      string // the expression, as it appears in ORDER BY
	desc     bool
	nullable bool
	cast     string // the SQL type a cursor value (text) is cast to
	prefix   bool   // the cursor value is cut to PrefixChars first, like the column
	item     int    // the order item whose cursor value this term compares with; -1 for the key
}

// List reads one page in one round trip (the count, when asked for, rides in the same batch).
func (s *Store) List(ctx context.Context, set *odata.EntitySet, tenant string, req ListRequest) (ListResult, error) {
	es := s.sql(set)
	var res ListResult
	if req.PageSize <= 0 && !req.Query.Count {
		return res, nil
	}
	order := req.Query.OrderBy
	b := &sqlBuilder{es: es, now: req.Now}
	// The parts are written in the order their parameters are numbered and joined in SQL's order: the WHERE
	// clause first, so the count can reuse it with a prefix of the parameters.
	b.w(" FROM " + es.table + " WHERE tenant_id = " + b.arg(tenant))
	if req.Query.Filter != nil {
		b.w(" AND ")
		b.filter(req.Query.Filter, false)
	}
	where := b.take()
	whereArgs := len(b.args)
	// Expression items' values are read back as text for the next page's cursor; property items' come from the
	// row itself.
	extra := make([]int, len(order)) // the column of each expression item's value, or -1
	next := es.nSelect
	for i, o := range order {
		extra[i] = -1
		if _, ok := o.Expr.(*odata.PropertyRef); ok {
			continue
		}
		b.w(", (")
		b.value(o.Expr, o.Expr.Kind())
		b.w(")::text")
		extra[i] = next
		next++
	}
	extras := b.take()
	terms := b.sortTerms(order)
	var others string // the rows of the other null class, after those of the cursor's (see after)
	if req.After != nil {
		if len(req.After.Values) != len(order) {
			return ListResult{}, errBadSkipToken
		}
		b.w(" AND ")
		others = b.after(terms, req.After)
	}
	keyset := b.take()
	b.orderBy(terms)
	orderBy := b.take()
	limit := " LIMIT " + strconv.Itoa(req.PageSize+1)
	if req.After == nil && req.Query.Skip > 0 {
		limit += " OFFSET " + b.arg(req.Query.Skip)
	}
	query := "SELECT " + es.selectList + extras + where + keyset + orderBy + limit
	if others != "" {
		// Each branch is an index range in the ordering's order; the page is the first rows of both.
		query = "SELECT * FROM ((" + query + ") UNION ALL (SELECT " + es.selectList + extras + where + " AND " + others +
			orderBy + limit + ")) AS page" + orderBy + limit
	}

	batch := &pgx.Batch{}
	var items []odata.Entity
	var last []*string // the extra columns of the last row read
	if req.PageSize > 0 {
		batch.Queue(query, b.args...).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var e odata.Entity
				raw := rows.RawValues()
				if err := es.decodeRow(rows.FieldDescriptions(), raw, &e); err != nil {
					return err
				}
				items = append(items, e)
				if len(items) == req.PageSize {
					last = make([]*string, len(order))
					for i, col := range extra {
						if col >= 0 && raw[col] != nil {
							v := string(raw[col])
							last[i] = &v
						}
					}
				}
			}
			return rows.Err()
		})
	}
	if req.Query.Count {
		batch.Queue("SELECT count(*)"+where, b.args[:whereArgs]...).QueryRow(func(row pgx.Row) error {
			return row.Scan(&res.Count)
		})
	}
	if err := s.db(ctx).SendBatch(ctx, batch).Close(); err != nil {
		return ListResult{}, translate(err)
	}
	if len(items) > req.PageSize {
		items = items[:req.PageSize]
		lastRow := &items[len(items)-1]
		next := &Cursor{Key: lastRow.Key(), Values: last}
		for i, o := range order {
			if p, ok := o.Expr.(*odata.PropertyRef); ok {
				next.Values[i] = cursorValue(p.P, lastRow.Values[p.P.ID])
			}
		}
		res.Next = next
	}
	res.Items = items
	return res, nil
}

// cursorValue is a stored value as the text its sort term's cast reads back.
func cursorValue(p *odata.Property, v odata.Value) *string {
	if v.Null {
		return nil
	}
	var s string
	switch p.Type {
	case odata.EdmString:
		s = v.Str
	case odata.EdmDateTimeOffset:
		s = strconv.FormatInt(v.Time.Ticks, 10)
	case odata.EdmBoolean:
		s = strconv.FormatBool(v.Int != 0)
	default:
		s = strconv.FormatInt(v.Int, 10)
	}
	return &s
}

// sortTerms turns the $orderby items into SQL sort keys, with the key as the final tiebreak, in the direction of
// the last item, so that a one-item ordering and its tiebreak read one index in one direction.
func (b *sqlBuilder) sortTerms(order []odata.OrderBy) []sortTerm {
	terms := make([]sortTerm, 0, len(order)*2+1)
	for i, o := range order {
		if p, ok := o.Expr.(*odata.PropertyRef); ok {
			c := &b.es.cols[p.P.ID]
			switch {
			case c.prefixed():
				terms = append(terms,
					sortTerm{sql: prefixOf(c.name), desc: o.Desc, nullable: p.P.Nullable, cast: "text", prefix: true, item: i},
					sortTerm{sql: c.name, desc: o.Desc, nullable: p.P.Nullable, cast: "text", item: i})
			case p.P.Key:
				terms = append(terms, sortTerm{sql: "id", desc: o.Desc, cast: c.sqlType, item: i})
			default:
				terms = append(terms, sortTerm{sql: c.name, desc: o.Desc, nullable: p.P.Nullable, cast: c.sqlType, item: i})
			}
			continue
		}
		// An expression: its SQL text, written once here and reused in ORDER BY and the keyset condition.
		sub := &sqlBuilder{es: b.es, now: b.now, args: b.args, subqueries: b.subqueries + 100*(i+1)}
		kind := o.Expr.Kind()
		if kind == odata.KindString {
			sub.w("(")
			sub.value(o.Expr, kind)
			sub.w(`) COLLATE "C"`)
		} else {
			// The cast changes no value; it keeps a constant (true, or a comparison with null, which is
			// false) from reading as "ORDER BY <constant>", which PostgreSQL refuses.
			sub.w("(")
			sub.value(o.Expr, kind)
			sub.w(")::" + sqlTypes[kind])
		}
		b.args = sub.args
		terms = append(terms, sortTerm{sql: "(" + sub.sb.String() + ")", desc: o.Desc, nullable: o.Expr.Nullable(),
			cast: sqlTypes[kind], item: i})
	}
	last := len(order) > 0 && order[len(order)-1].Desc
	return append(terms, sortTerm{sql: "id", desc: last, cast: b.es.cols[0].sqlType, item: -1})
}

func prefixOf(col string) string { return "left(" + col + ", " + strconv.Itoa(PrefixChars) + ")" }

// orderBy writes OData's ordering: nulls first ascending and last descending (PostgreSQL's defaults are the
// opposite).
func (b *sqlBuilder) orderBy(terms []sortTerm) {
	b.w(" ORDER BY ")
	for i, t := range terms {
		if i > 0 {
			b.w(", ")
		}
		b.w(t.sql)
		switch {
		case !t.nullable && t.desc:
			// No NULLS clause where there can be no null: the planner would not match it to the index.
			b.w(" DESC")
		case !t.nullable:
			b.w(" ASC")
		case t.desc:
			b.w(" DESC NULLS LAST")
		default:
			b.w(" ASC NULLS FIRST")
		}
	}
}

// termArg writes the cursor's value for term t as a parameter of the term's type.
func (b *sqlBuilder) termArg(t sortTerm, c *Cursor) string {
	k := cursorArg{t.item, t.cast}
	p, ok := b.cursorArgs[k]
	if !ok {
		v := c.Key
		if t.item >= 0 {
			v = *c.Values[t.item]
		}
		p = b.arg(v) + "::" + t.cast
		if b.cursorArgs == nil {
			b.cursorArgs = make(map[cursorArg]string, len(c.Values)+1)
		}
		b.cursorArgs[k] = p
	}
	if t.prefix {
		return prefixOf(p)
	}
	return p
}

func termNull(t sortTerm, c *Cursor) bool { return t.item >= 0 && c.Values[t.item] == nil }

// after writes the keyset condition "sorts after the cursor's row": a bound on the first term, which an index
// on it turns into a range that starts at the cursor, and the exact condition, which follows OData's null order:
// the OR of, for each term, "every earlier term equal and this one after".
//
// When the first term is nullable, the rows after the cursor may be two ranges of its index: after a null
// ascending (nulls first), the rest of the nulls and then every value; after a value descending (nulls last),
// the rest of the values and then every null. No one index condition takes "x <= a OR x IS NULL", so the
// condition written here covers the cursor's own class only, and the other class's condition is returned for a
// second branch ("" when there is none).
func (b *sqlBuilder) after(terms []sortTerm, c *Cursor) (others string) {
	first := terms[0]
	switch null := termNull(first, c); {
	case !null && !first.desc:
		b.w(first.sql + " >= " + b.termArg(first, c) + " AND ")
	case !null:
		b.w(first.sql + " <= " + b.termArg(first, c) + " AND ")
		if first.nullable {
			others = first.sql + " IS NULL"
		}
	case !first.desc:
		b.w(first.sql + " IS NULL AND ")
		others = first.sql + " IS NOT NULL"
	}
	b.w("(")
	for i := range terms {
		if i > 0 {
			b.w(" OR ")
		}
		b.w("(")
		for j := 0; j < i; j++ {
			b.equalTerm(terms[j], c)
			b.w(" AND ")
		}
		b.greaterTerm(terms[i], c)
		b.w(")")
	}
	b.w(")")
	return others
}

func (b *sqlBuilder) equalTerm(t sortTerm, c *Cursor) {
	if termNull(t, c) {
		b.w(t.sql + " IS NULL")
		return
	}
	b.w(t.sql + " = " + b.termArg(t, c))
}

// greaterTerm: the term sorts strictly after the cursor's value in its direction, nulls first ascending and last
// descending.
func (b *sqlBuilder) greaterTerm(t sortTerm, c *Cursor) {
	null := termNull(t, c)
	switch {
	case !t.desc && null:
		b.w(t.sql + " IS NOT NULL")
	case !t.desc:
		b.w(t.sql + " > " + b.termArg(t, c))
	case null:
		b.w("FALSE")
	case t.nullable:
		b.w("(" + t.sql + " < " + b.termArg(t, c) + " OR " + t.sql + " IS NULL)")
	default:
		b.w(t.sql + " < " + b.termArg(t, c))
	}
}
