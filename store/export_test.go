package store

import (
	"strconv"

	"github.com/graphd/graphd/odata"
)

// FilterSQL is the WHERE condition List writes for filter, and its arguments: for test failure messages.
func FilterSQL(filter odata.Expr, now odata.DateTimeOffset) (string, []any) {
	b := &sqlBuilder{now: now}
	b.filter(filter, false)
	return b.sb.String(), b.args
}

// ListSQL is the statement List sends for the first page of q, without $skip: for EXPLAIN.
func ListSQL(tenant string, q odata.Query, now odata.DateTimeOffset, limit int) (string, []any) {
	b := &sqlBuilder{now: now}
	b.w("SELECT " + selectList + " FROM " + table + " WHERE tenant_id = " + b.arg(tenant))
	if q.Filter != nil {
		b.w(" AND ")
		b.filter(q.Filter, false)
	}
	b.orderBy(q.OrderBy)
	b.w(" LIMIT " + strconv.Itoa(limit))
	return b.sb.String(), b.args
}
