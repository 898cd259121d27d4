package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

// fakeStore is an in-memory httpapi.ConnectorStore that behaves as store.Store does where the handlers can tell:
// rows belong to a tenant, every change bumps the version (an empty patch changes nothing), preconditions fail
// with odata.ErrPreconditionFailed only for rows that exist, and a string PostgreSQL text cannot hold is an
// internal error, as the driver's would be. It can also be made unavailable, slow or panicking.
type fakeStore struct {
	mu   sync.Mutex
	rows map[string]map[string]odata.Connector // tenant → id → row
	// samples are the health-metric samples, by tenant.
	samples map[string][]odata.MetricSample
	newID   func() string
	// fail, when set, is returned by every call: odata.ErrUnavailable wrapped as the store wraps it, say.
	fail error
	// panicWith, when non-nil, is panicked with by every call.
	panicWith any
	// block makes every call wait for its context to end, as a query does when the client goes away; entered,
	// when not nil, hears of each call that starts waiting.
	block   bool
	entered chan struct{}
	// writes counts the calls that changed a row.
	writes int
}

var _ httpapi.ConnectorStore = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{
		rows:  map[string]map[string]odata.Connector{},
		newID: func() string { return createdID },
	}
}

// put stores c in tenant as an import would, with version 1 or one more than the row it replaces.
func (f *fakeStore) put(tenant string, c odata.Connector) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rows[tenant] == nil {
		f.rows[tenant] = map[string]odata.Connector{}
	}
	c.Version = f.rows[tenant][c.ID].Version + 1
	f.rows[tenant][c.ID] = c
}

// snapshot copies every row, for checking that a rejected request changed nothing.
func (f *fakeStore) snapshot() map[string]map[string]odata.Connector {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]map[string]odata.Connector, len(f.rows))
	for tenant, rows := range f.rows {
		out[tenant] = maps.Clone(rows)
	}
	return out
}

func (f *fakeStore) row(tenant, id string) (odata.Connector, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.rows[tenant][id]
	return c, ok
}

// enter applies the failure modes; it returns with f.mu held when the call may proceed.
func (f *fakeStore) enter(ctx context.Context) error {
	f.mu.Lock()
	fail, panicWith, block, entered := f.fail, f.panicWith, f.block, f.entered
	f.mu.Unlock()
	if panicWith != nil {
		panic(panicWith)
	}
	if block {
		if entered != nil {
			entered <- struct{}{}
		}
		<-ctx.Done()
		return fmt.Errorf("fake store: query: %w", ctx.Err())
	}
	if fail != nil {
		return fail
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	return nil
}

func (f *fakeStore) Get(ctx context.Context, tenant, id string) (odata.Connector, error) {
	if err := f.enter(ctx); err != nil {
		return odata.Connector{}, err
	}
	defer f.mu.Unlock()
	checkGUID(id)
	c, ok := f.rows[tenant][id]
	if !ok {
		return odata.Connector{}, odata.ErrNotFound
	}
	return c, nil
}

func (f *fakeStore) Create(ctx context.Context, tenant string, p *odata.Patch) (odata.Connector, error) {
	if err := f.enter(ctx); err != nil {
		return odata.Connector{}, err
	}
	defer f.mu.Unlock()
	c := odata.NewConnector(f.newID(), p)
	if err := storable(&c); err != nil {
		return odata.Connector{}, err
	}
	if _, dup := f.rows[tenant][c.ID]; dup {
		return odata.Connector{}, errors.New("fake store: duplicate key value violates unique constraint")
	}
	if f.rows[tenant] == nil {
		f.rows[tenant] = map[string]odata.Connector{}
	}
	c.Version = 1
	f.rows[tenant][c.ID] = c
	f.writes++
	return c, nil
}

func (f *fakeStore) Update(ctx context.Context, tenant, id string, p *odata.Patch, cond store.Precondition) (odata.Connector, error) {
	if err := f.enter(ctx); err != nil {
		return odata.Connector{}, err
	}
	defer f.mu.Unlock()
	checkGUID(id)
	c, ok := f.rows[tenant][id]
	if !ok {
		return odata.Connector{}, odata.ErrNotFound
	}
	if cond.Set && !hasVersion(cond, c.Version) {
		return odata.Connector{}, odata.ErrPreconditionFailed
	}
	if p.Len() == 0 {
		return c, nil
	}
	p.Apply(&c)
	if err := storable(&c); err != nil {
		return odata.Connector{}, err
	}
	c.Version++
	f.rows[tenant][id] = c
	f.writes++
	return c, nil
}

func (f *fakeStore) Delete(ctx context.Context, tenant, id string, cond store.Precondition) error {
	if err := f.enter(ctx); err != nil {
		return err
	}
	defer f.mu.Unlock()
	checkGUID(id)
	c, ok := f.rows[tenant][id]
	if !ok {
		return odata.ErrNotFound
	}
	if cond.Set && !hasVersion(cond, c.Version) {
		return odata.ErrPreconditionFailed
	}
	delete(f.rows[tenant], id)
	f.writes++
	return nil
}

func (f *fakeStore) Ping(ctx context.Context) error {
	if err := f.enter(ctx); err != nil {
		return err
	}
	f.mu.Unlock()
	return nil
}

func hasVersion(cond store.Precondition, v int64) bool {
	for _, w := range cond.Versions {
		if w == v {
			return true
		}
	}
	return false
}

// checkGUID panics, as a uuid column would fail the query, when the handlers pass a key that is not a
// lower-case GUID: they must have answered 404 before asking the store.
func checkGUID(id string) {
	if g, ok := odata.ParseGUID(id); !ok || g != id {
		panic(fmt.Sprintf("fake store: the handler passed the key %q, which is not a lower-case GUID", id))
	}
}

// storable refuses what PostgreSQL would: NUL in text, invalid UTF-8, a timestamp outside the CHECK ranges.
func storable(c *odata.Connector) error {
	for _, s := range []odata.NullString{c.ConnectorName, c.MachineName, c.ConnectorVersion} {
		if strings.IndexByte(s.Value, 0) >= 0 || !utf8.ValidString(s.Value) {
			return errors.New("fake store: ERROR: invalid byte sequence for encoding \"UTF8\" (SQLSTATE 22021)")
		}
	}
	for _, t := range []odata.DateTimeOffset{c.EnrollmentDateTime, c.LastCheckinDateTime} {
		if !t.Valid() {
			return errors.New("fake store: ERROR: new row violates check constraint (SQLSTATE 23514)")
		}
	}
	return nil
}

// unavailableError is odata.ErrUnavailable with a cause, the shape store.translate gives it.
type unavailableError struct{ cause error }

func (e *unavailableError) Error() string   { return "database unavailable: " + e.cause.Error() }
func (e *unavailableError) Unwrap() []error { return []error{odata.ErrUnavailable, e.cause} }
