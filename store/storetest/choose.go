package storetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// DefaultImage is the PostgreSQL image of the testcontainers source when TEST_POSTGRES_IMAGE is not set.
const DefaultImage = "postgres:17-alpine"

// ChoiceKind names where integration tests get PostgreSQL.
type ChoiceKind int

const (
	FromURL       ChoiceKind = iota + 1 // the server at TEST_DATABASE_URL
	FromContainer                       // a testcontainers PostgreSQL
	FromEmbedded                        // a throwaway embedded cluster from the machine's binaries
)

// Choice is the PostgreSQL the integration tests use, and why.
type Choice struct {
	Kind   ChoiceKind
	Image  string // the container image, for FromContainer
	Reason string
}

func (s Choice) String() string {
	switch s.Kind {
	case FromURL:
		return "the PostgreSQL at TEST_DATABASE_URL, because " + s.Reason
	case FromContainer:
		return "testcontainers with " + s.Image + ", because " + s.Reason
	}
	return "a throwaway embedded PostgreSQL cluster from this machine's binaries, because " + s.Reason
}

// Choose decides which PostgreSQL the integration tests use, as every test binary's setup decides it,
// without starting anything: TEST_DATABASE_URL if set; else testcontainers when Docker answers and the
// image (TEST_POSTGRES_IMAGE, default DefaultImage) is present or its registry has it; else the embedded
// cluster. Setup can still fall back from a container that fails to start to the embedded cluster.
func Choose(ctx context.Context) Choice {
	return choose(ctx, os.Getenv, dockerDaemon{})
}

// docker is what Choose asks the Docker daemon.
type docker interface {
	// ping returns nil when a daemon answers.
	ping(ctx context.Context) error
	// imagePresent reports whether the image is in the daemon's store.
	imagePresent(ctx context.Context, image string) bool
	// pullable returns nil when the image's registry serves its manifest (what a pull fetches first).
	pullable(ctx context.Context, image string) error
}

func choose(ctx context.Context, getenv func(string) string, d docker) Choice {
	if getenv("TEST_DATABASE_URL") != "" {
		return Choice{Kind: FromURL, Reason: "TEST_DATABASE_URL is set"}
	}
	image := getenv("TEST_POSTGRES_IMAGE")
	if image == "" {
		image = DefaultImage
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := d.ping(ctx); err != nil {
		return Choice{Kind: FromEmbedded, Reason: "TEST_DATABASE_URL is not set and Docker does not answer: " + firstLine(err.Error())}
	}
	if d.imagePresent(ctx, image) {
		return Choice{Kind: FromContainer, Image: image, Reason: "TEST_DATABASE_URL is not set, Docker answers and the image is present"}
	}
	if err := d.pullable(ctx, image); err != nil {
		return Choice{Kind: FromEmbedded, Reason: "TEST_DATABASE_URL is not set, and the image " + image + " is not present and cannot be pulled: " + firstLine(err.Error())}
	}
	return Choice{Kind: FromContainer, Image: image, Reason: "TEST_DATABASE_URL is not set, Docker answers and the image can be pulled"}
}

// dockerDaemon asks the daemon that testcontainers would use (DOCKER_HOST, ~/.testcontainers.properties, the
// default socket).
type dockerDaemon struct{}

func (dockerDaemon) client(ctx context.Context) (c *testcontainers.DockerClient, err error) {
	defer func() {
		// testcontainers panics rather than returns in some Docker-less setups.
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("testcontainers panicked: %v", r)
		}
	}()
	return testcontainers.NewDockerClientWithOpts(ctx)
}

func (d dockerDaemon) ping(ctx context.Context) error {
	c, err := d.client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Ping(ctx, client.PingOptions{})
	return err
}

func (d dockerDaemon) imagePresent(ctx context.Context, image string) bool {
	c, err := d.client(ctx)
	if err != nil {
		return false
	}
	defer c.Close()
	_, err = c.ImageInspect(ctx, image)
	return err == nil
}

func (d dockerDaemon) pullable(ctx context.Context, image string) error {
	c, err := d.client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.DistributionInspect(ctx, image, client.DistributionInspectOptions{})
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("the registry did not answer in time")
	}
	return err
}

// QuietDocker stops testcontainers from printing its Docker banner, for commands that print one line.
func QuietDocker() {
	tclog.SetDefault(quietLogger{})
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}
