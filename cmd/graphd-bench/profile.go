package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// profile is a system-wide CPU profile (perf record -a -g) of a PATCH run, summarized by perf report.
type profile struct {
	byCommand    []string // share of all samples per command (graphd, postgres, graphd-bench, others)
	graphdSelf   []string // graphd's hottest functions by their own samples, as shares of graphd's samples
	graphdIncl   []string // graphd's own functions including their callees, as shares of graphd's samples
	postgresSelf []string // postgres's hottest functions, as shares of postgres's samples
}

// recordProfile samples every CPU at freq Hz for d into file. It needs perf (Debian: linux-perf) and the
// right to profile other processes (root, or kernel.perf_event_paranoid ≤ 0).
func recordProfile(ctx context.Context, perf, file string, d time.Duration) error {
	cmd := exec.CommandContext(ctx, perf, "record", "-a", "-g", "-F", "499", "-o", file, "--", "sleep", strconv.Itoa(int(d.Seconds())))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("perf record: %w\n%s", err, out)
	}
	return nil
}

func summarizeProfile(ctx context.Context, perf, file string) (profile, error) {
	var p profile
	report := func(limit int, userOnly bool, args ...string) ([]string, error) {
		base := []string{"report", "-i", file, "--stdio", "-g", "none", "--percent-limit", "0.5"}
		out, err := exec.CommandContext(ctx, perf, append(base, args...)...).Output()
		if err != nil {
			return nil, fmt.Errorf("perf report %s: %w", strings.Join(args, " "), err)
		}
		var lines []string
		for line := range strings.Lines(string(out)) {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") || userOnly && strings.Contains(line, "[k]") {
				continue
			}
			lines = append(lines, strings.Join(strings.Fields(line), " "))
			if len(lines) == limit {
				break
			}
		}
		return lines, nil
	}
	var err error
	if p.byCommand, err = report(8, false, "--no-children", "--sort", "comm"); err != nil {
		return p, err
	}
	if p.graphdSelf, err = report(25, false, "--no-children", "--comms", "graphd", "--percentage", "relative", "--sort", "dso,sym"); err != nil {
		return p, err
	}
	if p.graphdIncl, err = report(30, true, "--children", "--comms", "graphd", "--percentage", "relative", "--sort", "sym"); err != nil {
		return p, err
	}
	if p.postgresSelf, err = report(15, false, "--no-children", "--comms", "postgres", "--percentage", "relative", "--sort", "dso,sym"); err != nil {
		return p, err
	}
	return p, nil
}
