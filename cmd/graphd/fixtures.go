package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/graphd/graphd/odata"
	"github.com/graphd/graphd/store"
)

// importAbout describes graphd import; README.md and docs/behaviour.md say the same.
const importAbout = `Load a fixture file into a tenant: a JSON array of entities with their ids, a
collection response {"value": [...]}, or {"certificateConnectorDetails": [...],
"userPfxCertificates": [...], "healthMetricSamples": [...]} (what graphd export
writes). "-" reads stdin. The tenant is --tenant, else the file's "tenant"
member, else the development tenant.

The file is validated like an API payload and loaded in one transaction: a bad
file changes nothing. Each entity in the file is stored exactly as the file
states it (omitted properties become null, omitted timestamps
0001-01-01T00:00:00Z); an id that exists is overwritten and its version (ETag)
goes up by one on every import, even when nothing changed. Samples are keyed
by (connector, metric, instant of dateTime) and overwritten the same way. Rows and
samples that the file does not mention are left alone. So importing the same
file twice leaves the same data, but new ETags.`

func importFile(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("import", "import [--tenant ID] FILE.json", importAbout+"\n\n"+sameDatabaseHint)
	tenant := fs.String("tenant", "", "tenant GUID to load the entities into (default: the file's, else "+odata.DevTenantID+")")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: graphd import [--tenant ID] FILE.json")
	}
	if *tenant != "" {
		t, ok := odata.ParseGUID(*tenant)
		if !ok {
			return fmt.Errorf("--tenant %q is not a GUID", *tenant)
		}
		*tenant = t
	}
	var data []byte
	var err error
	if name := fs.Arg(0); name == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return err
	}
	set, err := parseFixture(fs.Arg(0), data)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := cliLogger(stderr, cfg, getenv)
	db, err := openDatabase(ctx, cfg, log, "import")
	if err != nil {
		return err
	}
	defer db.close(context.WithoutCancel(ctx))
	msg, err := importSet(ctx, db.store, *tenant, &set)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, msg)
	return err
}

// parseFixture reads a fixture file, naming the file in its error.
func parseFixture(name string, data []byte) (odata.ImportSet, error) {
	set, err := odata.ParseImport(odata.Graph(), data, odata.FromTime(time.Now().UTC()))
	if err != nil {
		var oe *odata.Error
		if errors.As(err, &oe) {
			return odata.ImportSet{}, fmt.Errorf("%s: %s (nothing was imported)", name, oe.Message)
		}
		return odata.ImportSet{}, err
	}
	return set, nil
}

// importSet loads a parsed fixture into tenant (else the file's own tenant, else the development tenant) and
// says what it loaded.
func importSet(ctx context.Context, st *store.Store, tenant string, set *odata.ImportSet) (string, error) {
	if tenant == "" {
		tenant = set.Tenant
	}
	if tenant == "" {
		tenant = odata.DevTenantID
	}
	if err := st.Import(ctx, tenant, set); err != nil {
		return "", fmt.Errorf("import: %w (nothing was imported)", err)
	}
	var counts []string
	for _, es := range odata.Graph().Sets {
		counts = append(counts, fmt.Sprintf("%d %s", set.Count(es), es.Name))
	}
	return fmt.Sprintf("imported %s and %d health-metric samples into tenant %s", strings.Join(counts, ", "), len(set.Samples), tenant), nil
}

const exportAbout = `Write everything a tenant holds as a fixture file: every entity set by its name
(entities with their stored values, secrets and server-set times included), the
health-metric samples, and the tenant. graphd import reads it back to the same
values. FILE defaults to stdout ("-").`

func exportFile(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", "export [--tenant ID] [FILE.json]", exportAbout+"\n\n"+sameDatabaseHint)
	tenant := fs.String("tenant", odata.DevTenantID, "tenant GUID to export")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return errors.New("usage: graphd export [--tenant ID] [FILE.json]")
	}
	tid, ok := odata.ParseGUID(*tenant)
	if !ok {
		return fmt.Errorf("--tenant %q is not a GUID", *tenant)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := cliLogger(stderr, cfg, getenv)
	db, err := openDatabase(ctx, cfg, log, "export")
	if err != nil {
		return err
	}
	defer db.close(context.WithoutCancel(ctx))
	set, err := db.store.Export(ctx, tid)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	set.Tenant = tid
	out := append(odata.AppendExport(nil, odata.Graph(), &set), '\n')
	if name := fs.Arg(0); name != "" && name != "-" {
		return os.WriteFile(name, out, 0o644)
	}
	_, err = stdout.Write(out)
	return err
}

// importFixtures loads every file the GRAPHD_FIXTURES glob matches, in name order, at serve's start: the
// standalone image imports the fixtures mounted at /fixtures. A bad file stops the start, naming it.
func importFixtures(ctx context.Context, st *store.Store, pattern string, log *slog.Logger) error {
	if pattern == "" {
		return nil
	}
	files, err := filepath.Glob(pattern)
	if err != nil {
		return fmt.Errorf("GRAPHD_FIXTURES=%q: %w", pattern, err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("GRAPHD_FIXTURES: %w", err)
		}
		set, err := parseFixture(name, data)
		if err != nil {
			return fmt.Errorf("GRAPHD_FIXTURES: %w", err)
		}
		msg, err := importSet(ctx, st, "", &set)
		if err != nil {
			return fmt.Errorf("GRAPHD_FIXTURES: %s: %w", name, err)
		}
		log.Info("fixture imported", "file", name, "result", msg)
	}
	return nil
}
