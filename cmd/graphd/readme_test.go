package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/graphd/graphd/store/storetest"
)

// readmeChunk is one command of README.md's "Try it" section: its shell lines and the "# → " lines that show what
// it prints.
type readmeChunk struct {
	line   int // where it starts in README.md
	script string
	expect []string
}

// readmeTryIt returns the commands of the sh blocks in README.md's "Try it" section. A chunk ends at a blank line
// or at its last "# → " line; other comment lines are kept as shell comments.
func readmeTryIt(tb testing.TB, readme string) []readmeChunk {
	tb.Helper()
	lines := strings.Split(readme, "\n")
	var chunks []readmeChunk
	var cur *readmeChunk
	flush := func() {
		if cur != nil && strings.TrimSpace(cur.script) != "" {
			chunks = append(chunks, *cur)
		}
		cur = nil
	}
	inSection, inBlock := false, false
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "## "):
			inSection = l == "## Try it"
		case !inSection:
		case l == "```sh":
			inBlock = true
		case l == "```":
			flush()
			inBlock = false
		case !inBlock:
		case strings.TrimSpace(l) == "":
			flush()
		case strings.HasPrefix(l, "# → "):
			if cur == nil {
				tb.Fatalf("README.md:%d: a '# → ' line without a command before it", i+1)
			}
			cur.expect = append(cur.expect, strings.TrimPrefix(l, "# → "))
		default:
			if cur != nil && len(cur.expect) > 0 {
				flush() // the previous command's output ended; this line starts the next command
			}
			if cur == nil {
				cur = &readmeChunk{line: i + 1}
			}
			cur.script += l + "\n"
		}
	}
	flush()
	return chunks
}

// expectation turns a "# → " line into a pattern for one line of output: literal text where "…" stands for
// anything.
func expectation(want string) *regexp.Regexp {
	parts := strings.Split(want, "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// TestReadmeTryIt runs README.md's "Try it" commands as a new user would after `make run`, with bin/graphd built
// from this tree and the server on a free port instead of 8080, and checks every output the README states. Not
// parallel: it builds graphd (see TestVersionBinary).
func TestReadmeTryIt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds graphd")
	}
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: %v", tool, err)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	chunks := readmeTryIt(t, string(readme))
	if len(chunks) < 10 {
		t.Fatalf("found %d commands in README.md's Try it section; the parser or the README changed", len(chunks))
	}

	// The checkout a new user has after make run: bin/graphd and examples/.
	work := t.TempDir()
	buildGraphd(t, work)
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(examples, filepath.Join(work, "examples")); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	dbURL := storetest.URL(t)
	startServer(t, env("DATABASE_URL", dbURL, "GRAPHD_ADDR", addr), addr)

	// One shell for all commands, as in a terminal; each command's output goes to its own file.
	outDir := t.TempDir()
	var script strings.Builder
	script.WriteString("set -u\n")
	for i, c := range chunks {
		fmt.Fprintf(&script, "{\n%s} >%s/%d.out 2>&1\necho $? >%s/%d.rc\n", strings.ReplaceAll(c.script, "127.0.0.1:8080", addr), outDir, i, outDir, i)
	}
	cmd := exec.CommandContext(t.Context(), "bash", "-c", script.String())
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "GRAPHD_ADDR="+addr)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}

	for i, c := range chunks {
		out, _ := os.ReadFile(fmt.Sprintf("%s/%d.out", outDir, i))
		rc, _ := os.ReadFile(fmt.Sprintf("%s/%d.rc", outDir, i))
		got := strings.Split(strings.ReplaceAll(string(out), "\r", ""), "\n")
		if strings.TrimSpace(string(rc)) != "0" {
			t.Errorf("README.md:%d: exit status %s\n%s\noutput:\n%s", c.line, strings.TrimSpace(string(rc)), c.script, out)
			continue
		}
		for _, want := range c.expect {
			re := expectation(strings.ReplaceAll(want, "127.0.0.1:8080", addr))
			found := false
			for _, l := range got {
				if re.MatchString(l) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("README.md:%d: the output has no line\n\t%s\ncommand:\n%s\noutput:\n%s", c.line, want, c.script, out)
			}
		}
	}
}

func TestReadmeParser(t *testing.T) {
	t.Parallel()
	readme := "## Other\n```sh\nignored\n```\n## Try it\ntext\n```sh\n# a comment\nA=1\n\ncurl x \\\n  -d y\n# → out 1\n# → out 2\nnext\n# → out 3\n```\n## Next\n"
	got := readmeTryIt(t, readme)
	want := []readmeChunk{
		{line: 8, script: "# a comment\nA=1\n"},
		{line: 11, script: "curl x \\\n  -d y\n", expect: []string{"out 1", "out 2"}},
		{line: 15, script: "next\n", expect: []string{"out 3"}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("readmeTryIt =\n%+v\nwant\n%+v", got, want)
	}
	for _, tc := range []struct {
		pattern, line string
		match         bool
	}{
		{`{"a":"…","b":1}`, `{"a":"x y","b":1}`, true},
		{`{"a":"…","b":1}`, `{"a":"x","b":2}`, false},
		{`Etag: W/"3"`, `Etag: W/"3"`, true},
		{`1`, `10`, false},
		{`$metadata#(x)`, `$metadata#(x)`, true},
	} {
		if got := expectation(tc.pattern).MatchString(tc.line); got != tc.match {
			t.Errorf("expectation(%q) matches %q = %v, want %v", tc.pattern, tc.line, got, tc.match)
		}
	}
}
