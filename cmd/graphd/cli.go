package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
)

// errHelpShown ends a command whose -h/--help output was printed: run reports success, as for `graphd help`.
var errHelpShown = errors.New("help shown")

// newFlagSet returns a subcommand's flag set; synopsis is the usage line after "graphd ", about says what the
// command does (one or more lines).
func newFlagSet(name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "usage: graphd %s\n\n%s\n", synopsis, about)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(out, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses a subcommand's arguments. -h and --help print its usage on stdout and return errHelpShown;
// any other mistake prints the flag package's message and the usage on stderr and returns the error.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		if _, werr := stdout.Write(buf.Bytes()); werr != nil {
			return werr
		}
		return errHelpShown
	}
	if _, werr := stderr.Write(buf.Bytes()); werr != nil && err == nil {
		return werr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Name(), err)
	}
	return nil
}

// noArgs parses a subcommand that takes neither flags nor arguments.
func noArgs(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.SetOutput(stderr)
		fs.Usage()
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// cliLogger is the logger of the commands other than serve. They report their result on stdout and their
// failure as the returned error, so progress is not shown: only warnings and errors, as text, unless
// GRAPHD_LOG_LEVEL asks for more.
func cliLogger(w io.Writer, cfg config, getenv func(string) string) *slog.Logger {
	level := slog.LevelWarn
	if getenv("GRAPHD_LOG_LEVEL") != "" {
		level = cfg.LogLevel
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// Set by the linker: go build -ldflags "-X main.version=v1.2.3 -X main.commit=<git commit>" (make build and
// the Dockerfile do). Empty values fall back to the build information the go command records.
var (
	version string
	commit  string
)

// buildInfo says which graphd this is.
type buildInfo struct {
	Version string // the release, or "dev"
	Commit  string // the git commit it was built from, "-dirty" when the tree had changes, or "unknown"
	Go      string // the Go toolchain
}

func (b buildInfo) String() string {
	return fmt.Sprintf("graphd %s (commit %s, %s %s/%s)", b.Version, b.Commit, b.Go, runtime.GOOS, runtime.GOARCH)
}

func currentBuild() buildInfo {
	bi, _ := debug.ReadBuildInfo()
	return resolveBuild(version, commit, bi)
}

// resolveBuild prefers the linker's values; without them, the module version (go install …@v1.2.3) and the
// vcs.revision the go command stamps into binaries built inside a git checkout.
func resolveBuild(version, commit string, bi *debug.BuildInfo) buildInfo {
	b := buildInfo{Version: version, Commit: commit, Go: runtime.Version()}
	if bi != nil {
		if bi.GoVersion != "" {
			b.Go = bi.GoVersion
		}
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		if b.Commit == "" {
			var rev, modified string
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					modified = s.Value
				}
			}
			if rev != "" {
				b.Commit = rev
				if modified == "true" {
					b.Commit += "-dirty"
				}
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}

func versionCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "version", "Print graphd's version, the git commit it was built from, and the Go toolchain.")
	if err := noArgs(fs, args, stdout, stderr); err != nil {
		return err
	}
	_, err := fmt.Fprintln(stdout, currentBuild())
	return err
}

// sameDatabaseHint is what every command that borrows serve's database says about where it looks.
const sameDatabaseHint = `It uses the database of graphd serve: run it with the same DATABASE_URL, or
without DATABASE_URL the same GRAPHD_DATA_DIR, as the server. Only graphd serve
creates the embedded cluster; this command starts an existing one or attaches
to the running server, and fails if the data directory holds none.`
