package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// serve's log is buffered: one access-log line per request would otherwise cost a write system call per request.
// Lines collect in memory and reach stderr at least every logFlushInterval, whenever logBufferSize bytes have
// collected, at once for warnings and errors (a panic's stack among them), and when serve stops. A SIGKILL or a
// crash of the process itself may lose the last interval's lines.
const (
	logFlushInterval = 100 * time.Millisecond
	logBufferSize    = 64 << 10
)

// bufferedWriter collects writes and passes them on in batches.
type bufferedWriter struct {
	mu   sync.Mutex
	w    io.Writer
	buf  []byte
	stop chan struct{}
	done chan struct{}
}

func newBufferedWriter(w io.Writer) *bufferedWriter {
	b := &bufferedWriter{w: w, buf: make([]byte, 0, logBufferSize), stop: make(chan struct{}), done: make(chan struct{})}
	go b.loop()
	return b
}

func (b *bufferedWriter) loop() {
	defer close(b.done)
	t := time.NewTicker(logFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.Flush()
		case <-b.stop:
			return
		}
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > logBufferSize {
		b.flushLocked()
	}
	if len(p) > logBufferSize {
		return b.w.Write(p)
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Flush writes what has collected.
func (b *bufferedWriter) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *bufferedWriter) flushLocked() {
	if len(b.buf) > 0 {
		_, _ = b.w.Write(b.buf)
		b.buf = b.buf[:0]
	}
}

// Close stops the periodic flush and writes what remains.
func (b *bufferedWriter) Close() {
	close(b.stop)
	<-b.done
	b.Flush()
}

// flushingHandler flushes the buffer after every record at or above Warn, so that problems are seen at once.
type flushingHandler struct {
	slog.Handler
	buf *bufferedWriter
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.buf.Flush()
	}
	return err
}

func (h flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(attrs), h.buf}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.buf}
}

// newBufferedLogger is serve's logger: JSON lines through a bufferedWriter. Close the writer when serve stops.
func newBufferedLogger(w io.Writer, level slog.Level) (*slog.Logger, *bufferedWriter) {
	buf := newBufferedWriter(w)
	return slog.New(flushingHandler{slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: level}), buf}), buf
}
