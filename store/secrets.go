package store

import (
	"context"
	"errors"

	"github.com/graphd/graphd/odata"
)

// Secret returns the shared secret called name, creating it with generate if no replica has yet. Replicas that
// race both generate, and the first insert wins for all of them.
func (s *Store) Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	var value []byte
	err := s.db(ctx).QueryRow(ctx, "SELECT value FROM server_secrets WHERE name = $1", name).Scan(&value)
	if err == nil {
		return value, nil
	}
	if err = translate(err); !errors.Is(err, odata.ErrNotFound) {
		return nil, err
	}
	fresh, err := generate()
	if err != nil {
		return nil, err
	}
	if _, err := s.db(ctx).Exec(ctx, "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", name, fresh); err != nil {
		return nil, translate(err)
	}
	err = s.db(ctx).QueryRow(ctx, "SELECT value FROM server_secrets WHERE name = $1", name).Scan(&value)
	return value, translate(err)
}
