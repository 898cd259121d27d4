package store

import (
	"context"
	"math/rand/v2"
	"unicode/utf8"

	"github.com/graphd/graphd/odata"
	"github.com/jackc/pgx/v5"
)

// Precondition is an If-Match condition. The zero value imposes none; If-Match: * is also none, since every
// operation here already requires the entity to exist.
type Precondition struct {
	// Versions lists the versions the client's entity tags name; the operation proceeds only if the row has one.
	Versions []int64
	// Set says the header was present with tags (Versions may still be empty when none of them could be ours).
	Set bool
}

// queryEntity runs a statement that returns at most one row of es's selectList and reads it; no row is
// pgx.ErrNoRows (untranslated, so callers can tell it from other failures).
func (s *Store) queryEntity(ctx context.Context, es *entitySQL, sql string, args ...any) (odata.Entity, error) {
	rows, err := s.db(ctx).Query(ctx, sql, args...)
	if err != nil {
		return odata.Entity{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return odata.Entity{}, err
		}
		return odata.Entity{}, pgx.ErrNoRows
	}
	var e odata.Entity
	if err := es.decodeRow(rows.FieldDescriptions(), rows.RawValues(), &e); err != nil {
		return odata.Entity{}, err
	}
	rows.Close()
	return e, rows.Err()
}

// Get reads one entity of the tenant; key is in its canonical form.
func (s *Store) Get(ctx context.Context, set *odata.EntitySet, tenant, key string) (odata.Entity, error) {
	es := s.sql(set)
	e, err := s.queryEntity(ctx, es, es.getSQL, tenant, key)
	return e, translate(err)
}

// Create inserts a new entity made from a create payload: a random GUID key, or the key its values derive, and
// now for the server-set times. A derived key that exists already is odata.KindConflict.
func (s *Store) Create(ctx context.Context, set *odata.EntitySet, tenant string, p *odata.Patch, now odata.DateTimeOffset) (odata.Entity, error) {
	es := s.sql(set)
	t := set.Type
	e := odata.NewEntity(t, "", p, now)
	key := odata.NewGUID()
	if t.KeyKind == odata.KeyString {
		var err error
		if key, err = t.DeriveKey(e.Values); err != nil {
			return odata.Entity{}, err
		}
	}
	e.Values[0] = odata.Str(key)
	err := s.db(ctx).QueryRow(ctx, es.insertSQL, es.entityArgs(tenant, &e)...).Scan(&e.Version)
	if isUniqueViolation(err) {
		return odata.Entity{}, odata.Errorf(odata.KindConflict, odata.CodeConflict,
			"A %s with the id '%s' already exists.", t.Name, quoteKey(key))
	}
	return e, translate(err)
}

// Update applies a partial update in one statement, so it is one round trip and one transaction: only the
// columns the patch names are written (and the server's last-modified time), the version increments
// atomically, so concurrent updates of different properties never lose one another, and immutable properties
// must hold the values the patch repeats.
func (s *Store) Update(ctx context.Context, set *odata.EntitySet, tenant, key string, p *odata.Patch, cond Precondition, now odata.DateTimeOffset) (odata.Entity, error) {
	es := s.sql(set)
	if p.Len() == 0 {
		e, err := s.Get(ctx, set, tenant, key)
		if err == nil && cond.Set && !matches(cond, e.Version) {
			return odata.Entity{}, odata.ErrPreconditionFailed
		}
		return e, err
	}
	sql, args := es.updateText(p.Mask(), cond.Set), es.updateArgs(tenant, key, p, cond, now)
	if !cond.Set && p.Mask()&es.immutable == 0 {
		e, err := s.queryEntity(ctx, es, sql, args...)
		return e, translate(err)
	}
	return s.decidedUpdate(ctx, es, sql, args, p)
}

// decidedUpdate runs an update that can fail for a row that exists (updateText): it returns the updated entity,
// or why there is none, as of the statement's one instant.
func (s *Store) decidedUpdate(ctx context.Context, es *entitySQL, sql string, args []any, p *odata.Patch) (odata.Entity, error) {
	rows, err := s.db(ctx).Query(ctx, sql, args...)
	if err != nil {
		return odata.Entity{}, translate(err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return odata.Entity{}, translate(err)
		}
		return odata.Entity{}, odata.ErrNotFound
	}
	fds, raw := rows.FieldDescriptions(), rows.RawValues()
	k := 1 + es.nImmutable // cur's columns: the version, then the immutable properties
	if raw[k] != nil {
		var e odata.Entity
		if err := es.decodeRow(fds[k:], raw[k:], &e); err != nil {
			return odata.Entity{}, err
		}
		rows.Close()
		return e, translate(rows.Err())
	}
	j := 1
	for i := range es.cols {
		if es.immutable&(1<<uint(i)) == 0 {
			continue
		}
		cur, err := decodeValue(&es.cols[i], fds[j].Format, raw[j])
		if err != nil {
			return odata.Entity{}, err
		}
		j++
		id := odata.PropertyID(i)
		if p.Has(id) && !p.Get(id).Equal(cur, es.cols[i].prop.Type) {
			return odata.Entity{}, odata.Errorf(odata.KindInvalid, odata.CodeModelValidationFailure,
				"The property '%s' cannot be changed after the %s is created.", es.cols[i].prop.Name, es.t.Name)
		}
	}
	return odata.Entity{}, odata.ErrPreconditionFailed
}

// Delete removes an entity. With a version condition, the statement itself tells a missing entity (404) from a
// stale version (412).
func (s *Store) Delete(ctx context.Context, set *odata.EntitySet, tenant, key string, cond Precondition) error {
	es := s.sql(set)
	if !cond.Set {
		tag, err := s.db(ctx).Exec(ctx, es.deleteSQL[0], tenant, key)
		if err != nil {
			return translate(err)
		}
		if tag.RowsAffected() == 0 {
			return odata.ErrNotFound
		}
		return nil
	}
	var version int64
	var deleted bool
	if err := s.db(ctx).QueryRow(ctx, es.deleteSQL[1], tenant, key, cond.Versions).Scan(&version, &deleted); err != nil {
		return translate(err)
	}
	if !deleted {
		return odata.ErrPreconditionFailed
	}
	return nil
}

// Import upserts the entities of every set and the health-metric samples in one transaction: an entity that
// exists is replaced as the file states it (its version still increments, so ETags held by clients go stale),
// and a failure changes nothing. Samples are upserted after the entities, so they may refer to connectors of the
// same file; one that refers to no connector of the tenant fails the whole import.
func (s *Store) Import(ctx context.Context, tenant string, set *odata.ImportSet) error {
	return s.transact(ctx, func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		for i, entities := range set.Entities {
			es := s.sets[i]
			for j := range entities {
				batch.Queue(es.upsertSQL, es.entityArgs(tenant, &entities[j])...)
			}
		}
		importSamples(batch, tenant, set.Samples)
		return tx.SendBatch(ctx, batch).Close()
	})
}

func matches(cond Precondition, version int64) bool {
	for _, v := range cond.Versions {
		if v == version {
			return true
		}
	}
	return false
}

// quoteKey shortens a key for a message.
func quoteKey(k string) string {
	const max = 64
	if len(k) <= max {
		return k
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(k[cut]) {
		cut--
	}
	return k[:cut] + "…"
}

// sometimes is true with probability 1/n, for housekeeping that need not run on every call.
func sometimes(n int) bool { return rand.IntN(n) == 0 }
