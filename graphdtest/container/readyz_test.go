package container

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go/wait"
)

// exitedTarget is a container that has exited with code 1 after logging graphd's fatal error.
type exitedTarget struct {
	wait.StrategyTarget // only State and Logs are called
}

func (exitedTarget) State(context.Context) (*container.State, error) {
	return &container.State{Running: false, ExitCode: 1}, nil
}

func (exitedTarget) Logs(context.Context) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(`{"level":"INFO","msg":"applied migrations"}` + "\n" +
		"graphd: GRAPHD_FIXTURES: /fixtures/bad.json: entity 0: bad id\n")), nil
}

// failingHTTP is the HTTP strategy noticing the exit first, as testcontainers' does: its error names no cause.
type failingHTTP struct{}

func (failingHTTP) WaitUntilReady(context.Context, wait.StrategyTarget) error {
	return errors.New("container exited with code 1")
}

func (failingHTTP) Timeout() *time.Duration { return nil }

// Whichever notices an exited container first, the HTTP strategy or the tick, the error carries graphd's last
// word from its log.
func TestReadyzReportsGraphdsLastWord(t *testing.T) {
	t.Parallel()
	err := readyz{http: failingHTTP{}}.WaitUntilReady(t.Context(), exitedTarget{})
	want := "graphd stopped (exit code 1) before it was ready: graphd: GRAPHD_FIXTURES: /fixtures/bad.json: entity 0: bad id"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}
