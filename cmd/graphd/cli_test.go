package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// Every command's -h and --help print its usage on stdout and succeed (exit 0); a wrong flag still fails.
func TestHelp(t *testing.T) {
	t.Parallel()
	cases := [][]string{{"help"}, {"-h"}, {"--help"}}
	for _, cmd := range []string{"serve", "migrate", "import", "token", "healthcheck", "version"} {
		cases = append(cases, []string{cmd, "-h"}, []string{cmd, "--help"}, []string{cmd, "-help"})
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			// No configuration at all: help must not need any, nor touch a database.
			if err := run(t.Context(), args, env(), nil, &stdout, &stderr); err != nil {
				t.Fatalf("graphd %s: %v", strings.Join(args, " "), err)
			}
			want := "usage: graphd"
			if args[0] != "help" && args[0][0] != '-' {
				want = "usage: graphd " + args[0]
				if args[0] == "serve" {
					want = "usage: graphd [serve]"
				}
			}
			if !strings.HasPrefix(stdout.String(), want) {
				t.Errorf("stdout = %q, want it to start with %q", stdout.String(), want)
			}
			if stderr.Len() != 0 {
				t.Errorf("stderr = %q, want nothing", &stderr)
			}
		})
	}
	for _, args := range [][]string{{"token", "--bogus"}, {"serve", "extra"}, {"version", "-x"}, {"healthcheck", "now"}} {
		t.Run("Err"+strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			if err := run(t.Context(), args, env(), nil, &bytes.Buffer{}, &stderr); err == nil {
				t.Fatalf("graphd %s succeeded", strings.Join(args, " "))
			}
			if !strings.Contains(stderr.String(), "usage: graphd "+args[0]) && !strings.Contains(stderr.String(), "usage: graphd [serve]") {
				t.Errorf("stderr = %q, want the usage", &stderr)
			}
		})
	}
}

func TestResolveBuild(t *testing.T) {
	t.Parallel()
	vcs := func(rev, modified string) *debug.BuildInfo {
		bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/graphd/graphd/cmd/graphd", Version: "(devel)"}}
		if rev != "" {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: "vcs.revision", Value: rev}, debug.BuildSetting{Key: "vcs.modified", Value: modified})
		}
		return bi
	}
	installed := vcs("", "")
	installed.Main.Version = "v1.4.0"
	for _, tc := range []struct {
		name            string
		version, commit string
		bi              *debug.BuildInfo
		want            buildInfo
	}{
		{"Ldflags", "v1.2.3", "0123abcd", vcs("ffff", "false"), buildInfo{"v1.2.3", "0123abcd", "go1.26.8"}},
		{"VCSRevision", "", "", vcs("8ef2c67d", "false"), buildInfo{"dev", "8ef2c67d", "go1.26.8"}},
		{"VCSRevisionModified", "", "", vcs("8ef2c67d", "true"), buildInfo{"dev", "8ef2c67d-dirty", "go1.26.8"}},
		{"LdflagsVersionOnly", "v1.2.3", "", vcs("8ef2c67d", "false"), buildInfo{"v1.2.3", "8ef2c67d", "go1.26.8"}},
		{"GoInstall", "", "", installed, buildInfo{"v1.4.0", "unknown", "go1.26.8"}},
		{"NoBuildInfo", "", "", nil, buildInfo{"dev", "unknown", runtime.Version()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := resolveBuild(tc.version, tc.commit, tc.bi); got != tc.want {
				t.Errorf("resolveBuild = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// buildGraphd builds this command into dir/bin/graphd with make build's settings (CGO_ENABLED=0, -trimpath), so
// that after make build or make run the build cache serves it and only the link runs.
func buildGraphd(tb testing.TB, dir string, args ...string) string {
	tb.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		tb.Skipf("no go command on PATH: %v", err)
	}
	bin := filepath.Join(dir, "bin", "graphd")
	cmd := exec.Command(gobin, append(append([]string{"build", "-trimpath", "-o", bin}, args...), ".")...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

// TestVersionBinary builds graphd as make build and the Dockerfile do (-ldflags -X) and as a plain go build in a
// git checkout (the vcs.revision fallback), and runs `graphd version`. Not parallel, like the other tests that
// build: compiling next to the load tests would starve them.
func TestVersionBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds graphd")
	}
	version := func(t *testing.T, bin string) string {
		t.Helper()
		out, err := exec.Command(bin, "version").Output()
		if err != nil {
			t.Fatalf("graphd version: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	t.Run("Ldflags", func(t *testing.T) {
		bin := buildGraphd(t, t.TempDir(), "-ldflags", "-X main.version=v9.8.7 -X main.commit=0123456789abcdef0123456789abcdef01234567")
		want := "graphd v9.8.7 (commit 0123456789abcdef0123456789abcdef01234567, " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")"
		if got := version(t, bin); got != want {
			t.Errorf("graphd version = %q, want %q", got, want)
		}
	})
	t.Run("VCSRevision", func(t *testing.T) {
		top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
		if err != nil {
			t.Skipf("not in a git checkout (%v): no vcs.revision to fall back on", err)
		}
		// The go command finds git only where .git is a directory: not in a linked worktree or submodule.
		if fi, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err != nil || !fi.IsDir() {
			t.Skip("the checkout's .git is not a directory (a git worktree?): the go command records no vcs.revision here")
		}
		head, err := exec.Command("git", "rev-parse", "HEAD").Output()
		if err != nil {
			t.Fatal(err)
		}
		bin := buildGraphd(t, t.TempDir(), "-buildvcs=true")
		got := version(t, bin)
		// The version is "dev", or the pseudo-version the go command stamps when the checkout is clean.
		if want := " (commit " + strings.TrimSpace(string(head)); !strings.HasPrefix(got, "graphd ") || !strings.Contains(got, want) {
			t.Errorf("graphd version = %q, want %q in it", got, want)
		}
	})
}
