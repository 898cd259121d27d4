// Package pgtest holds what graphd's two test-database helpers share: store/storetest (graphd's own integration
// tests) and graphdtest (graphd in other projects' tests). Both keep one PostgreSQL server per test binary and a
// migrated template database on it, and give each test a clone of the template, dropped when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/graphd/graphd/migrations"
	"github.com/graphd/graphd/store"
)

// cloneMu serializes the clones made by this process: CREATE DATABASE … TEMPLATE fails while another session
// is connected to the template, which includes another clone of it.
var cloneMu sync.Mutex

// Clone creates a database named prefix plus random hex from template on the server at adminURL (a role that
// may create databases), drops it when tb ends, and returns its connection string. A clone that finds the
// template in use by another process (another test binary making its own clone) is retried for up to a minute.
func Clone(tb testing.TB, adminURL, template, prefix string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(tb.Context()), time.Minute)
	defer cancel()
	name := prefix + RandomHex(8)
	if err := clone(ctx, adminURL, template, name); err != nil {
		tb.Fatalf("creating a test database from %s: %v", template, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(tb.Context()), time.Minute)
		defer cancel()
		if err := Exec(ctx, adminURL, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("dropping test database %s: %v", name, err)
		}
	})
	return WithDatabase(adminURL, name)
}

func clone(ctx context.Context, adminURL, template, name string) error {
	cloneMu.Lock()
	defer cloneMu.Unlock()
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		err := Exec(ctx, adminURL, "CREATE DATABASE "+name+" TEMPLATE "+template)
		var pe *pgconn.PgError
		if err == nil || !errors.As(err, &pe) || pe.Code != "55006" { // object_in_use
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
	}
}

// Migrate applies graphd's migrations to the database at url.
func Migrate(ctx context.Context, url string) error {
	s, err := store.Open(ctx, url, store.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer s.Close()
	m, err := store.NewMigrator(s.Pool(), migrations.FS)
	if err != nil {
		return err
	}
	defer m.Close()
	_, err = m.Up(ctx)
	return err
}

// Exec runs one statement on a connection of its own.
func Exec(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// WithDatabase points a connection string (URL or key=value form) at another database.
func WithDatabase(url, name string) string {
	if i := strings.Index(url, "://"); i >= 0 {
		head, query, _ := strings.Cut(url, "?")
		if j := strings.Index(head[i+3:], "/"); j >= 0 {
			head = head[:i+3+j]
		}
		out := head + "/" + name
		if query != "" {
			out += "?" + query
		}
		return out
	}
	return url + " dbname=" + name
}

// RandomHex returns n random bytes in hex, for database names.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
