package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// LockServe takes DataDir/serve.lock, which `graphd serve` holds for its lifetime so that a second serve on
// the same data directory fails with ErrInUse instead of sharing (and later stopping) the first one's
// server. graphd import and migrate do not take it: they may use the cluster while serve runs.
//
// The lock is a flock, so the kernel drops it when the process dies, however it dies; the pid written into
// the file only makes the error message more useful. flock locks belong to an open file, so a second
// LockServe in the same process fails as well. release is idempotent.
func LockServe(dataDir string) (release func() error, err error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded: creating data directory: %w", err)
	}
	path := filepath.Join(dataDir, "serve.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := ""
			if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) != "" {
				holder = " (pid " + strings.TrimSpace(string(b)) + ")"
			}
			return nil, fmt.Errorf("%w: %s%s", ErrInUse, dataDir, holder)
		}
		return nil, fmt.Errorf("embedded: locking %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	var (
		once       sync.Once
		releaseErr error
	)
	return func() error {
		once.Do(func() {
			// Empty the file first: a pid left behind would name an unrelated process in a later message.
			_ = f.Truncate(0)
			releaseErr = errors.Join(flock(f, syscall.LOCK_UN), f.Close())
			if releaseErr != nil {
				releaseErr = fmt.Errorf("embedded: releasing %s: %w", path, releaseErr)
			}
		})
		return releaseErr
	}, nil
}

// lockWait takes an exclusive flock on path, waiting until ctx is done. It polls with LOCK_NB because a
// blocking flock cannot be cancelled.
func lockWait(ctx context.Context, path string, logger *slog.Logger) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	logged := false
	for {
		err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = flock(f, syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("embedded: locking %s: %w", path, err)
		}
		if !logged {
			logger.Info("waiting for another graphd process to finish starting PostgreSQL", "lock", path)
			logged = true
		}
		if err := sleep(ctx, pollInterval); err != nil {
			f.Close()
			return nil, fmt.Errorf("embedded: waiting for %s: %w", path, err)
		}
	}
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
