package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	graphd, old := filepath.Join(dir, "graphd"), filepath.Join(dir, "graphd-old")
	for _, f := range []string{graphd, old} {
		if err := os.WriteFile(f, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := func(kv ...string) func(string) string {
		return func(name string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == name {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name    string
		args    []string
		getenv  func(string) string
		check   func(t *testing.T, o options)
		wantErr string
	}{
		{name: "Defaults", args: nil, getenv: env(), check: func(t *testing.T, o options) {
			if o.graphd != graphd || o.baseline != "" || !o.scale || !o.authOff || !o.admin || !o.batch {
				t.Errorf("options = %+v", o)
			}
			if !slices.Equal(o.conns, []int{1, 8, 32, 64}) || !slices.Equal(o.batchConns, []int{8, 32}) || !slices.Equal(o.baselineConns, []int{8, 32}) {
				t.Errorf("lists = %v %v %v", o.conns, o.batchConns, o.baselineConns)
			}
			if o.pairs != minPairs || o.baselinePairs != minBaseline || o.window != 10*time.Second || o.warmup != 2*time.Second {
				t.Errorf("pairs %d, baseline pairs %d, window %v, warm-up %v", o.pairs, o.baselinePairs, o.window, o.warmup)
			}
			if o.baselinePool != defaultPoolSize() {
				t.Errorf("baseline pool %d, want graphd's default %d", o.baselinePool, defaultPoolSize())
			}
		}},
		{name: "BaselineFromEnvironment", getenv: env("BENCH_BASELINE", old, "BENCH_SCALE", "0"), check: func(t *testing.T, o options) {
			if o.baseline != old || o.scale {
				t.Errorf("baseline %q, scale %v; want %q, false", o.baseline, o.scale, old)
			}
		}},
		{name: "BaselineFlagWins", args: []string{"-baseline", old}, getenv: env("BENCH_BASELINE", "/nonexistent"), check: func(t *testing.T, o options) {
			if o.baseline != old {
				t.Errorf("baseline %q, want %q", o.baseline, old)
			}
		}},
		{name: "BaselinePoolFromEnvFlag", args: []string{"-env", "GRAPHD_DB_MAX_CONNS=32"}, getenv: env(), check: func(t *testing.T, o options) {
			if o.baselinePool != 32 || o.env.String() != "GRAPHD_DB_MAX_CONNS=32" {
				t.Errorf("baseline pool %d, env %q", o.baselinePool, o.env.String())
			}
		}},
		{name: "ShortRun", args: []string{"-duration", "2s", "-warmup", "1s", "-pairs", "3", "-scale=false", "-conns", "8, 32", "-batch-conns", "8", "-baseline-pairs", "6"}, getenv: env(),
			check: func(t *testing.T, o options) {
				if o.window != 2*time.Second || o.scale || !slices.Equal(o.conns, []int{8, 32}) || !slices.Equal(o.batchConns, []int{8}) || o.baselinePairs != 6 {
					t.Errorf("options = %+v", o)
				}
			}},
		{name: "ErrTooFewPairs", args: []string{"-pairs", "2"}, getenv: env(), wantErr: "-pairs must be at least 3"},
		{name: "ErrTooFewBaselinePairs", args: []string{"-baseline-pairs", "4"}, getenv: env(), wantErr: "-baseline-pairs must be at least 5"},
		{name: "ErrFractionalDuration", args: []string{"-duration", "1500ms"}, getenv: env(), wantErr: "whole seconds"},
		{name: "ErrBadList", args: []string{"-conns", "8,x"}, getenv: env(), wantErr: "-conns"},
		{name: "ErrZeroInList", args: []string{"-batch-conns", "0"}, getenv: env(), wantErr: "-batch-conns"},
		{name: "ErrFixedEnv", args: []string{"-env", "GRAPHD_AUTH=none"}, getenv: env(), wantErr: "set by the bench"},
		{name: "ErrNotGraphdEnv", args: []string{"-env", "PGHOST=x"}, getenv: env(), wantErr: "want GRAPHD_NAME=value"},
		{name: "ErrBadPoolInEnv", args: []string{"-env", "GRAPHD_DB_MAX_CONNS=lots"}, getenv: env(), wantErr: "want a positive number"},
		{name: "ErrMissingBaseline", args: []string{"-baseline", filepath.Join(dir, "absent")}, getenv: env(), wantErr: "-baseline"},
		{name: "ErrFewRows", args: []string{"-rows", "10"}, getenv: env(), wantErr: "-rows must be at least 20"},
		{name: "ErrArgument", args: []string{"extra"}, getenv: env(), wantErr: "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseOptions(append([]string{"-graphd", graphd}, tt.args...), tt.getenv, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseOptions(%q) = %v, want an error containing %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseOptions(%q): %v", tt.args, err)
			}
			tt.check(t, o)
		})
	}
}
