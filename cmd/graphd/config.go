package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"github.com/graphd/graphd/httpapi"
	"github.com/graphd/graphd/store/embedded"
)

// config is graphd's configuration, read from the environment and validated once at start.
type config struct {
	DatabaseURL  string
	Addr         string
	DataDir      string
	DataDirSet   bool // DataDir came from GRAPHD_DATA_DIR rather than the default
	PublicURL    string
	LogLevel     slog.Level
	MaxBodyBytes int64
	PGBinDir     string
	PageSize     int
	MaxPageSize  int
	DBMaxConns   int
	// DBMaxConnsSet says GRAPHD_DB_MAX_CONNS was given rather than defaulted.
	DBMaxConnsSet bool
	RateLimit     float64
	RateBurst     int
	Auth          authConfig
	// AdminToken turns on the test-lab admin API under /_graphd/; empty: off.
	AdminToken      string
	JournalSize     int
	JournalMaxBytes int
	// Fixtures is a glob of fixture files serve imports at start (the standalone image's /fixtures/*.json).
	Fixtures string
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		DatabaseURL:  getenv("DATABASE_URL"),
		Addr:         getenv("GRAPHD_ADDR"),
		PublicURL:    strings.TrimSuffix(getenv("GRAPHD_PUBLIC_URL"), "/"),
		MaxBodyBytes: httpapi.DefaultMaxBodyBytes,
		PGBinDir:     getenv("GRAPHD_PG_BINDIR"),
	}
	var errs []error
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("GRAPHD_PUBLIC_URL=%q: want an absolute http(s) URL of the service root, such as https://graph.example.test/beta", c.PublicURL))
		}
	}
	switch lvl := strings.ToLower(getenv("GRAPHD_LOG_LEVEL")); lvl {
	case "", "info":
		c.LogLevel = slog.LevelInfo
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		errs = append(errs, fmt.Errorf("GRAPHD_LOG_LEVEL=%q: want debug, info, warn or error", lvl))
	}
	if v := getenv("GRAPHD_MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 {
			errs = append(errs, fmt.Errorf("GRAPHD_MAX_BODY_BYTES=%q: want a byte count of at least 1024", v))
		}
		c.MaxBodyBytes = n
	}
	for _, v := range []struct {
		name string
		dst  *int
	}{{"GRAPHD_PAGE_SIZE", &c.PageSize}, {"GRAPHD_MAX_PAGE_SIZE", &c.MaxPageSize}, {"GRAPHD_DB_MAX_CONNS", &c.DBMaxConns}, {"GRAPHD_RATE_BURST", &c.RateBurst}} {
		if s := getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 100000 {
				errs = append(errs, fmt.Errorf("%s=%q: want a number of rows between 1 and 100000", v.name, s))
			}
			*v.dst = n
		}
	}
	c.AdminToken = getenv("GRAPHD_ADMIN_TOKEN")
	if c.AdminToken != "" && len(c.AdminToken) < httpapi.MinAdminTokenLength {
		errs = append(errs, fmt.Errorf("GRAPHD_ADMIN_TOKEN: use at least %d characters (it opens the admin API, which can read and erase every tenant)", httpapi.MinAdminTokenLength))
	}
	for _, v := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"GRAPHD_JOURNAL_SIZE", &c.JournalSize, 1, 1_000_000}, {"GRAPHD_JOURNAL_MAX_BYTES", &c.JournalMaxBytes, 1024, 1 << 30}} {
		if s := getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < v.min || n > v.max {
				errs = append(errs, fmt.Errorf("%s=%q: want a number between %d and %d", v.name, s, v.min, v.max))
			}
			*v.dst = n
		}
	}
	c.Fixtures = getenv("GRAPHD_FIXTURES")
	if c.Fixtures != "" {
		if _, err := filepath.Match(c.Fixtures, ""); err != nil {
			errs = append(errs, fmt.Errorf("GRAPHD_FIXTURES=%q: want a file or a glob such as /fixtures/*.json", c.Fixtures))
		}
	}
	if v := getenv("GRAPHD_RATE_LIMIT"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1e6 {
			errs = append(errs, fmt.Errorf("GRAPHD_RATE_LIMIT=%q: want requests per second per tenant (0 turns throttling off)", v))
		}
		c.RateLimit = f
	}
	c.DBMaxConnsSet = c.DBMaxConns != 0
	if c.DBMaxConns == 0 {
		c.DBMaxConns = defaultPoolSize()
	}
	if c.DatabaseURL == "" {
		dir, err := embedded.DefaultDataDir(getenv)
		if err != nil {
			errs = append(errs, fmt.Errorf("GRAPHD_DATA_DIR: %w", err))
		}
		c.DataDir = dir
		c.DataDirSet = getenv("GRAPHD_DATA_DIR") != ""
	}
	auth, authErrs := loadAuthConfig(getenv)
	c.Auth = auth
	errs = append(errs, authErrs...)
	if err := errors.Join(errs...); err != nil {
		return config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// redactURL hides the password of a connection string for the log.
func redactURL(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return passwordValue.ReplaceAllString(dsn, "${1}xxxxx")
}

// passwordValue matches the value of password in a key=value connection string, quoted or not.
var passwordValue = regexp.MustCompile(`(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// defaultPoolSize is serve's database pool without GRAPHD_DB_MAX_CONNS: enough sessions that concurrent commits
// share WAL flushes (PostgreSQL's group commit), a few per core with a floor, since each session mostly waits on the
// database and the disk (docs/performance.md has the measurements).
func defaultPoolSize() int { return max(16, 4*runtime.GOMAXPROCS(0)) }
