package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

// InTx: the store's operations under one context run on one transaction, which commits when the function
// returns nil and rolls everything back otherwise. With a pool of one connection, an operation that took a
// second connection (a failure-path read, say) would wait for ever; the deadline turns that into a failure.

func TestInTx(t *testing.T) {
	t.Parallel()
	s := openStore(t, store.Options{MaxConns: 1})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	importSeed(t, s, tenantA)
	pfx := parseCreate(t, userPfx.Type, userPfxBody("tx@contoso.com", "TX1", nil))
	key := odata.UserPfxKey("tx@contoso.com", "TX1")
	var created odata.Entity
	errStop := errors.New("stop")

	t.Run("RollsBackEverything", func(t *testing.T) {
		err := s.InTx(ctx, func(ctx context.Context) error {
			c := patchOf(connectors.Type, map[string]odata.Value{"connectorName": odata.Str("in tx")})
			if _, err := s.Create(ctx, connectors, tenantA, &c, nowT); err != nil {
				return err
			}
			if _, err := s.Update(ctx, connectors, tenantA, seedID, &c, store.Precondition{}, nowT); err != nil {
				return err
			}
			if _, err := s.Create(ctx, userPfx, tenantA, &pfx, nowT); err != nil {
				return err
			}
			if err := s.Import(ctx, tenantB, importSet([]odata.Entity{connector(seedID, nil)})); err != nil {
				return err
			}
			return errStop
		})
		if err != errStop {
			t.Fatalf("InTx = %v, want fn's error as it is", err)
		}
		if e, err := s.Get(ctx, connectors, tenantA, seedID); err != nil || e.Version != 1 || e.Get("connectorName").Str != "Connector Name value" {
			t.Fatalf("the update outlived the rollback: %+v, %v", e.Values, err)
		}
		res, err := s.List(ctx, connectors, tenantA, store.ListRequest{PageSize: 10, Query: odata.Query{Count: true}})
		if err != nil || res.Count != 1 {
			t.Fatalf("the create outlived the rollback: %d rows, %v", res.Count, err)
		}
		for tenant, set := range map[string]*odata.EntitySet{tenantA: userPfx, tenantB: connectors} {
			k := key
			if set == connectors {
				k = seedID
			}
			if _, err := s.Get(ctx, set, tenant, k); !errors.Is(err, odata.ErrNotFound) {
				t.Fatalf("%s outlived the rollback: %v", set.Name, err)
			}
		}
	})

	t.Run("CommitsTogether", func(t *testing.T) {
		err := s.InTx(ctx, func(ctx context.Context) error {
			var err error
			if created, err = s.Create(ctx, userPfx, tenantA, &pfx, nowT); err != nil {
				return err
			}
			// Reads in the transaction see its writes.
			if got, err := s.Get(ctx, userPfx, tenantA, key); err != nil || got.Version != 1 {
				t.Errorf("Get in the transaction: %v", err)
			}
			res, err := s.List(ctx, userPfx, tenantA, store.ListRequest{PageSize: 10, Query: odata.Query{Count: true}})
			if err != nil || res.Count != 1 || len(res.Items) != 1 {
				t.Errorf("List in the transaction: %d, %v", res.Count, err)
			}
			p := patchOf(connectors.Type, map[string]odata.Value{"machineName": odata.Str("committed")})
			if _, err := s.Update(ctx, connectors, tenantA, seedID, &p, store.Precondition{Set: true, Versions: []int64{1}}, nowT); err != nil {
				return err
			}
			// Nested, InTx joins the transaction.
			return s.InTx(ctx, func(ctx context.Context) error {
				return s.Import(ctx, tenantB, importSet([]odata.Entity{connector(seedID, nil)}))
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		if e, err := s.Get(ctx, connectors, tenantA, seedID); err != nil || e.Get("machineName").Str != "committed" || e.Version != 2 {
			t.Fatalf("update: %+v, %v", e.Values, err)
		}
		if _, err := s.Get(ctx, userPfx, tenantA, key); err != nil {
			t.Fatalf("create: %v", err)
		}
		if _, err := s.Get(ctx, connectors, tenantB, seedID); err != nil {
			t.Fatalf("nested import: %v", err)
		}
	})

	// Every failure path inside a transaction reads on it: with one connection, a read on the pool would wait
	// for the transaction's own connection until the deadline.
	t.Run("FailurePathsReadOnTheTransaction", func(t *testing.T) {
		other := odata.UserPfxKey("tx@contoso.com", "TX2")
		err := s.InTx(ctx, func(ctx context.Context) error {
			// A row only this transaction sees: its failure paths must find it (400 and 412, not 404).
			p := parseCreate(t, userPfx.Type, userPfxBody("tx@contoso.com", "TX2", nil))
			if _, err := s.Create(ctx, userPfx, tenantA, &p, nowT); err != nil {
				return err
			}
			stale := store.Precondition{Set: true, Versions: []int64{9}}
			change := parsePatch(t, userPfx.Type, `{"thumbprint": "other"}`, other)
			if _, err := s.Update(ctx, userPfx, tenantA, other, &change, store.Precondition{}, nowT); odata.ErrorKind(err) != odata.KindInvalid {
				t.Errorf("immutable change: %v, want 400", err)
			}
			repeat := parsePatch(t, userPfx.Type, `{"thumbprint": "TX2", "keyName": "k"}`, other)
			if _, err := s.Update(ctx, userPfx, tenantA, other, &repeat, stale, nowT); !errors.Is(err, odata.ErrPreconditionFailed) {
				t.Errorf("stale update: %v, want 412", err)
			}
			empty := odata.NewPatch(userPfx.Type)
			if e, err := s.Update(ctx, userPfx, tenantA, other, &empty, store.Precondition{}, nowT); err != nil || e.Key() != other {
				t.Errorf("empty patch: %v", err)
			}
			if _, err := s.Update(ctx, userPfx, tenantA, other, &empty, stale, nowT); !errors.Is(err, odata.ErrPreconditionFailed) {
				t.Errorf("stale empty patch: %v, want 412", err)
			}
			if err := s.Delete(ctx, userPfx, tenantA, other, stale); !errors.Is(err, odata.ErrPreconditionFailed) {
				t.Errorf("stale delete: %v, want 412", err)
			}
			if _, err := s.Update(ctx, connectors, tenantA, "99999999-0000-4000-8000-000000000000", &empty, stale, nowT); !errors.Is(err, odata.ErrNotFound) {
				t.Errorf("missing row: %v, want 404", err)
			}
			// Cursors, stored ones included, the metrics and the secrets.
			long := strings.Repeat("long ", 1000)
			tok, err := s.EncodeCursor(ctx, []byte("k"), "b", &store.Cursor{Values: []*string{&long}, Key: other})
			if err != nil || !strings.HasPrefix(tok, "s.") {
				t.Errorf("EncodeCursor: %.10q, %v", tok, err)
			} else if c, err := s.DecodeCursor(ctx, []byte("k"), "b", tok, 1); err != nil || *c.Values[0] != long {
				t.Errorf("DecodeCursor: %v", err)
			}
			if _, err := s.HealthMetrics(ctx, tenantA, seedID, []string{"x"}); err != nil {
				t.Errorf("HealthMetrics: %v", err)
			}
			if _, err := s.Secret(ctx, "tx-secret", func() ([]byte, error) { return []byte("v"), nil }); err != nil {
				t.Errorf("Secret: %v", err)
			}
			return ctx.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		if e, err := s.Get(ctx, userPfx, tenantA, other); err != nil || e.Version != 1 {
			t.Fatalf("after commit: %+v, %v", e.Values, err)
		}
	})

	// A store error inside the transaction comes back as it is, and rolls back what came before it.
	t.Run("StoreErrorRollsBack", func(t *testing.T) {
		err := s.InTx(ctx, func(ctx context.Context) error {
			p := patchOf(connectors.Type, map[string]odata.Value{"connectorName": odata.Str("lost")})
			if _, err := s.Update(ctx, connectors, tenantA, seedID, &p, store.Precondition{}, nowT); err != nil {
				return err
			}
			again := parseCreate(t, userPfx.Type, userPfxBody("TX@contoso.com", "tx1", nil))
			_, err := s.Create(ctx, userPfx, tenantA, &again, nowT)
			return err
		})
		if odata.ErrorKind(err) != odata.KindConflict {
			t.Fatalf("InTx = %v, want the create's conflict", err)
		}
		if e, _ := s.Get(ctx, connectors, tenantA, seedID); e.Get("connectorName").Str == "lost" {
			t.Fatal("the update before the conflict outlived the rollback")
		}
		if e, _ := s.Get(ctx, userPfx, tenantA, key); diffEntity(e, created) != "" {
			t.Fatalf("the conflicting create changed the entity:\n%s", diffEntity(e, created))
		}
	})
}
