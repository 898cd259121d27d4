package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/httpapi/auth"
	"github.com/graphd/graphd/migrations"
	"github.com/graphd/graphd/store"
	"github.com/graphd/graphd/store/embedded"
)

const usage = `usage: graphd [command]

commands:
  serve                  run the server (the default)
  migrate up|down|status apply, roll back or list the database migrations
  import [--tenant ID] FILE.json
                         load entities with their ids and health-metric samples; "-" reads stdin
  export [--tenant ID] [FILE.json]
                         write everything a tenant holds as a fixture file (stdout, or "-", by default)
  token [--tenant ID] [--scopes LIST | --roles LIST] [--user NAME] [--ttl 1h]
                         print a bearer token this graphd accepts (when it is its own issuer)
  healthcheck            exit 0 if the server at GRAPHD_ADDR is ready (for container healthchecks)
  version                print the version and the git commit graphd was built from

migrate, import, export and token use the database of graphd serve: give them the same DATABASE_URL, or
without it the same GRAPHD_DATA_DIR, as the server. Only serve creates the embedded cluster.
"graphd COMMAND -h" describes a command.

environment: DATABASE_URL, GRAPHD_ADDR, GRAPHD_DATA_DIR, GRAPHD_PUBLIC_URL, GRAPHD_LOG_LEVEL,
GRAPHD_MAX_BODY_BYTES, GRAPHD_PG_BINDIR, GRAPHD_AUTH, GRAPHD_AUTH_JWKS, GRAPHD_AUTH_ISSUER,
GRAPHD_AUTH_AUDIENCE, GRAPHD_AUTH_HS256_SECRET, GRAPHD_PAGE_SIZE, GRAPHD_MAX_PAGE_SIZE,
GRAPHD_DB_MAX_CONNS, GRAPHD_RATE_LIMIT, GRAPHD_RATE_BURST, GRAPHD_ADMIN_TOKEN, GRAPHD_JOURNAL_SIZE,
GRAPHD_JOURNAL_MAX_BYTES, GRAPHD_FIXTURES (see README.md)
`

// run is graphd's whole program; main only wires it to the process, so tests can run it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, getenv, stdin, stdout, stderr)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "import":
		return importFile(ctx, args, getenv, stdin, stdout, stderr)
	case "export":
		return exportFile(ctx, args, getenv, stdout, stderr)
	case "token":
		return token(ctx, args, getenv, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, args, getenv, stdout, stderr)
	case "version", "--version":
		return versionCmd(args, stdout, stderr)
	case "help", "-h", "--help":
		_, err := io.WriteString(stdout, usage)
		return err
	}
	_, _ = io.WriteString(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// database is an open store and what must happen to release it.
type database struct {
	store *store.Store
	close func(context.Context)
}

// openDatabase connects to DATABASE_URL, or to the embedded cluster under the data dir, and applies pending
// migrations. Only serve (which holds the serve lock) may create the embedded cluster; the other commands
// (named by cmd) attach to the running server or start the existing cluster, and fail with
// embedded.ErrNotInitialized when there is none.
func openDatabase(ctx context.Context, cfg config, log *slog.Logger, cmd string) (*database, error) {
	return openDatabaseWith(ctx, cfg, log, cmd, true)
}

func openDatabaseWith(ctx context.Context, cfg config, log *slog.Logger, cmd string, migrate bool) (*database, error) {
	dsn := cfg.DatabaseURL
	stopCluster := func(context.Context) {}
	if dsn == "" {
		isServe := cmd == "serve"
		// The other commands with no serve running start the existing cluster for their own use; they hold the
		// serve lock meanwhile so that a serve started now refuses instead of attaching to a cluster that is
		// about to stop. With a serve running, they attach to its cluster and leave it alone.
		releaseLock := func() error { return nil }
		if !isServe {
			// Before LockServe, which would create the directory and its lock file.
			if !embedded.HasCluster(cfg.DataDir) {
				return nil, notInitialized(cfg, cmd)
			}
			release, err := embedded.LockServe(cfg.DataDir)
			switch {
			case err == nil:
				releaseLock = release
			case !errors.Is(err, embedded.ErrInUse):
				return nil, err
			}
		}
		started := time.Now()
		cluster, err := embedded.Start(ctx, embedded.Config{DataDir: cfg.DataDir, BinDir: cfg.PGBinDir, Logger: log,
			RequireExisting: !isServe, MaxConnections: embeddedMaxConnections(cfg)})
		if err != nil {
			_ = releaseLock()
			if errors.Is(err, embedded.ErrNotInitialized) {
				return nil, notInitialized(cfg, cmd)
			}
			return nil, fmt.Errorf("embedded PostgreSQL in %s: %w", cfg.DataDir, err)
		}
		log.Info("embedded PostgreSQL ready", "data_dir", cfg.DataDir, "started_here", cluster.Owned(),
			"duration_ms", time.Since(started).Milliseconds())
		dsn = cluster.URL()
		stopCluster = func(ctx context.Context) {
			if err := cluster.Stop(ctx); err != nil {
				log.Error("stopping embedded PostgreSQL", "error", err.Error())
			}
			_ = releaseLock()
		}
	} else {
		log.Info("using DATABASE_URL", "database", redactURL(dsn))
	}
	poolSize := cfg.DBMaxConns
	if cmd != "serve" && !cfg.DBMaxConnsSet {
		// A command borrowing the database needs few connections; the server's pool keeps its share.
		poolSize = store.DefaultMaxConns
	}
	st, err := store.Open(ctx, dsn, store.Options{MaxConns: int32(poolSize)})
	if err != nil {
		stopCluster(context.WithoutCancel(ctx))
		return nil, err
	}
	db := &database{store: st, close: func(ctx context.Context) { st.Close(); stopCluster(ctx) }}
	if !migrate {
		return db, nil
	}
	if err := migrateUp(ctx, st, log); err != nil {
		db.close(context.WithoutCancel(ctx))
		return nil, err
	}
	return db, nil
}

// embeddedMaxConnections sizes the embedded cluster's max_connections: the server's pool, as many again for a
// second replica or a restart's overlap, and room for the commands that borrow the database (4 each) and for
// superuser sessions. Never below PostgreSQL's default.
func embeddedMaxConnections(cfg config) int { return max(100, 2*cfg.DBMaxConns+20) }

// notInitialized explains a data directory without a cluster to a command that must not create one: which
// directory it looked in, why that one, and how to point the command at the server's database.
func notInitialized(cfg config, cmd string) error {
	from := "from GRAPHD_DATA_DIR"
	if !cfg.DataDirSet {
		from = "the default data directory: GRAPHD_DATA_DIR is not set"
	}
	return &notInitializedError{fmt.Sprintf("no graphd database in %s (%s). Only graphd serve creates one: "+
		"run graphd %s with the same GRAPHD_DATA_DIR (or DATABASE_URL) as the graphd serve whose database it should use, "+
		"or start graphd serve with this data directory first", cfg.DataDir, from, cmd)}
}

// notInitializedError is embedded.ErrNotInitialized told for graphd's commands.
type notInitializedError struct{ msg string }

func (e *notInitializedError) Error() string { return e.msg }
func (e *notInitializedError) Unwrap() error { return embedded.ErrNotInitialized }

func migrateUp(ctx context.Context, st *store.Store, log *slog.Logger) error {
	m, err := store.NewMigrator(st.Pool(), migrations.FS)
	if err != nil {
		return err
	}
	defer m.Close()
	n, err := m.Up(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		log.Info("applied migrations", "count", n)
	}
	return nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "[serve]", "Run the server on GRAPHD_ADDR (default 127.0.0.1:8080). Without DATABASE_URL it creates (on\nthe first start) and runs an embedded PostgreSQL cluster in GRAPHD_DATA_DIR. SIGINT or\nSIGTERM drain in-flight requests, stop the cluster and exit. Settings: see graphd help.")
	if err := noArgs(fs, args, stdout, stderr); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log, logBuf := newBufferedLogger(stderr, cfg.LogLevel)
	defer logBuf.Close()
	if cfg.DatabaseURL == "" {
		release, err := embedded.LockServe(cfg.DataDir)
		if err != nil {
			return err
		}
		defer func() { _ = release() }()
	}
	// Listen first, so a busy address fails before the database is started.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on GRAPHD_ADDR=%s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	db, err := openDatabase(ctx, cfg, log, "serve")
	if err != nil {
		return err
	}
	defer db.close(context.WithoutCancel(ctx))

	if err := importFixtures(ctx, db.store, cfg.Fixtures, log); err != nil {
		return err
	}
	skipKey, err := db.store.Secret(ctx, store.SkipTokenSecret, randomKey)
	if err != nil {
		return fmt.Errorf("skiptoken key: %w", err)
	}
	apiCfg := httpapi.Config{
		PublicURL:    cfg.PublicURL,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Logger:       log,
		SkipTokenKey: skipKey,
		PageSize:     cfg.PageSize,
		MaxPageSize:  cfg.MaxPageSize,
		RateLimit:    cfg.RateLimit,
		RateBurst:    cfg.RateBurst,
		Metrics:      newRegistry(db.store),
	}
	var issuer *auth.Issuer
	if cfg.Auth.Mode == "none" {
		log.Warn("AUTHENTICATION IS OFF (GRAPHD_AUTH=none): every request acts in the development tenant with every permission; never expose this server")
	} else {
		var verifier *auth.Verifier
		verifier, issuer, err = newVerifier(ctx, db.store, cfg.Auth, log)
		if err != nil {
			return err
		}
		apiCfg.Auth = verifier
		if issuer != nil {
			if apiCfg.JWKS, err = json.Marshal(issuer.JWKS()); err != nil {
				return err
			}
			log.Info("graphd is its own token issuer: get a token with `graphd token`", "issuer", cfg.Auth.Issuer, "audience", cfg.Auth.Audience)
		} else {
			log.Info("validating tokens against a JWKS", "jwks", cfg.Auth.JWKS, "issuer", cfg.Auth.Issuer, "audience", cfg.Auth.Audience)
		}
	}
	if cfg.AdminToken != "" {
		apiCfg.Admin = &httpapi.AdminConfig{Token: cfg.AdminToken, JournalSize: cfg.JournalSize, JournalMaxBytes: cfg.JournalMaxBytes}
		if issuer != nil {
			apiCfg.Admin.Issue = issuer.Sign
		}
		log.Warn("the test-lab admin API is on under /_graphd (GRAPHD_ADMIN_TOKEN): it can read and erase every tenant; never expose it")
	}
	handler := httpapi.NewServer(apiCfg, db.store)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		// Above the API's own header limit, so that limit answers with a Graph envelope (431) first.
		MaxHeaderBytes: 1 << 20,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	// net/http's own plain-text answers (malformed requests, HTTP/2.0 on HTTP/1) get Graph's envelope too.
	go func() { errc <- srv.Serve(httpapi.EnvelopeListener(ln, apiCfg)) }()
	build := currentBuild()
	log.Info("graphd listening", "addr", ln.Addr().String(), "service_root", serviceRootFor(cfg, ln.Addr()),
		"version", build.Version, "commit", build.Commit)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// randomKey makes a 256-bit key for a new server secret.
func randomKey() ([]byte, error) {
	k := make([]byte, 32)
	_, err := rand.Read(k)
	return k, err
}

func serviceRootFor(cfg config, addr net.Addr) string {
	if cfg.PublicURL != "" {
		return cfg.PublicURL
	}
	return "http://" + addr.String() + "/beta"
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", "migrate up|down|status", "Apply the pending schema migrations (up), roll back the latest one (down), or list\nthem (status).\n\n"+sameDatabaseHint)
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "up" && fs.Arg(0) != "down" && fs.Arg(0) != "status") {
		return errors.New("usage: graphd migrate up|down|status")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := cliLogger(stderr, cfg, getenv)
	db, err := openDatabaseWith(ctx, cfg, log, "migrate", false)
	if err != nil {
		return err
	}
	defer db.close(context.WithoutCancel(ctx))
	m, err := store.NewMigrator(db.store.Pool(), migrations.FS)
	if err != nil {
		return err
	}
	defer m.Close()
	switch fs.Arg(0) {
	case "up":
		n, err := m.Up(ctx)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
		return err
	case "down":
		return m.Down(ctx)
	}
	return m.Status(ctx, stdout)
}

func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", "healthcheck", "Exit 0 when the server at GRAPHD_ADDR answers /readyz with 200 (for container healthchecks).")
	if err := noArgs(fs, args, stdout, stderr); err != nil {
		return err
	}
	addr := getenv("GRAPHD_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("GRAPHD_ADDR=%q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s", resp.Status)
	}
	return nil
}
