package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// clockTick is USER_HZ, the unit of /proc's CPU times (100 on every Linux architecture Go supports).
const clockTick = 10 * time.Millisecond

// procTimes reads a process's CPU time from /proc/PID/stat: its own, and that of its children it has reaped
// (which is where the CPU of a PostgreSQL backend goes when its session ends).
func procTimes(pid int) (self, reaped time.Duration, ppid int, err error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, 0, err
	}
	// The command name (field 2) may hold spaces and parentheses; the fields after the last ')' do not.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 15 {
		return 0, 0, 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	num := func(k int) time.Duration { v, _ := strconv.ParseInt(f[k], 10, 64); return time.Duration(v) * clockTick }
	ppid, _ = strconv.Atoi(f[1])
	// f[0] is field 3 (state): utime, stime, cutime, cstime are fields 14-17.
	return num(11) + num(12), num(13) + num(14), ppid, nil
}

// treeCPU is the CPU time of the postmaster, every live child of it (backends, WAL writer, checkpointer,
// autovacuum) and the children it has reaped.
func treeCPU(root int) time.Duration {
	self, reaped, _, err := procTimes(root)
	if err != nil {
		return 0
	}
	total := self + reaped
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == root {
			continue
		}
		if self, _, ppid, err := procTimes(pid); err == nil && ppid == root {
			total += self
		}
	}
	return total
}

func processCPU(pid int) time.Duration {
	self, _, _, _ := procTimes(pid)
	return self
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineCPU returns the busy and total CPU time of the whole machine since boot, from /proc/stat.
func machineCPU() (busy, total time.Duration) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0
	}
	var sum, idle int64
	for i, s := range f[1:] {
		if i >= 8 { // guest time is already counted in user time
			break
		}
		v, _ := strconv.ParseInt(s, 10, 64)
		sum += v
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		}
	}
	return time.Duration(sum-idle) * clockTick, time.Duration(sum) * clockTick
}

// memory returns a process's resident set size and its peak (VmRSS, VmHWM) in KiB.
func memory(pid int) (rss, hwm int64) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		switch name {
		case "VmRSS":
			rss = kb
		case "VmHWM":
			hwm = kb
		}
	}
	return rss, hwm
}

// snapshot is the counters a measured window is the difference of.
type snapshot struct {
	at                     time.Time
	graphd, postgres, self time.Duration
	busy, total            time.Duration
	walSync, walFPI        int64
	walBytes               int64
}

// probe takes snapshots of graphd, its cluster, this process and the machine.
type probe struct {
	db            *pgx.Conn
	graphdPID     int
	postmasterPID int
}

func (p *probe) snapshot(ctx context.Context) snapshot {
	s := snapshot{at: time.Now(), graphd: processCPU(p.graphdPID), postgres: treeCPU(p.postmasterPID), self: selfCPU()}
	s.busy, s.total = machineCPU()
	// pg_stat_wal lags by up to a second (backends flush their counts periodically); over a 10 s window
	// the lag at both ends mostly cancels.
	err := p.db.QueryRow(ctx, "SELECT wal_sync, wal_fpi, wal_bytes::bigint FROM pg_stat_wal").Scan(&s.walSync, &s.walFPI, &s.walBytes)
	if err != nil {
		s.walSync, s.walFPI, s.walBytes = -1, -1, -1
	}
	return s
}

// cost is where a window's CPU went, per completed request or transaction.
type cost struct {
	requests                               int
	graphd, postgres, client, other        time.Duration // CPU per request
	otherCores                             float64       // CPU used by processes outside the benchmark, in cores
	machineCores                           float64       // CPU used by everything, in cores
	walSyncsPerReq, fpiPerReq, walKBPerReq float64       // -1: unknown
}

// costOf divides the CPU and WAL spent between two snapshots by the requests completed. client is the load
// generator's CPU: this process's unless clientCPU (a pgbench child's) is given.
func costOf(a, b snapshot, requests int, clientCPU time.Duration) cost {
	c := cost{requests: requests, walSyncsPerReq: -1, fpiPerReq: -1, walKBPerReq: -1}
	if requests == 0 {
		return c
	}
	wall := b.at.Sub(a.at)
	graphd, postgres, self := b.graphd-a.graphd, b.postgres-a.postgres, b.self-a.self
	client := self
	if clientCPU > 0 {
		client += clientCPU
	}
	busy := b.busy - a.busy
	other := max(0, busy-graphd-postgres-client)
	per := func(d time.Duration) time.Duration { return d / time.Duration(requests) }
	c.graphd, c.postgres, c.client, c.other = per(graphd), per(postgres), per(client), per(other)
	c.otherCores = other.Seconds() / wall.Seconds()
	c.machineCores = busy.Seconds() / wall.Seconds()
	if a.walSync >= 0 && b.walSync >= 0 {
		n := float64(requests)
		c.walSyncsPerReq = float64(b.walSync-a.walSync) / n
		c.fpiPerReq = float64(b.walFPI-a.walFPI) / n
		c.walKBPerReq = float64(b.walBytes-a.walBytes) / 1024 / n
	}
	return c
}

// activity is what pg_stat_activity showed about the load's database sessions, sampled every 100 ms.
type activity struct {
	samples        int
	sessions       int            // summed over samples
	active         int            // summed over samples
	waits          map[string]int // wait event of active sessions ("CPU" for none), summed over samples
	sampleFailures int
}

func (a *activity) avgSessions() float64 { return float64(a.sessions) / float64(max(1, a.samples)) }
func (a *activity) avgActive() float64   { return float64(a.active) / float64(max(1, a.samples)) }

// topWaits renders the most frequent wait events of active sessions as shares of all active samples.
func (a *activity) topWaits(n int) string {
	if a.active == 0 {
		return "-"
	}
	keys := slices.SortedFunc(maps.Keys(a.waits), func(x, y string) int { return a.waits[y] - a.waits[x] })
	var parts []string
	for _, k := range keys[:min(n, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", k, 100*float64(a.waits[k])/float64(a.active)))
	}
	return strings.Join(parts, ", ")
}

// sampleActivity samples the sessions whose application_name keep accepts until ctx is done.
func sampleActivity(ctx context.Context, db *pgx.Conn, keep func(app string) bool) *activity {
	a := &activity{waits: map[string]int{}}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return a
		case <-tick.C:
		}
		rows, err := db.Query(context.WithoutCancel(ctx), `SELECT application_name, state, coalesce(wait_event_type || ':' || wait_event, '')
			FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname = current_database() AND pid <> pg_backend_pid()`)
		if err != nil {
			a.sampleFailures++
			continue
		}
		a.samples++
		for rows.Next() {
			var app, state, wait string
			var st *string
			if err := rows.Scan(&app, &st, &wait); err != nil {
				break
			}
			if st != nil {
				state = *st
			}
			if !keep(app) {
				continue
			}
			a.sessions++
			if state == "active" {
				a.active++
				if wait == "" {
					wait = "CPU"
				}
				a.waits[wait]++
			}
		}
		rows.Close()
	}
}
