package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestBufferedLogger(t *testing.T) {
	t.Parallel()
	t.Run("InfoWaitsForTheInterval", func(t *testing.T) {
		t.Parallel()
		var out syncBuffer
		log, buf := newBufferedLogger(&out, slog.LevelInfo)
		defer buf.Close()
		log.Info("request", "n", 1)
		if got := out.String(); got != "" {
			t.Fatalf("an info line reached the output at once: %q", got)
		}
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(out.String(), `"n":1`) {
			if time.Now().After(deadline) {
				t.Fatal("the info line never reached the output")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("WarningsFlushAtOnce", func(t *testing.T) {
		t.Parallel()
		var out syncBuffer
		log, buf := newBufferedLogger(&out, slog.LevelInfo)
		defer buf.Close()
		log.Info("before")
		log.With("k", "v").Error("panic", "stack", "…")
		got := out.String()
		if !strings.Contains(got, `"msg":"before"`) || !strings.Contains(got, `"msg":"panic"`) || !strings.Contains(got, `"k":"v"`) {
			t.Fatalf("an error did not flush the buffer with it: %q", got)
		}
	})
	t.Run("CloseFlushes", func(t *testing.T) {
		t.Parallel()
		var out syncBuffer
		log, buf := newBufferedLogger(&out, slog.LevelInfo)
		for i := range 100 {
			log.Info("request", "i", i)
		}
		buf.Close()
		if n := strings.Count(out.String(), `"msg":"request"`); n != 100 {
			t.Fatalf("%d lines after Close, want 100", n)
		}
	})
	t.Run("FullBufferFlushes", func(t *testing.T) {
		t.Parallel()
		var out syncBuffer
		log, buf := newBufferedLogger(&out, slog.LevelInfo)
		defer buf.Close()
		big := strings.Repeat("x", logBufferSize/4)
		for range 5 {
			log.Info("big", "v", big)
		}
		if n := strings.Count(out.String(), `"msg":"big"`); n < 3 {
			t.Fatalf("%d lines out while the buffer overflowed, want at least 3", n)
		}
		log.Info("huge", "v", strings.Repeat("y", 2*logBufferSize))
		if !strings.Contains(out.String(), `"msg":"huge"`) {
			t.Fatal("a line larger than the buffer was held back")
		}
	})
}
