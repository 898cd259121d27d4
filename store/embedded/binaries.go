package embedded

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// debianRoot is where Debian and Ubuntu install each PostgreSQL major version's server binaries, as
// debianRoot/<major>/bin; they are not on PATH there.
const debianRoot = "/usr/lib/postgresql"

// binaries are the programs Start runs, all from one installation.
type binaries struct {
	dir      string
	initdb   string
	postgres string
	psql     string
}

// findBinaries returns the binaries in binDir, or, if binDir is empty, in the first directory of the search
// order documented on Config.BinDir. If pgdata already holds a cluster, the binaries of the major version
// that created it come first: after installing a newer PostgreSQL next to the old one, the old cluster must
// still start (the newer server refuses its files).
func findBinaries(ctx context.Context, binDir, pgdata string) (binaries, error) {
	if binDir != "" {
		b, err := binariesIn(binDir)
		if err != nil {
			return binaries{}, fmt.Errorf("embedded: PostgreSQL bin directory %s: %w", binDir, err)
		}
		return b, nil
	}
	var candidates []string
	if v, err := os.ReadFile(filepath.Join(pgdata, "PG_VERSION")); err == nil {
		candidates = append(candidates, filepath.Join(debianRoot, strings.TrimSpace(string(v)), "bin"))
	}
	candidates = append(candidates, debianBinDirs(debianRoot)...)
	if dir := pgConfigBinDir(ctx); dir != "" {
		candidates = append(candidates, dir)
	}
	for _, name := range []string{"postgres", "initdb"} {
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, filepath.Dir(p))
		}
	}
	for _, dir := range candidates {
		if b, err := binariesIn(dir); err == nil {
			return b, nil
		}
	}
	return binaries{}, fmt.Errorf("embedded: searched %s/*/bin, `pg_config --bindir` and PATH: %w", debianRoot, ErrNoBinaries)
}

// binariesIn checks that dir holds initdb and postgres. psql may come from PATH instead: some
// installations ship the client separately from the server.
func binariesIn(dir string) (binaries, error) {
	b := binaries{
		dir:      dir,
		initdb:   filepath.Join(dir, "initdb"),
		postgres: filepath.Join(dir, "postgres"),
		psql:     filepath.Join(dir, "psql"),
	}
	for _, p := range []string{b.initdb, b.postgres} {
		if !isExecutable(p) {
			return binaries{}, fmt.Errorf("no executable %s: %w", p, ErrNoBinaries)
		}
	}
	if !isExecutable(b.psql) {
		p, err := exec.LookPath("psql")
		if err != nil {
			return binaries{}, fmt.Errorf("no psql in %s or on PATH: %w", dir, ErrNoBinaries)
		}
		b.psql = p
	}
	return b, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// debianBinDirs returns root/*/bin, highest version first.
func debianBinDirs(root string) []string {
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "bin"))
	slices.SortStableFunc(dirs, func(a, b string) int {
		return compareVersions(filepath.Base(filepath.Dir(b)), filepath.Base(filepath.Dir(a)))
	})
	return dirs
}

// compareVersions orders dotted version numbers numerically ("9.6" < "15" < "15.1"); a component that is
// not a number sorts below every number.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		x, y := -2, -2 // missing component
		if i < len(as) {
			x = atoiOr(as[i], -1)
		}
		if i < len(bs) {
			y = atoiOr(bs[i], -1)
		}
		if x != y {
			return x - y
		}
	}
	return strings.Compare(a, b)
}

func atoiOr(s string, fallback int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fallback
	}
	return n
}

// pgConfigBinDir asks pg_config, which knows where non-Debian installations (Homebrew, source builds) put
// the binaries; "" if there is no pg_config or it fails.
func pgConfigBinDir(ctx context.Context) string {
	p, err := exec.LookPath("pg_config")
	if err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, p, "--bindir").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
