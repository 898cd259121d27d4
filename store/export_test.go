package store

import (
	"context"
	"errors"

	"github.com/graphd/graphd/odata"
	"github.com/jackc/pgx/v5"
)

// FilterSQL is the WHERE condition List writes for filter over set, and its arguments: for test failure
// messages and for tests of the SQL's shape.
func FilterSQL(set *odata.EntitySet, filter odata.Expr, now odata.DateTimeOffset) (string, []any) {
	es, err := compileSet(set)
	if err != nil {
		panic(err)
	}
	b := &sqlBuilder{es: es, now: now}
	b.filter(filter, false)
	return b.sb.String(), b.args
}

// TableName is the table the naming rule gives a set.
func TableName(set *odata.EntitySet) string {
	es, err := compileSet(set)
	if err != nil {
		panic(err)
	}
	return es.table
}

// ColumnNames are the columns of a property by the naming rule: one, or the ticks and offset columns of a
// DateTimeOffset.
func ColumnNames(set *odata.EntitySet, p *odata.Property) []string {
	es, err := compileSet(set)
	if err != nil {
		panic(err)
	}
	c := es.cols[p.ID]
	if c.offset != "" {
		return []string{c.name, c.offset}
	}
	return []string{c.name}
}

// errRecorded stops List once its batch is recorded.
var errRecorded = errors.New("store: statement recorded, not sent")

// recorder is a transaction, as InTx puts in a context, that keeps the batch List sends instead of sending it.
// Only SendBatch is called; the embedded nil interface stands for the rest.
type recorder struct {
	pgx.Tx
	batch *pgx.Batch
}

func (r *recorder) SendBatch(_ context.Context, b *pgx.Batch) pgx.BatchResults {
	r.batch = b
	return failedBatch{}
}

// failedBatch is pgx.BatchResults; only Close is called.
type failedBatch struct{ pgx.BatchResults }

func (failedBatch) Close() error { return errRecorded }

// ListSQL is the page statement List sends for req (its first statement: the count, when asked for, follows),
// with its arguments: for EXPLAIN. Nothing is sent to the database.
func (s *Store) ListSQL(ctx context.Context, set *odata.EntitySet, tenant string, req ListRequest) (string, []any) {
	rec := &recorder{}
	if _, err := s.List(context.WithValue(ctx, txKey{}, pgx.Tx(rec)), set, tenant, req); !errors.Is(err, errRecorded) {
		panic("store: ListSQL: List did not send a batch: " + errString(err))
	}
	q := rec.batch.QueuedQueries[0]
	return q.SQL, q.Arguments
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}
