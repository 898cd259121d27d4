package httpapi_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

// fakeStore is an in-memory httpapi.Store that behaves as store.Store does where the handlers can tell: entities
// belong to a set and a tenant, every change bumps the version (an empty patch changes nothing), a create makes
// a GUID key or the key the values derive (409 when it exists), immutable properties may only be repeated (400),
// lastModified-style times are now on every write, preconditions fail with odata.ErrPreconditionFailed only for
// entities that exist, and a value PostgreSQL cannot hold is refused with the store's 400. It can also be made
// unavailable, slow or panicking.
type fakeStore struct {
	mu    sync.Mutex
	model *odata.Model
	// rows are the entities: set index → tenant → key → entity. Values slices are never changed in place, so a
	// snapshot's shallow copies stay what they were.
	rows map[int]map[string]map[string]odata.Entity
	// samples are the health-metric samples, by tenant.
	samples map[string][]odata.MetricSample
	// newID makes the key of a created entity of a GUID-keyed set.
	newID func() string
	// payloads are the cursors too long to travel in a token, by token, as store keeps them in a table.
	payloads map[string][]byte
	// fail, when set, is returned by every call: odata.ErrUnavailable wrapped as the store wraps it, say.
	fail error
	// panicWith, when non-nil, is panicked with by every call.
	panicWith any
	// block makes every call wait for its context to end, as a query does when the client goes away; entered,
	// when not nil, hears of each call that starts waiting.
	block   bool
	entered chan struct{}
	// writes counts the calls that changed an entity.
	writes int
}

var _ httpapi.Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore { return newFakeStoreOf(odata.Graph()) }

// newFakeStoreOf is a fake store of another model (the toy entity's).
func newFakeStoreOf(m *odata.Model) *fakeStore {
	return &fakeStore{
		model:    m,
		rows:     map[int]map[string]map[string]odata.Entity{},
		newID:    func() string { return createdID },
		payloads: map[string][]byte{},
	}
}

// setOf is the set of the model whose type is t.
func (f *fakeStore) setOf(t *odata.EntityType) *odata.EntitySet {
	for _, s := range f.model.Sets {
		if s.Type == t {
			return s
		}
	}
	panic("fake store: no set of type " + t.Name)
}

func (f *fakeStore) table(set *odata.EntitySet, tenant string) map[string]odata.Entity {
	if f.rows[set.Index] == nil {
		f.rows[set.Index] = map[string]map[string]odata.Entity{}
	}
	if f.rows[set.Index][tenant] == nil {
		f.rows[set.Index][tenant] = map[string]odata.Entity{}
	}
	return f.rows[set.Index][tenant]
}

// put stores e in tenant as an import would, with version 1 or one more than the entity it replaces.
func (f *fakeStore) put(tenant string, e odata.Entity) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.table(f.setOf(e.Type), tenant)
	e.Values = slices.Clone(e.Values)
	e.Version = t[e.Key()].Version + 1
	t[e.Key()] = e
}

// snapshot copies every entity, for checking that a rejected request changed nothing.
func (f *fakeStore) snapshot() map[int]map[string]map[string]odata.Entity {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[int]map[string]map[string]odata.Entity, len(f.rows))
	for set, tenants := range f.rows {
		out[set] = make(map[string]map[string]odata.Entity, len(tenants))
		for tenant, rows := range tenants {
			out[set][tenant] = maps.Clone(rows)
		}
	}
	return out
}

// row is a connector of tenant.
func (f *fakeStore) row(tenant, id string) (odata.Entity, bool) { return f.rowOf(connSet, tenant, id) }

func (f *fakeStore) rowOf(set *odata.EntitySet, tenant, key string) (odata.Entity, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.rows[set.Index][tenant][key]
	return e, ok
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

func (f *fakeStore) Get(ctx context.Context, set *odata.EntitySet, tenant, key string) (odata.Entity, error) {
	if err := f.enter(ctx); err != nil {
		return odata.Entity{}, err
	}
	defer f.mu.Unlock()
	checkKey(set, key)
	e, ok := f.rows[set.Index][tenant][key]
	if !ok {
		return odata.Entity{}, odata.ErrNotFound
	}
	return e, nil
}

func (f *fakeStore) Create(ctx context.Context, set *odata.EntitySet, tenant string, p *odata.Patch, now odata.DateTimeOffset) (odata.Entity, error) {
	if err := f.enter(ctx); err != nil {
		return odata.Entity{}, err
	}
	defer f.mu.Unlock()
	e := odata.NewEntity(set.Type, "", p, now)
	key := f.newID()
	if set.Type.KeyKind == odata.KeyString {
		var err error
		if key, err = set.Type.DeriveKey(e.Values); err != nil {
			return odata.Entity{}, err
		}
	}
	e.Values[0] = odata.Str(key)
	if err := storable(&e); err != nil {
		return odata.Entity{}, err
	}
	t := f.table(set, tenant)
	if _, dup := t[key]; dup {
		return odata.Entity{}, odata.Errorf(odata.KindConflict, odata.CodeConflict, "A %s with the id '%s' already exists.", set.Type.Name, capText(key))
	}
	e.Version = 1
	t[key] = e
	f.writes++
	return e, nil
}

func (f *fakeStore) Update(ctx context.Context, set *odata.EntitySet, tenant, key string, p *odata.Patch, cond store.Precondition, now odata.DateTimeOffset) (odata.Entity, error) {
	if err := f.enter(ctx); err != nil {
		return odata.Entity{}, err
	}
	defer f.mu.Unlock()
	checkKey(set, key)
	e, ok := f.rows[set.Index][tenant][key]
	if !ok {
		return odata.Entity{}, odata.ErrNotFound
	}
	for i := range set.Type.Properties {
		prop := &set.Type.Properties[i]
		if prop.Immutable && p.Has(prop.ID) && !p.Get(prop.ID).Equal(e.Values[i], prop.Type) {
			return odata.Entity{}, odata.Errorf(odata.KindInvalid, odata.CodeModelValidationFailure,
				"The property '%s' cannot be changed after the %s is created.", prop.Name, set.Type.Name)
		}
	}
	if cond.Set && !slices.Contains(cond.Versions, e.Version) {
		return odata.Entity{}, odata.ErrPreconditionFailed
	}
	if p.Len() == 0 {
		return e, nil
	}
	e.Values = slices.Clone(e.Values)
	p.Apply(&e)
	for i := range set.Type.Properties {
		if set.Type.Properties[i].ServerSet == odata.SetOnWrite {
			e.Values[i] = odata.Time(now)
		}
	}
	if err := storable(&e); err != nil {
		return odata.Entity{}, err
	}
	e.Version++
	f.rows[set.Index][tenant][key] = e
	f.writes++
	return e, nil
}

func (f *fakeStore) Delete(ctx context.Context, set *odata.EntitySet, tenant, key string, cond store.Precondition) error {
	if err := f.enter(ctx); err != nil {
		return err
	}
	defer f.mu.Unlock()
	checkKey(set, key)
	e, ok := f.rows[set.Index][tenant][key]
	if !ok {
		return odata.ErrNotFound
	}
	if cond.Set && !slices.Contains(cond.Versions, e.Version) {
		return odata.ErrPreconditionFailed
	}
	delete(f.rows[set.Index][tenant], key)
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

// checkKey panics, as the key column would fail the query or miss, when the handlers pass a key that is not in
// its set's canonical form (a lower-case GUID, a lower-case derived key): they must have answered 404 before
// asking the store.
func checkKey(set *odata.EntitySet, key string) {
	if k, ok := set.Type.Key(key); !ok || k != key {
		panic(fmt.Sprintf("fake store: the handler passed the key %q of %s, which is not canonical", key, set.Name))
	}
}

// storable refuses what PostgreSQL would, with the store's 400: NUL in text, invalid UTF-8, a time outside the
// CHECK ranges.
func storable(e *odata.Entity) error {
	bad := odata.Errorf(odata.KindInvalid, odata.CodeModelValidationFailure, "A value cannot be stored: it is outside what the property allows.")
	for i := range e.Type.Properties {
		v := e.Values[i]
		if v.Null {
			continue
		}
		switch e.Type.Properties[i].Type {
		case odata.EdmString:
			if strings.IndexByte(v.Str, 0) >= 0 || !utf8.ValidString(v.Str) {
				return bad
			}
		case odata.EdmDateTimeOffset:
			if !v.Time.Valid() {
				return bad
			}
		}
	}
	return nil
}

// unavailableError is odata.ErrUnavailable with a cause, the shape store.translate gives it.
type unavailableError struct{ cause error }

func (e *unavailableError) Error() string   { return "database unavailable: " + e.cause.Error() }
func (e *unavailableError) Unwrap() []error { return []error{odata.ErrUnavailable, e.cause} }

// capText shortens client text in a message to 64 bytes, as store and httpapi quote it.
func capText(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
